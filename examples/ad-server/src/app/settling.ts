/**
 * Settling money: the book of open holds, the signed fields of a bid's notices and token, the
 * check of a notice's signature against the catalog, the one-time settlement of a win (on its
 * hold, or a fresh reservation when the hold expired) and the counting of an impression
 * everywhere an impression counts. Shared by the bid route (holds), the notice routes and the
 * event route.
 *
 * @internal
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AdEvent, Clock, FeatureStore, QualityMonitor } from '@ctrkit/core';
import type { BudgetLedger, Reservation } from '@ctrkit/pacing';
import type { ServerConfig } from '../config.js';
import { createHoldBook, type Hold, type HoldBook, type HoldOutcome } from '../holds.js';
import type { ServerMetrics } from '../metrics.js';
import type { SettlementRegistry, SettlementState } from '../settlement.js';
import type { NoticeSigner, SignedFields } from '../signing.js';
import type { World } from '../world.js';
import { describe } from './describe.js';
import { MICROS } from './money.js';
import type { Pacing } from './pacing.js';
import type { WorkerPeers } from './peers.js';
import type { FeedbackSink } from './stream.js';

/**
 * Impressions already counted from a win notice are remembered this long, so that the host's
 * impression event for the same ad is not counted twice (it follows the billing notice within
 * seconds); at most `COUNTED_CAPACITY` of them, oldest forgotten first.
 */
const COUNTED_MS = 120_000;
const COUNTED_CAPACITY = 100_000;

/** Why a notice (or an event's token) is refused. */
export type NoticeRefusal = 'unsigned' | 'malformed' | 'bad_signature' | 'expired' | 'price_above_bid' | 'unknown_creative';

/** The status each refusal is answered with. */
export const REFUSAL_STATUS: Readonly<Record<NoticeRefusal, number>> = { unsigned: 403, malformed: 400, bad_signature: 403, expired: 410, price_above_bid: 400, unknown_creative: 403 };

/** What a notice claims, as its query (or an event and its token) spells it. */
export interface SignedParts {
  readonly auction: string;
  readonly imp: string;
  readonly campaign?: string;
  readonly creative?: string;
  readonly bid?: string;
  readonly exp?: string;
  readonly sig?: string;
}

/** A checked notice: its signed fields, or why it is refused. */
export type CheckedNotice = { ok: true; fields: SignedFields } | { ok: false; refusal: NoticeRefusal; reason: string };

/** What settling a win did. */
export type WinResult =
  | { result: 'committed' | 'committed_late' | 'unrecorded_late'; chargeMicros: number; hold: Hold | undefined }
  | { result: 'duplicate' | 'released' | 'unknown'; chargeMicros: 0; hold: undefined };

/** What {@link createSettling} needs. */
export interface SettlingDeps {
  readonly config: Pick<ServerConfig, 'holdTtlMs' | 'noticeWindowMs' | 'settlementCapacity'>;
  readonly world: World;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
  readonly ledger: BudgetLedger;
  readonly settlement: SettlementRegistry;
  readonly signer: NoticeSigner;
  readonly store: FeatureStore;
  readonly pacing: Pick<Pacing, 'recordSpend'>;
  readonly metrics: Pick<ServerMetrics, 'holdsSettled' | 'spend' | 'spendUnrecorded'>;
  readonly quality: QualityMonitor;
  /** Reports an event per campaign (this process and the fleet). */
  readonly report: (event: AdEvent) => void;
  /** The other workers (`WORKERS` > 1), which may hold the bid a notice settles; undefined in a single process. */
  readonly peers?: Pick<WorkerPeers, 'commitHold'> | undefined;
  /** Where served rows go: the online loop once the first model is loaded, or the fleet's event stream. */
  readonly online: () => Pick<FeedbackSink, 'served'> | undefined;
}

/** The settling path. */
export interface Settling {
  /** The open holds (expiry timer started). */
  readonly holds: HoldBook;
  /** What a hold's notice URLs and settlement token sign. */
  fieldsOf(hold: Hold): SignedFields;
  /**
   * Checks what a notice claims against its signature and the catalog.
   *
   * @param graceMs - How long after the notice window the signature is still accepted (a click's attribution window).
   */
  checkSigned(parts: SignedParts, graceMs?: number): CheckedNotice;
  /**
   * Settles a genuine win once: the registry moves the pair to `committed`, then its open hold
   * commits the charge — on this worker's book, else on another worker's that holds it (`WORKERS` > 1)
   * — or, when the hold expired (or belongs to another process or an earlier run), a fresh
   * reservation of exactly the charge is committed at once.
   *
   * @throws When the ledger or the registry could not record it (the pair is put back: a retry is safe);
   * `E_TIMEOUT` when the other workers did not answer about the hold (the pair stays committed: a
   * retry is `duplicate`, and the worker holding it charges it).
   */
  settleWin(fields: SignedFields, chargeMicros: number): Promise<WinResult>;
  /** Counts a settled impression everywhere an impression counts (reporter, quality, online loop, store unless `from` is the event path's). */
  countImpression(fields: SignedFields, hold: Hold | undefined, chargeMicros: number, from: AdEvent | undefined): Promise<void>;
  /** Whether an impression of this request and ad was counted already (from its win notice or an earlier event). */
  isCounted(requestId: string, adId: string): boolean;
  /** Forgets the expired hold of a pair (a loss settled it). */
  forgetExpired(auction: string, imp: string): void;
}

