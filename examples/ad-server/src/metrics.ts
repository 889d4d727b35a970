/**
 * The server's own Prometheus series, beside ctrkit's (`@ctrkit/core/prometheus`) on one
 * registry. Gauges read their value when Prometheus scrapes; counters and the latency histogram
 * are O(1) per request.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a request got no bid, as a bounded label. */
export type NoBidClass =
  | 'invalid'
  | 'not_ready'
  | 'draining'
  | 'redis_unavailable'
  | 'ledger_unavailable'
  | 'budget'
  | 'pacing'
  | 'floor'
  | 'deadline'
  | 'filtered'
  | 'duplicate'
  | 'seat'
  | 'technical'
  | 'other';

/** Live values the gauges read at scrape time. */
export interface GaugeSources {
  openHolds(): number;
  redisUp(): number | undefined;
  modelReady(): number;
  modelVersion(): string;
  ledgerStats(): Readonly<Record<string, number>> | undefined;
  /** Sizes of the embedded feature store (users, ads, pairs, evicted, expired, duplicates); undefined on Redis. */
  storeStats(): Readonly<Record<string, number>> | undefined;
  pacerMultipliers(): ReadonlyMap<string, number>;
}

/** The server's series. */
export interface ServerMetrics {
  readonly bidRequests: Counter<'outcome'>;
  readonly noBids: Counter<'reason'>;
  readonly bids: Counter;
  readonly reservations: Counter<'result'>;
  readonly holdsSettled: Counter<'outcome'>;
  readonly spend: Counter;
  readonly events: Counter<'type' | 'result'>;
  readonly notices: Counter<'kind' | 'result'>;
  readonly modelSwaps: Counter<'result'>;
  /** Consent decisions of valid bid requests, by outcome (`personalized`, `contextual`, `coppa`, `no_gdpr`) and the first finding's code. */
  readonly consent: Counter<'outcome' | 'finding'>;
  /** Late wins (after their hold expired) the ledger could no longer cover, currency units: spent at the exchange, not in the ledger. */
  readonly spendUnrecorded: Counter;
  readonly httpDuration: Histogram<'route' | 'status'>;
}

/**
 * Registers the server's series (and Node's process metrics: RSS, heap, event-loop lag) on a registry.
 *
 * @param registry - The registry ctrkit's series are on.
 * @param sources - What the gauges read.
 * @returns The counters and histogram the handlers update.
 */
export function registerServerMetrics(registry: Registry, sources: GaugeSources): ServerMetrics {
  const registers = [registry];
  // Unprefixed: the standard process collector names (process_resident_memory_bytes, nodejs_heap_size_used_bytes) that dashboards and outside checks read.
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'adserver_holds_open',
    help: 'Bids whose budget reservation waits for a win or loss notice',
    registers,
    collect() {
      this.set(sources.openHolds());
    },
  });
  new Gauge({
    name: 'adserver_redis_up',
    help: '1 when Redis answers, 0 when it does not (absent in embedded mode)',
    registers,
    collect() {
      const up = sources.redisUp();
      if (up !== undefined) this.set(up);
    },
  });
  new Gauge({
    name: 'adserver_model_ready',
    help: '1 once a model is loaded and warmed',
    registers,
    collect() {
      this.set(sources.modelReady());
    },
  });
  new Gauge({
    name: 'adserver_model_info',
    help: 'The serving model version (value 1)',
    labelNames: ['version'],
    registers,
    collect() {
      this.reset();
      this.set({ version: sources.modelVersion() }, 1);
    },
  });
  const statsGauge = (name: string, help: string, read: () => Readonly<Record<string, number>> | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['stat'],
      registers,
      collect() {
        this.reset();
        for (const [stat, value] of Object.entries(read() ?? {})) this.set({ stat }, value);
      },
    });
  };
  statsGauge('adserver_ledger', 'Redis ledger counters (held and unflushed in currency units; the rest are counts)', sources.ledgerStats);
  statsGauge(
    'adserver_feature_store',
    'Embedded feature store: keys held (users, ads, pairs) and keys dropped (evicted, expired) or events ignored as duplicates; absent on Redis',
    sources.storeStats,
  );
  new Gauge({
    name: 'adserver_pacing_multiplier',
    help: 'Bid multiplier of each campaign pacer',
    labelNames: ['campaign'],
    registers,
    collect() {
      this.reset();
      for (const [campaign, value] of sources.pacerMultipliers()) this.set({ campaign }, value);
    },
  });
  return {
    bidRequests: new Counter({ name: 'adserver_bid_requests_total', help: 'Bid requests by outcome (bid, nobid, invalid, unavailable)', labelNames: ['outcome'], registers }),
    noBids: new Counter({ name: 'adserver_nobids_total', help: 'No-bids by reason class', labelNames: ['reason'], registers }),
    bids: new Counter({ name: 'adserver_bids_total', help: 'Bids sent', registers }),
    reservations: new Counter({ name: 'adserver_reservations_total', help: 'Ledger reservations by result (ok, budget, unavailable)', labelNames: ['result'], registers }),
    holdsSettled: new Counter({ name: 'adserver_holds_settled_total', help: 'Holds that left the book, by outcome', labelNames: ['outcome'], registers }),
    spend: new Counter({ name: 'adserver_spend_committed_total', help: 'Spend committed to the ledger, currency units', registers }),
    events: new Counter({ name: 'adserver_events_total', help: 'Events received, by type and result', labelNames: ['type', 'result'], registers }),
    notices: new Counter({ name: 'adserver_notices_total', help: 'Win and loss notices, by result', labelNames: ['kind', 'result'], registers }),
    consent: new Counter({ name: 'adserver_consent_total', help: 'Consent decisions of valid bid requests, by outcome and first finding code', labelNames: ['outcome', 'finding'], registers }),
    spendUnrecorded: new Counter({ name: 'adserver_spend_unrecorded_total', help: 'Late wins the ledger could not cover any more (budget spent meanwhile), currency units', registers }),
    modelSwaps: new Counter({ name: 'adserver_model_swaps_total', help: 'Model hot swaps, by result', labelNames: ['result'], registers }),
    httpDuration: new Histogram({
      name: 'adserver_http_request_duration_seconds',
      help: 'Time from request received to response sent, by route',
      labelNames: ['route', 'status'],
      buckets: [0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

/**
 * Classifies a bidder's no-bid into a bounded label: by its OpenRTB code, else by what most of
 * the creatives were rejected for.
 *
 * @param outcome - The bidder's reason, code and rejections.
 * @returns The class.
 */
export function classifyNoBid(outcome: { readonly reason?: string; readonly nbr?: number; readonly rejected: readonly { readonly reason: string }[] }): NoBidClass {
  const { nbr } = outcome;
  const reason = outcome.reason ?? '';
  if (nbr === 2) return 'invalid';
  if (nbr === 15) return 'deadline';
  if (nbr === 1) return 'technical';
  if (/seat/.test(reason)) return 'seat';
  if (/below the floor/.test(reason)) return 'floor';
  if (/filtered out/.test(reason)) return 'filtered';
  const counts = new Map<string, number>();
  for (const r of outcome.rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  let top = '';
  let most = 0;
  for (const [r, n] of counts) if (n > most) [top, most] = [r, n];
  if (top === 'pacing_throttled' || top === 'budget_exhausted') return 'pacing';
  if (top === 'below_reserve') return 'floor';
  if (top !== '' && top !== 'outranked') return 'filtered';
  return 'other';
}
