/**
 * Events waiting for their time, in time order: a click comes seconds after its impression, a
 * conversion minutes after, and the server sees each only then — so the clock never runs ahead of
 * the traffic (a conversion handled at once would move it minutes ahead, and near midnight commit
 * later requests' spend on the next day's budget).
 */
import type { AdEvent } from '@ctrkit/core';

/** A queue of items, each with the event it delivers, ordered by the event's time. */
export interface EventQueue<T extends { readonly event: AdEvent }> {
  /** Queues an item after every item of the same time or earlier. */
  schedule(item: T): void;
  /** Takes out, in time order, every item due at or before `time`. */
  takeUntil(time: number): T[];
}

/**
 * Creates an empty queue.
 *
 * @returns The queue.
 */
export function createEventQueue<T extends { readonly event: AdEvent }>(): EventQueue<T> {
  const pending: T[] = [];
  return {
    schedule(item) {
      let lo = 0;
      let hi = pending.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((pending[mid] as T).event.timestamp <= item.event.timestamp) lo = mid + 1;
        else hi = mid;
      }
      pending.splice(lo, 0, item);
    },
    takeUntil(time) {
      let due = 0;
      while (due < pending.length && (pending[due] as T).event.timestamp <= time) due++;
      return pending.splice(0, due);
    },
  };
}
