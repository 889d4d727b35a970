/** Types for the reference implementation used as the tests' oracle (the package ships none). */
declare module 'murmurhash3js-revisited' {
  const murmurHash3: {
    readonly x86: {
      hash32(bytes: Uint8Array | readonly number[], seed?: number): number;
      hash128(bytes: Uint8Array | readonly number[], seed?: number): string;
    };
    readonly x64: { hash128(bytes: Uint8Array | readonly number[], seed?: number): string };
    inputValidation: boolean;
  };
  export default murmurHash3;
}
