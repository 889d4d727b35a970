/**
 * The label joiner as a stream consumer: served rows, clicks and conversions come from an
 * {@link EventStream}, labeled rows go to a labeled {@link ServedLog}. Deliveries are acked only
 * once what they produced is durable, so a joiner that dies loses nothing: what it had not made
 * durable is delivered again to the next one.
 */
import { systemClock, type Clock } from './clock.js';
import { CtrkitError, ensure } from './errors.js';
import type { EventStream, StreamDelivery, StreamSubscription } from './event-stream.js';
import { createLabelJoiner, type JoinedConversion, type LabelJoiner, type LabelJoinerStats } from './label-joiner.js';
import { defaultScheduler, type TimerScheduler } from './timer-scheduler.js';
import type { ServedLog } from './served-log.js';

/** Options for {@link createStreamJoiner}.
 *
 * @example
 * ```ts
 * import { createMemoryEventStream, createMemoryServedLog, type FeatureLayout, type StreamJoinerOptions } from '@ctrkit/core';
 * const options = (layout: FeatureLayout): StreamJoinerOptions => ({
 *   stream: createMemoryEventStream(), consumer: 'joiner', output: createMemoryServedLog({ layout, labeled: true }), windowMs: 15 * 60_000,
 * });
 * ```
 */
export interface StreamJoinerOptions {
  /** Where served rows, clicks and conversions come from. */
  readonly stream: EventStream;
  /** The durable consumer's name (joiners of one name share the work only if they partition by request; run one per name). */
  readonly consumer: string;
  /** Where labeled rows go: a labeled log (`labeled: true`). */
  readonly output: ServedLog;
  /** The attribution window (see {@link createLabelJoiner}). */
  readonly windowMs: number;
  /** Lateness allowed past the window (default 10,000 ms). */
  readonly allowedLatenessMs?: number;
  /** Cap on waiting rows (default 1,000,000). */
  readonly maxPending?: number;
  /** How often windows are closed and the output flushed, acking what became durable (default 1,000 ms). */
  readonly flushEveryMs?: number;
  /**
   * The stream's ack wait for this consumer; must exceed window + lateness + flushEveryMs, since a
   * served row stays unacked until its label is durable (default that sum plus 30,000 ms).
   */
  readonly ackWaitMs?: number;
  /**
   * Deliveries unacked at once (default `maxPending`): at least window × rate, or intake stalls
   * until windows close.
   */
  readonly maxInFlight?: number;
  /** Receives attributed conversions. */
  readonly onConversion?: (joined: JoinedConversion) => void;
  /** Closes windows (default the system clock). */
  readonly clock?: Clock;
  /** Timers for the flush (default the global ones). */
  readonly scheduler?: TimerScheduler;
}

/** A running stream joiner.
 *
 * @example
 * ```ts
 * import type { StreamJoiner } from '@ctrkit/core';
 * const positives = (j: StreamJoiner) => j.stats().positives;
 * ```
 */
export interface StreamJoiner {
  /** Subscribes and starts the flush timer. @throws `CtrkitError` `E_STATE` when already started. */
  start(): Promise<void>;
  /** Closes due windows, flushes the output and acks what is now durable. */
  flush(): Promise<void>;
  /**
   * Stops: flushes what is labeled, then unsubscribes; rows still waiting for their window are
   * left unacked, so the next joiner of this consumer gets them again.
   */
  stop(): Promise<void>;
  /**
   * Stops at once, as a crash would: no flush, nothing more acked, the subscription closed; every
   * delivery not yet acked goes back to the stream (for tests, and for shutting down a joiner whose
   * output has failed).
   */
  abort(): Promise<void>;
  /** The joiner's counters, plus deliveries acked, malformed events refused, and deliveries held for a label. */
  stats(): LabelJoinerStats & { readonly acked: number; readonly rejected: number; readonly holding: number };
}

/**
 * Creates a label joiner fed by an event stream.
 *
 * Exactly-once in the output, as far as a log without transactions allows: a served row is acked
 * only after its label is flushed, a click only after the label it decided is flushed, and
 * anything that decided nothing (duplicates, orphans, late events) at once. If the process dies,
 * the rows whose labels were not yet durable come back with their clicks and are labeled by the
 * next joiner. A crash between a flush and its acks can repeat those rows in the output (the
 * window is one flush); dedup by `eventId` downstream removes them.
 *
 * @param options - Stream, consumer, output log, window, timings.
 * @returns The joiner (not started).
 * @throws {@link CtrkitError} `E_CONFIG` when the ack wait does not exceed window + lateness + flush.
 * @example
 * ```ts
 * import { createMemoryEventStream, createMemoryServedLog, createStreamJoiner, type FeatureLayout } from '@ctrkit/core';
 * async function run(layout: FeatureLayout) {
 *   const joiner = createStreamJoiner({ stream: createMemoryEventStream(), consumer: 'joiner', output: createMemoryServedLog({ layout, labeled: true }), windowMs: 60_000 });
 *   await joiner.start();
 *   return joiner;
 * }
 * ```
 */