const pairKey = (auction: string, imp: string): string => `${auction}\u001f${imp}`;
/** The key of an impression of an ad in a request (quality monitor, counted impressions). */
export const impressionKey = (requestId: string, adId: string): string => `${requestId}:${adId}`;

/**
 * Creates the hold book (and starts its expiry timer) and the settling path around it.
 *
 * @param deps - Settings, catalog, clock, logger, ledger, registry, signer, store, pacing, metrics, monitors.
 * @returns The settling path.
 */
export function createSettling(deps: SettlingDeps): Settling {
  const { config, world, clock, log, ledger, settlement, signer, store, pacing, metrics, quality, report } = deps;
  /** requestId + adId of impressions counted from a win notice, with when (insertion order is time order). */
  const counted = new Map<string, number>();
  /** Holds released for want of a notice, by (auction, imp), for a late win's reporting; bounded like the registry. */
  const expiredHolds = new Map<string, Hold>();
  const rememberExpired = (hold: Hold): void => {
    expiredHolds.set(pairKey(hold.requestId, hold.impId), hold);
    const cutoff = clock.now() - config.noticeWindowMs;
    for (const [key, old] of expiredHolds) {
      if (expiredHolds.size <= config.settlementCapacity && old.createdAt > cutoff) break;
      expiredHolds.delete(key);
    }
  };
  const holds: HoldBook = createHoldBook({
    ledger,
    clock,
    ttlMs: config.holdTtlMs,
    onSettled(hold: Hold, outcome: HoldOutcome, amount: number, error?: unknown) {
      metrics.holdsSettled.inc({ outcome });
      if (outcome === 'released-expired') {
        // Its budget goes back now; a win notice within the notice window still commits it.
        rememberExpired(hold);
        settlement.transition(hold.requestId, hold.impId, ['open'], 'expired').catch((e: unknown) => log.warn({ requestId: hold.requestId, err: describe(e) }, 'settlement registry: could not mark an expired hold'));
      }
      if (outcome === 'committed') {
        metrics.spend.inc(amount);
        pacing.recordSpend(hold.campaignId, amount);
      }
      if (error !== undefined && outcome === 'commit-failed') log.warn({ requestId: hold.requestId, adId: hold.adId, err: describe(error) }, 'commit refused by the ledger');
    },
  });
  holds.start();

  const rememberCounted = (key: string): void => {
    const now = clock.now();
    counted.set(key, now);
    for (const [oldest, at] of counted) {
      if (counted.size <= COUNTED_CAPACITY && now - at <= COUNTED_MS) break;
      counted.delete(oldest);
    }
  };

  function checkSigned(parts: SignedParts, graceMs = 0): CheckedNotice {
    const { campaign, creative, bid, exp, sig } = parts;
    if (campaign === undefined || creative === undefined || bid === undefined || exp === undefined || sig === undefined) return { ok: false, refusal: 'unsigned', reason: 'the notice carries no signature (cmp, crid, bid, exp and sig are required)' };
    if (!/^[0-9]{1,15}$/.test(bid) || !/^[0-9]{1,15}$/.test(exp)) return { ok: false, refusal: 'malformed', reason: 'bid and exp must be integers' };
    const fields: SignedFields = { auction: parts.auction, imp: parts.imp, campaign, creative, bidMicros: Number(bid), expiresAt: Number(exp) };
    // A click may come up to the attribution window after the notice window: `graceMs` checks the signature as of then.
    const verdict = signer.verify(fields, sig, clock.now() - graceMs);
    if (verdict === 'expired') return { ok: false, refusal: 'expired', reason: `the notice window (${config.noticeWindowMs} ms after the bid) ended at ${fields.expiresAt}` };
    if (verdict !== 'ok') return { ok: false, refusal: verdict, reason: verdict === 'malformed' ? 'the signature is malformed' : 'the signature does not match what the notice settles' };
    const known = world.creativeById.get(creative);
    if (known === undefined || known.campaignId !== campaign) return { ok: false, refusal: 'unknown_creative', reason: `creative ${creative} of campaign ${campaign} is not in the catalog` };
    return { ok: true, fields };
  }

  async function settleWin(fields: SignedFields, chargeMicros: number): Promise<WinResult> {
    const previous: SettlementState = await settlement.transition(fields.auction, fields.imp, ['open', 'expired'], 'committed');
    if (previous === 'committed') return { result: 'duplicate', chargeMicros: 0, hold: undefined };
    if (previous === 'released') return { result: 'released', chargeMicros: 0, hold: undefined };
    if (previous === 'none') return { result: 'unknown', chargeMicros: 0, hold: undefined };
    const amount = chargeMicros / MICROS;
    const hold = holds.byImp(fields.auction, fields.imp);
    if (previous === 'open' && hold !== undefined && hold.adId === fields.creative) {
      const committed = await holds.commit(hold, amount);
      if (committed !== undefined) return { result: 'committed', chargeMicros: Math.round(committed * MICROS), hold };
    }
    if (previous === 'open' && hold === undefined && deps.peers !== undefined) {
      // Another worker bid: it commits on the reservation it made. Asked once (the registry moved
      // the pair here); if it does not answer, this throws and nothing is charged here either.
      const remote = await deps.peers.commitHold(fields, amount);
      if (remote !== undefined) return { result: 'committed', chargeMicros: Math.round(remote.committed * MICROS), hold: remote.hold };
    }
    const late = expiredHolds.get(pairKey(fields.auction, fields.imp));
    let answer: Reservation | { ok: false; reason: string; detail: string };
    try {
      answer = await ledger.reserve(fields.campaign, amount);
      if (answer.ok) await ledger.commit(answer, amount);
    } catch (error) {
      // Not recorded: let the exchange retry the notice.
      await settlement.transition(fields.auction, fields.imp, ['committed'], previous).catch(() => undefined);
      throw error;
    }
    expiredHolds.delete(pairKey(fields.auction, fields.imp));
    if (!answer.ok) {
      metrics.spendUnrecorded.inc(amount);
      log.warn({ requestId: fields.auction, imp: fields.imp, campaign: fields.campaign, amount, detail: answer.detail }, 'late win: the budget no longer covers it; spent at the exchange but not in the ledger');
      return { result: 'unrecorded_late', chargeMicros, hold: late };
    }
    metrics.holdsSettled.inc({ outcome: 'committed-late' });
    metrics.spend.inc(amount);
    pacing.recordSpend(fields.campaign, amount);
    return { result: 'committed_late', chargeMicros, hold: late };
  }

  async function countImpression(fields: SignedFields, hold: Hold | undefined, chargeMicros: number, from: AdEvent | undefined): Promise<void> {
    const creative = world.creativeById.get(fields.creative);
    if (creative === undefined) return;
    const key = impressionKey(fields.auction, fields.creative);
    const event: AdEvent =
      from === undefined
        ? {
            type: 'impression',
            eventId: `${fields.auction}:${fields.imp}:win`,
            requestId: fields.auction,
            timestamp: clock.now(),
            userId: hold?.userId ?? '',
            adId: creative.adId,
            campaignId: creative.campaignId,
            advertiserId: creative.advertiserId,
            category: creative.category,
            format: creative.format,
            cost: chargeMicros / MICROS,
          }
        : { ...from, cost: chargeMicros / MICROS };
    report(event);
    if (hold !== undefined && Number.isFinite(hold.pCtr)) quality.impression(key, hold.pCtr);
    // Awaited: on the fleet stream, the row is stored before the notice is answered, so a click sent after it never precedes its row.
    if (hold?.servedRow !== undefined) await deps.online()?.served(hold.servedRow);
    rememberCounted(key);
    if (from !== undefined || event.userId === '') return; // the event path records it itself; no user: nothing to count for
    try {
      await store.record(event);
    } catch (error) {
      log.warn({ requestId: fields.auction, err: describe(error) }, 'win notice: the impression could not be recorded in the feature store');
    }
  }

  return {
    holds,
    fieldsOf: (hold) => ({
      auction: hold.requestId,
      imp: hold.impId,
      campaign: hold.campaignId,
      creative: hold.adId,
      bidMicros: Math.round(hold.priceCpm * MICROS),
      expiresAt: Math.floor(hold.createdAt + config.noticeWindowMs),
    }),
    checkSigned,
    settleWin,
    countImpression,
    isCounted: (requestId, adId) => counted.has(impressionKey(requestId, adId)),
    forgetExpired: (auction, imp) => void expiredHolds.delete(pairKey(auction, imp)),
  };
}
