/**
 * Signed notices: what a win or loss notice (or an impression event) may settle is fixed when
 * the bid leaves, and signed with a key only this fleet knows. The exchange echoes the URL back
 * with `${AUCTION_PRICE}` substituted; the price is not signed (the exchange sets it), but it
 * may never exceed the signed bid. Anyone who does not hold the key cannot settle, release or
 * re-price a hold, nor invent one.
 *
 * The signature is HMAC-SHA256 over `v1`, the auction (BidRequest) id, the imp id, the campaign,
 * the creative, the bid in integer micros (CPM × 10⁶) and the expiry (ms since the epoch),
 * separated by a byte (0x1f) that no id may hold; truncated to 128 bits, base64url.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CtrkitError } from '@ctrkit/core';

/** What one signature vouches for. */
export interface SignedFields {
  /** The BidRequest id. */
  readonly auction: string;
  /** The impression bid on. */
  readonly imp: string;
  /** The campaign that pays. */
  readonly campaign: string;
  /** The creative (ad id). */
  readonly creative: string;
  /** The bid, CPM in integer micros (CPM × 10⁶). */
  readonly bidMicros: number;
  /** Until when (ms since the epoch) a notice for this bid is accepted. */
  readonly expiresAt: number;
}

/** Why a signature was refused. */
export type SignatureRefusal = 'bad_signature' | 'expired' | 'malformed';

/** Keys of a {@link NoticeSigner}. */
export interface NoticeKeys {
  /** The key new bids are signed with (at least 16 bytes). */
  readonly current: Buffer;
  /** The key before the last rotation, accepted until `previousUntil`. */
  readonly previous?: Buffer;
  /** Until when (ms since the epoch) `previous` is accepted. */
  readonly previousUntil?: number;
}

/** Signs and checks notice signatures. */
export interface NoticeSigner {
  /**
   * Signs a bid's notice fields with the current key.
   *
   * @param fields - What the notice may settle.
   * @returns The signature (22 base64url characters).
   */
  sign(fields: SignedFields): string;
  /**
   * Checks a signature against the current key, and the previous one during its grace.
   *
   * @param fields - The fields as the notice states them.
   * @param signature - The notice's signature.
   * @param now - The time now, ms since the epoch.
   * @returns `ok`, or why the notice is refused.
   */
  verify(fields: SignedFields, signature: string, now: number): 'ok' | SignatureRefusal;
}

const SEPARATOR = '\u001f';
const SIGNATURE = /^[A-Za-z0-9_-]{22}$/;

function mac(key: Buffer, f: SignedFields): Buffer {
  const text = ['v1', f.auction, f.imp, f.campaign, f.creative, String(f.bidMicros), String(f.expiresAt)].join(SEPARATOR);
  return createHmac('sha256', key).update(text, 'utf8').digest().subarray(0, 16);
}

/**
 * Creates a {@link NoticeSigner}.
 *
 * @param keys - The current key, and the previous one with the end of its grace.
 * @returns The signer.
 * @throws CtrkitError `E_CONFIG` for a key shorter than 16 bytes.
 * @example
 * ```ts
 * const signer = createNoticeSigner({ current: Buffer.from('0123456789abcdef0123456789abcdef') });
 * const fields = { auction: 'r1', imp: '1', campaign: 'c', creative: 'ad', bidMicros: 2_500_000, expiresAt: Date.now() + 60_000 };
 * signer.verify(fields, signer.sign(fields), Date.now()); // 'ok'
 * ```
 */
export function createNoticeSigner(keys: NoticeKeys): NoticeSigner {
  if (keys.current.length < 16) throw new CtrkitError('E_CONFIG', `the notice key must hold at least 16 bytes, got ${keys.current.length}`);
  if (keys.previous !== undefined && keys.previous.length < 16) throw new CtrkitError('E_CONFIG', `the previous notice key must hold at least 16 bytes, got ${keys.previous.length}`);
  return {
    sign: (fields) => mac(keys.current, fields).toString('base64url'),
    verify(fields, signature, now) {
      if (!SIGNATURE.test(signature) || !Number.isSafeInteger(fields.bidMicros) || !Number.isSafeInteger(fields.expiresAt)) return 'malformed';
      for (const part of [fields.auction, fields.imp, fields.campaign, fields.creative]) if (part.includes(SEPARATOR)) return 'malformed';
      const given = Buffer.from(signature, 'base64url');
      let genuine = timingSafeEqual(given, mac(keys.current, fields));
      if (!genuine && keys.previous !== undefined && now <= (keys.previousUntil ?? 0)) genuine = timingSafeEqual(given, mac(keys.previous, fields));
      if (!genuine) return 'bad_signature';
      // Only a genuine notice learns that it came too late.
      return now > fields.expiresAt ? 'expired' : 'ok';
    },
  };
}

/**
 * Reads a notice key setting: 64 hex digits, or base64 / base64url of at least 16 bytes.
 *
 * @param raw - The setting's value.
 * @param name - The setting, for the message.
 * @returns The key.
 * @throws CtrkitError `E_CONFIG` when the value is no key.
 * @example
 * ```ts
 * parseNoticeKey('00'.repeat(32), 'NOTICE_KEY').length; // 32
 * ```
 */
export function parseNoticeKey(raw: string, name: string): Buffer {
  const key = /^[0-9a-fA-F]+$/.test(raw) && raw.length % 2 === 0 ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64url');
  if (key.length < 16) throw new CtrkitError('E_CONFIG', `${name} must be at least 16 bytes as hex or base64 (openssl rand -hex 32), got ${key.length} bytes`);
  return key;
}

/**
 * A random 32-byte key, for a server started without `NOTICE_KEY`.
 *
 * @returns The key.
 * @example
 * ```ts
 * randomNoticeKey().length; // 32
 * ```
 */
export function randomNoticeKey(): Buffer {
  return randomBytes(32);
}
