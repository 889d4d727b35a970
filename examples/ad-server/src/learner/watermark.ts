/**
 * The watermark each published version carries: up to which click timestamp it has learned.
 *
 * The refresher learns rows in the order they were added, each once it leaves the hold-out
 * window; a version snapshotted after `rowsLearned` rows has learned exactly the first `rowsLearned`
 * rows added. The watermark is the largest time W such that every positive added so far whose
 * click time is at or before W lies among those rows: the newest click learned, held below the
 * oldest click still waiting in the window. It never goes back (a version's watermark is at least
 * its predecessor's, across restarts through the published one).
 */

/** Tracks positives by their place in the refresher's order. */
export class WatermarkTracker {
  private added = 0;
  /** Positives not yet learned, in order: their index among the rows added and their click time (NaN: unknown). */
  private indexes: number[] = [];
  private times: number[] = [];
  private head = 0;
  private learnedMax = Number.NEGATIVE_INFINITY;
  private positivesLearned = 0;

  /** @param floor - The watermark of the version published before this learner started. */
  constructor(private floor: number) {}

  /** Rows added to the refresher, in its order: their labels and the positives' click times. */
  add(labels: ArrayLike<number>, clickedAt: ArrayLike<number> | undefined): void {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== 1) continue;
      this.indexes.push(this.added + i);
      this.times.push(clickedAt === undefined ? Number.NaN : (clickedAt[i] as number));
    }
    this.added += labels.length;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.added;
  }

  /**
   * The watermark of a snapshot that had learned the first `rowsLearned` rows (non-decreasing calls).
   *
   * @returns The click-time watermark (−Infinity while no click is known learned) and the positives learned.
   */
  at(rowsLearned: number): { clickedAt: number; positivesLearned: number } {
    while (this.head < this.indexes.length && (this.indexes[this.head] as number) < rowsLearned) {
      const t = this.times[this.head] as number;
      if (t > this.learnedMax) this.learnedMax = t;
      this.positivesLearned++;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.indexes.length) {
      this.indexes = this.indexes.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    let waiting = Number.POSITIVE_INFINITY;
    for (let k = this.head; k < this.times.length; k++) {
      const t = this.times[k] as number;
      if (t < waiting) waiting = t;
    }
    const w = Math.min(this.learnedMax, waiting - 1);
    if (w > this.floor) this.floor = w;
    return { clickedAt: this.floor, positivesLearned: this.positivesLearned };
  }
}
