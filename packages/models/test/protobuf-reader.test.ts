import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCtrkitError } from '@ctrkit/core';
import { ProtobufReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT } from '../src/protobuf-reader.js';
import { ctrkitErrorThrownBy } from '@ctrkit/test-support';
import { bytesOf, floatField, lengthField, stringField, tag, varint, varintField } from './fixtures/protobuf-encode.js';

const INT64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

describe('ProtobufReader varints', () => {
  it('reads int64 like the two’s-complement reference, from 1 to 10 bytes (as Number(v) rounds past 2^53)', () => {
    fc.assert(
      fc.property(INT64, (v) => {
        const reader = new ProtobufReader(bytesOf(varint(v)));
        expect(reader.int64()).toBe(Number(v));
        expect(reader.atEnd).toBe(true);
      }),
      { numRuns: 2000 },
    );
    for (const v of [0n, 1n, 127n, 128n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 32n, 2n ** 53n, -1n, -(2n ** 32n), -(2n ** 63n)]) {
      expect(new ProtobufReader(bytesOf(varint(v))).int64()).toBe(Number(v));
    }
  });

  it('reads int32 (and enums) as protobuf truncates them, negatives sign-extended to 10 bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        expect(new ProtobufReader(bytesOf(varint(v))).int32()).toBe(v);
      }),
    );
    expect(varint(-1)).toHaveLength(10);
  });

  it('refuses a varint longer than 10 bytes or cut short, naming the byte', () => {
    const long = ctrkitErrorThrownBy(() => new ProtobufReader(bytesOf(new Array(10).fill(0x80), [0x01])).int64());
    expect(long).toMatchObject({ code: 'E_MODEL_LOAD' });
    expect(long.message).toMatch(/varint longer than 10 bytes at byte 0/);
    expect(ctrkitErrorThrownBy(() => new ProtobufReader(bytesOf([0x80, 0x80])).int64()).message).toMatch(/truncated inside a varint at byte 2/);
  });
});

describe('ProtobufReader fields', () => {
  it('walks every wire type it knows and lands on the next field', () => {
    const bytes = bytesOf(
      varintField(1, -5),
      [...tag(2, WIRE_FIXED64), 1, 2, 3, 4, 5, 6, 7, 8],
      lengthField(3, [9, 9, 9]),
      floatField(4, 1.5),
      stringField(5, 'näme'),
    );
    const reader = new ProtobufReader(bytes);
    const seen: [number, number][] = [];
    let text = '';
    while (reader.next()) {
      seen.push([reader.field, reader.wire]);
      if (reader.field === 5) text = reader.string();
      else reader.skip();
    }
    expect(seen).toEqual([
      [1, WIRE_VARINT],
      [2, WIRE_FIXED64],
      [3, WIRE_LENGTH],
      [4, WIRE_FIXED32],
      [5, WIRE_LENGTH],
    ]);
    expect(text).toBe('näme');
  });

  it('reads sub-messages and byte views within their bounds, without copying', () => {
    const bytes = bytesOf(lengthField(1, [...stringField(1, 'inner'), ...varintField(2, 300)]), lengthField(2, [7, 8]));
    const reader = new ProtobufReader(bytes);
    expect(reader.next()).toBe(true);
    const inner = reader.message();
    const got: unknown[] = [];
    while (inner.next()) got.push(inner.field === 1 ? inner.string() : inner.int64());
    expect(got).toEqual(['inner', 300]);
    expect(reader.next()).toBe(true);
    const view = reader.bytesView();
    expect([...view]).toEqual([7, 8]);
    expect(view.buffer).toBe(bytes.buffer);
    expect(reader.next()).toBe(false);
  });

  it('refuses a length past the end of its message (also one nested inside a shorter parent), field 0, groups, and a wrong wire type', () => {
    expect(ctrkitErrorThrownBy(() => stepped(bytesOf(tag(1, 2), varint(2n ** 40n))).skip()).message).toMatch(/length over 2\^32 runs past the end/);
    expect(ctrkitErrorThrownBy(() => stepped(bytesOf(tag(1, 2), varint(5), [1, 2])).bytesView()).message).toMatch(/length 5 runs past the end of the message \(2 bytes left\) at byte 1/);
    const parent = stepped(bytesOf(lengthField(1, [...tag(1, 2), 4, 1, 2]), [3, 4, 5, 6]));
    const child = parent.message();
    child.next();
    expect(ctrkitErrorThrownBy(() => child.bytesView()).message).toMatch(/length 4 runs past the end of the message \(2 bytes left\)/);
    expect(ctrkitErrorThrownBy(() => new ProtobufReader(bytesOf([0x00])).next()).message).toMatch(/field number 0 at byte 0/);
    expect(ctrkitErrorThrownBy(() => new ProtobufReader(bytesOf(varint(2n ** 35n))).next()).message).toMatch(/tag wider than 32 bits/);
    for (const wire of [3, 4, 6, 7]) expect(ctrkitErrorThrownBy(() => stepped(bytesOf(tag(9, wire))).skip()).message).toMatch(new RegExp(`field 9 has wire type ${wire}, which ONNX does not use`));
    expect(ctrkitErrorThrownBy(() => stepped(bytesOf(varintField(7, 1))).expect(WIRE_LENGTH, 'ModelProto.graph')).message).toMatch(/field ModelProto\.graph \(7\) has wire type 0, expected 2/);
    expect(ctrkitErrorThrownBy(() => stepped(bytesOf(tag(1, 1), [1, 2, 3])).skip()).message).toMatch(/truncated inside a fixed64/);
    expect(ctrkitErrorThrownBy(() => stepped(bytesOf(tag(1, 5), [1, 2, 3])).fixed32Bytes()).message).toMatch(/truncated inside a fixed32/);
  });

  it('fuzz: any bytes, walked as nested messages, end or throw E_MODEL_LOAD, and every step advances', () => {
    const walk = (reader: ProtobufReader, depth: number, choose: () => boolean): void => {
      let last = reader.pos;
      while (reader.next()) {
        if (reader.wire === WIRE_LENGTH && depth < 4 && choose()) walk(reader.message(), depth + 1, choose);
        else if (reader.wire === WIRE_VARINT && choose()) reader.int64();
        else reader.skip();
        expect(reader.pos).toBeGreaterThan(last);
        last = reader.pos;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.infiniteStream(fc.boolean()), (bytes, coins) => {
        const it = coins[Symbol.iterator]();
        try {
          walk(new ProtobufReader(bytes), 0, () => it.next().value as boolean);
        } catch (error) {
          expect(isCtrkitError(error) && error.code === 'E_MODEL_LOAD', String(error)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

/** A reader that has read the first tag of `bytes`. */
function stepped(bytes: Uint8Array): ProtobufReader {
  const reader = new ProtobufReader(bytes);
  expect(reader.next()).toBe(true);
  return reader;
}
