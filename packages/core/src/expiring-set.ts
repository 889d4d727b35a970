/**
 * A set of ids that each expire, bounded: what the label joiner remembers to tell a duplicate,
 * a late event and an orphan apart, in memory that stays O(live ids).
 */

/**
 * A FIFO of (id, expiry) pairs backing a map: remembers ids for a while, up to a cap (the oldest
 * is dropped, and counted in `evicted`, to make room).
 *
 * @internal
 */
export class ExpiringSet {
  private readonly expiry = new Map<string, number>();
  private ids: string[] = [];
  private head = 0;
  evicted = 0;
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.expiry.has(id);
  }
  add(id: string, until: number): void {
    if (this.expiry.size >= this.capacity) {
      this.dropOldest();
      this.evicted++;
    }
    this.expiry.set(id, until);
    this.ids.push(id);
  }
  expire(now: number): void {
    while (this.head < this.ids.length) {
      const id = this.ids[this.head] as string;
      const until = this.expiry.get(id);
      if (until !== undefined && until > now) break;
      if (until !== undefined) this.expiry.delete(id);
      this.head++;
    }
    this.compact();
  }
  private dropOldest(): void {
    while (this.head < this.ids.length) {
      const id = this.ids[this.head++] as string;
      if (this.expiry.delete(id)) break;
    }
    this.compact();
  }
  private compact(): void {
    // Once the consumed prefix dominates, drop it, so the array stays O(live ids).
    if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
  }
}
