/**
 * A minimal protobuf wire-format reader: tags, varints, length-delimited fields, fixed32/fixed64.
 * Enough to read the parts of an ONNX model the loader needs without shipping a protobuf runtime
 * to the page (onnx-proto + protobufjs were ~118 KB of the minified browser bundle). Internal:
 * `onnx-graph-reader.ts` is its only user.
 *
 * Every read is bounds-checked against the message's end, so truncated, oversized or malformed
 * input throws `CtrkitError` `E_MODEL_LOAD` naming the byte offset; every read advances, so no
 * input can make a loop spin. Nothing is copied: bytes and sub-messages are `subarray` views.
 */
import { CtrkitError } from '@ctrkit/core';

/** @internal Wire type of a varint field (int32, int64, uint64, bool, enum). */
export const WIRE_VARINT = 0;
/** @internal Wire type of a fixed 8-byte field (fixed64, sfixed64, double). */
export const WIRE_FIXED64 = 1;
/** @internal Wire type of a length-delimited field (string, bytes, sub-message, packed repeated). */
export const WIRE_LENGTH = 2;
/** @internal Wire type of a fixed 4-byte field (fixed32, sfixed32, float). */
export const WIRE_FIXED32 = 5;

const TWO_TO_32 = 4294967296;

const utf8 = new TextDecoder('utf-8');

/**
 * @internal Reads one protobuf message, field by field: call {@link ProtobufReader.next} until it
 * returns false, then read the field it announced (`field`, `wire`) or `skip()` it. Internal to
 * `@ctrkit/models` (no entry exports it), so it carries no public example.
 */
export class ProtobufReader {
  /** Offset of the next byte to read. */
  pos: number;
  /** Number of the field {@link next} read (valid after it returns true). */
  field = 0;
  /** Wire type of that field. */
  wire = 0;
  /** Low and high 32 bits of the last varint, unsigned. */
  private lo = 0;
  private hi = 0;

  /**
   * @param bytes - The buffer holding the message.
   * @param start - Offset of the message's first byte (default 0).
   * @param end - Offset just past its last byte (default the buffer's length).
   */
  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** True when every byte of the message has been read. */
  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private fail(problem: string, at = this.pos): never {
    throw new CtrkitError('E_MODEL_LOAD', `protobuf ${problem} at byte ${at}`);
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail('message truncated inside a varint');
    return this.bytes[this.pos++] as number;
  }

  /** Reads a varint into `lo`/`hi` (at most 10 bytes, as the format allows). */
  private varint(): void {
    const start = this.pos;
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    // The fifth byte straddles the two halves: 4 bits to the low word, 3 to the high.
    b = this.byte();
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x70) >> 4;
    if (b < 0x80) {
      this.lo = lo >>> 0;
      this.hi = hi;
      return;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes', start);
  }

  /**
   * Reads the next field's tag.
   *
   * @returns false at the end of the message; true with {@link field} and {@link wire} set.
   * @throws `CtrkitError` `E_MODEL_LOAD` on a malformed tag (field number 0 or past 2^29 - 1).
   */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const start = this.pos;
    this.varint();
    if (this.hi !== 0) this.fail('tag wider than 32 bits', start);
    this.field = this.lo >>> 3;
    this.wire = this.lo & 7;
    if (this.field === 0) this.fail('field number 0', start);
    return true;
  }

  /**
   * Throws unless the current field has the wire type the schema gives it.
   *
   * @param wire - The expected wire type.
   * @param where - The field's name in the schema, for the message.
   * @throws `CtrkitError` `E_MODEL_LOAD` on a mismatch.
   */
  expect(wire: number, where: string): void {
    if (this.wire !== wire) this.fail(`field ${where} (${this.field}) has wire type ${this.wire}, expected ${wire}`);
  }

  /**
   * Reads a varint field as a signed 32-bit integer (int32, enum), as protobuf truncates it.
   *
   * @returns The value.
   */
  int32(): number {
    this.varint();
    return this.lo | 0;
  }

  /**
   * Reads a varint field as a signed 64-bit integer, returned as a number (exact to ±2^53).
   *
   * @returns The value.
   */
  int64(): number {
    this.varint();
    if ((this.hi & 0x80000000) === 0) return this.hi * TWO_TO_32 + this.lo;
    // Two's complement: negate the 64-bit value word by word (~x + 1, carrying into the high word).
    const lo = (~this.lo + 1) >>> 0;
    const hi = (~this.hi + (lo === 0 ? 1 : 0)) >>> 0;
    return -(hi * TWO_TO_32 + lo);
  }

  /** Reads a length prefix and checks it fits in what is left of the message. */
  private length(): number {
    const start = this.pos;
    this.varint();
    const left = this.end - this.pos;
    if (this.hi !== 0 || this.lo > left) this.fail(`length ${this.hi === 0 ? this.lo : 'over 2^32'} runs past the end of the message (${left} bytes left)`, start);
    return this.lo;
  }

  /**
   * Reads a length-delimited field as bytes.
   *
   * @returns A view into the buffer (not a copy).
   */
  bytesView(): Uint8Array {
    const n = this.length();
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /**
   * Reads a length-delimited field as UTF-8 text (invalid sequences become U+FFFD).
   *
   * @returns The text.
   */
  string(): string {
    return utf8.decode(this.bytesView());
  }

  /**
   * Reads a length-delimited field as an embedded message.
   *
   * @returns A reader over that message, sharing the buffer.
   */
  message(): ProtobufReader {
    const n = this.length();
    const reader = new ProtobufReader(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return reader;
  }

  /**
   * Reads a fixed32 field's 4 bytes.
   *
   * @returns A view of them (little-endian, as on the wire).
   */
  fixed32Bytes(): Uint8Array {
    if (this.end - this.pos < 4) this.fail('message truncated inside a fixed32');
    const view = this.bytes.subarray(this.pos, this.pos + 4);
    this.pos += 4;
    return view;
  }

  /**
   * Skips the current field's value, whatever its wire type.
   *
   * @throws `CtrkitError` `E_MODEL_LOAD` on a truncated value or a wire type ONNX never uses
   * (3 and 4, the deprecated groups; 6 and 7 do not exist).
   */
  skip(): void {
    switch (this.wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) this.fail('message truncated inside a fixed64');
        this.pos += 8;
        return;
      case WIRE_LENGTH: {
        // Not `this.pos += this.length()`: that reads pos before length() moves it past the prefix.
        const n = this.length();
        this.pos += n;
        return;
      }
      case WIRE_FIXED32:
        this.fixed32Bytes();
        return;
      default:
        this.fail(`field ${this.field} has wire type ${this.wire}, which ONNX does not use`);
    }
  }
}
