/**
 * A reader for IAB Global Privacy Platform strings: the header (section ids, Fibonacci-coded
 * ranges) and the opt-out fields of the US sections whose layout is fixed. Only what consent
 * gating needs; anything it cannot read is reported, never guessed.
 */

/** @internal GPP section ids this package can evaluate, and what they are. */
export const GPP_SECTIONS = {
  tcfeuv2: 2,
  uspv1: 6,
  usnat: 7,
  usca: 8,
  usva: 9,
  usco: 10,
  usut: 11,
  usct: 12,
} as const;

/**
 * Bit offsets of the opt-out fields in each US section's core segment (2-bit fields: 0 = not
 * applicable, 1 = opted out, 2 = did not opt out). After the 6-bit version come the notice
 * fields, whose number differs per section (IAB GPP US section specifications).
 */
const US_OPT_OUT_FIELDS: Readonly<Record<number, readonly (readonly [string, number])[]>> = {
  7: [
    ['SaleOptOut', 18],
    ['SharingOptOut', 20],
    ['TargetedAdvertisingOptOut', 22],
  ],
  8: [
    ['SaleOptOut', 12],
    ['SharingOptOut', 14],
  ],
  9: [
    ['SaleOptOut', 12],
    ['TargetedAdvertisingOptOut', 14],
  ],
  10: [
    ['SaleOptOut', 12],
    ['TargetedAdvertisingOptOut', 14],
  ],
  11: [
    ['SaleOptOut', 14],
    ['TargetedAdvertisingOptOut', 16],
  ],
  12: [
    ['SaleOptOut', 12],
    ['TargetedAdvertisingOptOut', 14],
  ],
};

const SECTION_NAMES: Readonly<Record<number, string>> = {
  1: 'tcfeuv1',
  2: 'tcfeuv2',
  3: 'header',
  5: 'tcfcav1',
  6: 'uspv1',
  7: 'usnat',
  8: 'usca',
  9: 'usva',
  10: 'usco',
  11: 'usut',
  12: 'usct',
};

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64URL.length; i++) DECODE[BASE64URL.charCodeAt(i)] = i;

/** @internal A malformed GPP string or section. */
export class GppDecodeError extends Error {
  override readonly name = 'GppDecodeError';
}

/** Reads bits, most significant first, from a base64url string (6 bits a character). */
class BitReader {
  private position = 0;
  private readonly bits: Uint8Array;

  constructor(text: string) {
    this.bits = new Uint8Array(text.length * 6);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const value = code < 128 ? (DECODE[code] as number) : -1;
      if (value < 0) throw new GppDecodeError(`"${text[i]}" at ${i} is not a base64url character`);
      for (let b = 0; b < 6; b++) this.bits[i * 6 + b] = (value >> (5 - b)) & 1;
    }
  }

  get length(): number {
    return this.bits.length;
  }

  int(width: number): number {
    if (this.position + width > this.bits.length) throw new GppDecodeError(`needs ${width} more bits at bit ${this.position} of ${this.bits.length}`);
    let value = 0;
    for (let b = 0; b < width; b++) value = value * 2 + (this.bits[this.position++] as number);
    return value;
  }

  intAt(offset: number, width: number): number {
    this.position = offset;
    return this.int(width);
  }

  /** A Fibonacci-coded integer: bit i weighs F(i+2) (1, 2, 3, 5, …); "11" ends it. */
  fibonacci(): number {
    let value = 0;
    let a = 1;
    let b = 2;
    let previous = 0;
    for (;;) {
      if (this.position >= this.bits.length) throw new GppDecodeError('a Fibonacci integer runs past the end of the header');
      const bit = this.bits[this.position++] as number;
      if (bit === 1 && previous === 1) return value;
      if (bit === 1) value += a;
      previous = bit;
      const next = a + b;
      a = b;
      b = next;
      if (a > Number.MAX_SAFE_INTEGER) throw new GppDecodeError('a Fibonacci integer is too large');
    }
  }
}

/**
 * Decodes a GPP header segment into its section ids (type 3, version 1, then a Fibonacci range).
 *
 * @internal
 */
export function decodeGppHeader(header: string): number[] {
  const reader = new BitReader(header);
  const type = reader.int(6);
  if (type !== 3) throw new GppDecodeError(`header type is ${type}, expected 3`);
  const version = reader.int(6);
  if (version !== 1) throw new GppDecodeError(`header version ${version} is not supported (expected 1)`);
  const count = reader.int(12);
  const ids: number[] = [];
  let offset = 0;
  for (let e = 0; e < count; e++) {
    const isRange = reader.int(1) === 1;
    if (isRange) {
      const start = reader.fibonacci() + offset;
      const end = reader.fibonacci() + start;
      if (end - start > 64) throw new GppDecodeError(`section range ${start}–${end} is implausibly long`);
      for (let id = start; id <= end; id++) ids.push(id);
      offset = end;
    } else {
      const id = reader.fibonacci() + offset;
      ids.push(id);
      offset = id;
    }
  }
  return ids;
}

/** The sections of a GPP string, keyed by id. @internal */
export interface ParsedGpp {
  readonly sectionIds: readonly number[];
  readonly sections: ReadonlyMap<number, string>;
}

/**
 * Splits a GPP string (`header~section~section…`) and decodes its header.
 *
 * @internal
 */
export function parseGpp(gpp: string): ParsedGpp {
  const parts = gpp.split('~');
  const header = parts[0] ?? '';
  if (header.length === 0) throw new GppDecodeError('empty header');
  const sectionIds = decodeGppHeader(header);
  if (parts.length - 1 !== sectionIds.length) {
    throw new GppDecodeError(`header lists ${sectionIds.length} sections (${sectionIds.join(', ')}) but the string has ${parts.length - 1}`);
  }
  const sections = new Map<number, string>();
  sectionIds.forEach((id, i) => sections.set(id, parts[i + 1] as string));
  return { sectionIds, sections };
}

/** Verdict on one US section. @internal */
export interface UsSectionVerdict {
  /** Opt-out fields set to 1 (opted out), by name; GPC when the GPC subsection says so. */
  readonly optedOut: readonly string[];
}

/**
 * Reads the sale / sharing / targeted-advertising opt-outs (and the GPC subsection, when
 * present) of a US section (ids 7–12).
 *
 * @internal
 */
export function readUsSection(id: number, section: string): UsSectionVerdict {
  const fields = US_OPT_OUT_FIELDS[id];
  if (fields === undefined) throw new GppDecodeError(`section ${id} is not a US section this reader knows`);
  const [core, ...subsections] = section.split('.');
  if (core === undefined || core.length === 0) throw new GppDecodeError(`section ${sectionName(id)} is empty`);
  const reader = new BitReader(core);
  const version = reader.int(6);
  if (version < 1) throw new GppDecodeError(`section ${sectionName(id)} has version ${version}`);
  const optedOut: string[] = [];
  for (const [name, offset] of fields) {
    const value = reader.intAt(offset, 2);
    if (value === 3) throw new GppDecodeError(`section ${sectionName(id)} field ${name} holds 3, which no version defines`);
    if (value === 1) optedOut.push(name);
  }
  for (const subsection of subsections) {
    if (subsection.length === 0) continue;
    const sub = new BitReader(subsection);
    const type = sub.int(2);
    // Subsection type 1 is the GPC segment: one bit, set when the browser sent Global Privacy Control.
    if (type === 1 && sub.int(1) === 1) optedOut.push('Gpc');
  }
  return { optedOut };
}

/** @internal The short name of a GPP section id. */
export function sectionName(id: number): string {
  return SECTION_NAMES[id] ?? `section ${id}`;
}
