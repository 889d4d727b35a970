/**
 * A protobuf wire-format encoder for tests: hand-made messages that onnx-proto's encoder would not
 * write (packed dims, unpacked float_data, 10-byte varints, wrong wire types, lies about lengths).
 * Kept naive on purpose (BigInt, arrays of numbers), as an independent reference for the reader.
 */

/** The varint encoding of a 64-bit value (negative values as their two's complement, 10 bytes). */
export function varint(value: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

/** A field's tag. */
export function tag(field: number, wire: number): number[] {
  return varint(BigInt(field) * 8n + BigInt(wire));
}

/** A varint field. */
export function varintField(field: number, value: bigint | number): number[] {
  return [...tag(field, 0), ...varint(value)];
}

/** A length-delimited field holding `bytes`. */
export function lengthField(field: number, bytes: readonly number[]): number[] {
  return [...tag(field, 2), ...varint(bytes.length), ...bytes];
}

/** A string field (UTF-8). */
export function stringField(field: number, text: string): number[] {
  return lengthField(field, [...new TextEncoder().encode(text)]);
}

/** A fixed32 field holding a float (little-endian). */
export function floatField(field: number, value: number): number[] {
  return [...tag(field, 5), ...floatBytes([value])];
}

/** Floats as little-endian bytes. */
export function floatBytes(values: readonly number[]): number[] {
  return [...new Uint8Array(new Float32Array(values).buffer)];
}

/** Concatenates parts into bytes. */
export function bytesOf(...parts: (readonly number[])[]): Uint8Array {
  return Uint8Array.from(parts.flat());
}
