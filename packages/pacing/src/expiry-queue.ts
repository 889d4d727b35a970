/**
 * Open reservations in creation order. With one TTL per ledger and a clock that never goes back,
 * creation order is expiry order, so expiring is a walk from the head: O(1) amortized, no heap.
 * Closed entries are skipped at the head and compacted away once they make up half the queue,
 * so memory stays proportional to the open reservations.
 *
 * @internal
 */
export interface ExpiringEntry {
  readonly expiresAt: number;
  /** 0 while open; any other value once committed, released or expired. */
  state: number;
}

/** @internal */
export class ExpiryQueue<T extends ExpiringEntry> {
  private items: T[] = [];
  private head = 0;
  private closed = 0;

  /** Entries stored, open or not yet compacted away (for tests and monitoring). */
  get stored(): number {
    return this.items.length - this.head;
  }

  /** Time at which the oldest entry expires (Infinity when none is queued). */
  nextExpiry = Number.POSITIVE_INFINITY;

  push(entry: T): void {
    this.items.push(entry);
    if (this.items.length - this.head === 1) this.nextExpiry = entry.expiresAt;
  }

  /** Call when an entry leaves the open state other than through `expire`. */
  noteClosed(): void {
    this.closed++;
    const live = this.items.length - this.head;
    if (live > 1024 && this.closed * 2 > live) this.compact();
  }

  /** Expires every open entry whose time has come, calling `onExpire` for each. */
  expire(now: number, onExpire: (entry: T) => void): void {
    const items = this.items;
    let head = this.head;
    while (head < items.length) {
      const entry = items[head] as T;
      if (entry.state !== 0) {
        this.closed--;
        head++;
        continue;
      }
      if (entry.expiresAt > now) break;
      onExpire(entry);
      head++;
    }
    this.head = head;
    if (head === items.length) {
      this.items = [];
      this.head = 0;
      this.closed = 0;
      this.nextExpiry = Number.POSITIVE_INFINITY;
    } else {
      this.nextExpiry = (items[head] as T).expiresAt;
      if (head > 1024 && head * 2 > items.length) {
        this.items = items.slice(head);
        this.head = 0;
      }
    }
  }

  /** Every entry still open, oldest first. */
  open(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const entry = this.items[i] as T;
      if (entry.state === 0) out.push(entry);
    }
    return out;
  }

  private compact(): void {
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const entry = this.items[i] as T;
      if (entry.state === 0) kept.push(entry);
    }
    this.items = kept;
    this.head = 0;
    this.closed = 0;
    this.nextExpiry = kept.length > 0 ? (kept[0] as T).expiresAt : Number.POSITIVE_INFINITY;
  }
}