export function createStreamJoiner(options: StreamJoinerOptions): StreamJoiner {
  const { stream, consumer, output, windowMs, allowedLatenessMs = 10_000, maxPending = 1_000_000, flushEveryMs = 1_000, clock = systemClock } = options;
  const scheduler: TimerScheduler = options.scheduler ?? defaultScheduler;
  const ackWaitMs = options.ackWaitMs ?? windowMs + allowedLatenessMs + flushEveryMs + 30_000;
  const maxInFlight = options.maxInFlight ?? maxPending;
  ensure(Number.isFinite(flushEveryMs) && flushEveryMs > 0, 'E_CONFIG', () => `stream joiner: flushEveryMs must be > 0, got ${flushEveryMs}`);
  ensure(
    ackWaitMs > windowMs + allowedLatenessMs + flushEveryMs,
    'E_CONFIG',
    () => `stream joiner: ackWaitMs (${ackWaitMs}) must exceed window + lateness + flushEveryMs (${windowMs + allowedLatenessMs + flushEveryMs}): a row stays unacked until its label is durable`,
  );
  // Deliveries waiting on a row's label, by the row's event id.
  const holding = new Map<string, StreamDelivery[]>();
  let ready: StreamDelivery[] = [];
  let acked = 0;
  let rejected = 0;
  let pendingClick: StreamDelivery | undefined;
  const joiner: LabelJoiner = createLabelJoiner({
    windowMs,
    allowedLatenessMs,
    maxPending,
    clock,
    // Rows are checked on arrival, so a row the output would refuse never waits for a label.
    layout: output.layout,
    ...(options.onConversion === undefined ? {} : { onConversion: options.onConversion }),
    onLabel(j) {
      output.append(j.row, j.label);
      const waiting = holding.get(j.row.eventId);
      holding.delete(j.row.eventId);
      if (waiting !== undefined) for (const d of waiting) ready.push(d);
      if (pendingClick !== undefined) {
        ready.push(pendingClick);
        pendingClick = undefined;
      }
    },
  });
  let subscription: StreamSubscription | undefined;
  let timer: unknown;
  let running = false;
  let aborted = false;
  let flushing: Promise<void> | undefined;

  const ackNow = (d: StreamDelivery) => {
    if (aborted) return;
    acked++;
    void d.ack().catch(() => undefined);
  };

  const handle = async (d: StreamDelivery) => {
    try {
      join(d);
    } catch (error) {
      // A malformed event (bad ids, another spec's row) is refused for good: redelivering it would
      // only fail again. Counted, then acked.
      if (!(error instanceof CtrkitError) || error.code !== 'E_INPUT') throw error;
      pendingClick = undefined;
      rejected++;
      ackNow(d);
    }
  };

  const join = (d: StreamDelivery) => {
    const e = d.event;
    if (e.topic === 'served') {
      if (joiner.impression(e.row) === 'joined') holding.set(e.row.eventId, [d]);
      else ackNow(d);
    } else if (e.topic === 'click') {
      pendingClick = d;
      const outcome = joiner.click(e.event);
      // onLabel took it when the click decided a label; otherwise it decided nothing.
      if (pendingClick !== undefined) {
        pendingClick = undefined;
        if (outcome !== 'joined') ackNow(d);
        else ready.push(d);
      }
    } else if (e.topic === 'conversion') {
      joiner.conversion(e.event);
      ackNow(d);
    } else {
      ackNow(d);
    }
  };

  const flush = async () => {
    if (flushing !== undefined) return flushing;
    flushing = (async () => {
      joiner.advance();
      const batch = ready;
      ready = [];
      try {
        await output.flush();
      } catch (error) {
        // Nothing acked: the stream redelivers these rows' events to whoever joins next.
        throw new CtrkitError('E_IO', `stream joiner: the output log could not be flushed; ${batch.length} deliveries stay unacked`, { cause: error });
      }
      for (const d of batch) ackNow(d);
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  };

  const tick = () => {
    if (!running) return;
    flush()
      .catch(() => undefined)
      .finally(() => {
        if (running) timer = scheduler.setTimeout(tick, flushEveryMs);
      });
  };

  return {
    async start() {
      if (running) throw new CtrkitError('E_STATE', 'stream joiner is already started');
      running = true;
      subscription = await stream.subscribe({ consumer, topics: ['served', 'click', 'conversion'], ackWaitMs, maxInFlight, handler: handle });
      timer = scheduler.setTimeout(tick, flushEveryMs);
    },
    flush,
    async stop() {
      if (!running) return;
      running = false;
      scheduler.clearTimeout(timer);
      await flush();
      await subscription?.close();
      subscription = undefined;
    },
    async abort() {
      running = false;
      aborted = true;
      scheduler.clearTimeout(timer);
      holding.clear();
      ready = [];
      await subscription?.close();
      subscription = undefined;
    },
    stats() {
      let held = 0;
      for (const list of holding.values()) held += list.length;
      return { ...joiner.stats(), acked, rejected, holding: held };
    },
  };
}
