/**
 * The lookup's commands written as RESP by redis-encoded-command.ts are byte for byte what
 * ioredis writes for the same command (its `Command#toWritable`), key names built as
 * `lookupKeyName` builds them, for ids with separators, hash-tag braces, multi-byte and astral
 * characters and a lone surrogate; and a real Redis answers them as it answers ioredis' own.
 */
import { Command, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysUnder, sharedRedisFor, uniqueKeyPrefix } from '@ctrkit/test-support';
import { encodeCommand, encodeLookupMget, sendCommandBuffer, sendLookupMget } from '../src/redis-encoded-command.js';
import { lookupIds, lookupKeyName, userKeyOf } from '../src/redis-keys.js';

const ODD_IDS = ['plain', 'a:b|c', '{tag}', '}{', 'é', '広告', '😀', 'x\ud800y', '', '12:34', '\r\n$3\r\n'];

/** What ioredis writes for `name` with `args`, as bytes. */
function ioredisBytes(name: string, args: (string | number)[]): Buffer {
  const written = new Command(name, args).toWritable({});
  return typeof written === 'string' ? Buffer.from(written, 'utf8') : written;
}

function candidates(): { adId: string; advertiserId: string; category: string }[] {
  return ODD_IDS.map((id, i) => ({ adId: `ad${id}`, advertiserId: ODD_IDS[(i + 3) % ODD_IDS.length] as string, category: ODD_IDS[(i + 5) % ODD_IDS.length] as string }));
}

describe('encoded lookup commands', () => {
  it('writes MGET of a lookup’s keys as ioredis writes MGET of their names', () => {
    const rows = candidates();
    const ids = lookupIds(rows as never, rows.length, new Int32Array(rows.length * 4));
    for (const [prefix, userId] of [['ctrkit:', 'u1'], ['', 'ü{x}'], ['前缀:', '😀'], ['p', 'x\udc00']] as const) {
      const userKey = userKeyOf(prefix, userId);
      const orders = [Array.from({ length: ids.keyCount }, (_, i) => i), [0], [0, ...Array.from({ length: ids.keyCount - 1 - ids.ads.length }, (_, i) => 1 + ids.ads.length + i)], [3, 1, 2]];
      for (const order of orders) {
        const names = order.map((i) => lookupKeyName(prefix, userKey, ids, i));
        expect(encodeLookupMget(prefix, userKey, ids, order).equals(ioredisBytes('mget', names))).toBe(true);
      }
    }
  });

  it('writes a command of strings and numbers as ioredis writes it', () => {
    const args: (string | number)[] = ['sha', 2, 'k{é}', '', 0, 1234567890123, -5, 0.25, 1e21, ...ODD_IDS, 'x'.repeat(5000)];
    expect(encodeCommand('EVALSHA', args).equals(ioredisBytes('EVALSHA', args))).toBe(true);
    expect(encodeCommand('PING', []).equals(ioredisBytes('PING', []))).toBe(true);
  });
});

const available = await sharedRedisFor('features: the encoded lookup commands against a real Redis');
describe.skipIf(!available)('encoded lookup commands on Redis', () => {
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: !available });
  const prefix = uniqueKeyPrefix('features', 'encoded-command');
  afterAll(async () => {
    await deleteKeysUnder(client, prefix);
    client.disconnect();
  });

  it('answers what MGET of the names answers, absent keys as null, values as buffers', async () => {
    const rows = candidates();
    const ids = lookupIds(rows as never, rows.length, new Int32Array(rows.length * 4));
    const userKey = userKeyOf(prefix, 'user😀');
    const order = Array.from({ length: ids.keyCount }, (_, i) => i);
    const names = order.map((i) => lookupKeyName(prefix, userKey, ids, i));
    for (let k = 0; k < names.length; k += 3) await client.set(names[k] as string, Buffer.from([k, 0, 255, 13, 10]));
    const ours = await sendLookupMget(client, prefix, userKey, ids, order);
    expect(ours).toEqual(await client.mgetBuffer(names));
    expect(ours.filter((v) => v !== null)).toHaveLength(Math.ceil(names.length / 3));
    expect(await sendCommandBuffer(client, 'ECHO', ['é😀'])).toEqual(Buffer.from('é😀'));
    await expect(sendCommandBuffer(client, 'NOSUCHCOMMAND', [1])).rejects.toThrow(/unknown command/i);
  });
});
