/**
 * The auction's scratch: typed arrays reused by every run, sized by `capacity` and grown by
 * doubling, so scoring and selection allocate nothing per candidate.
 */

/** @internal Marks, in the shared code array, a candidate the auction itself rejected (its reason is in `fate`). */
export const AUCTION_REJECTED = 255;

/** @internal Scratch arrays reused across auctions; grown by doubling. */
export class Scratch {
  capacity = 0;
  codes = new Uint8Array(0);
  fate = new Uint8Array(0);
  taken = new Uint8Array(0);
  bidType = new Uint8Array(0);
  formatOf = new Uint8Array(0);
  heap = new Int32Array(0);
  tie = new Uint32Array(0);
  bid = new Float64Array(0);
  units = new Float64Array(0);
  lambda = new Float64Array(0);
  offset = new Float64Array(0);
  score = new Float64Array(0);
  details: (string | undefined)[] = [];

  ensure(n: number): void {
    if (n <= this.capacity) return;
    let capacity = Math.max(16, this.capacity);
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    this.codes = new Uint8Array(capacity);
    this.fate = new Uint8Array(capacity);
    this.taken = new Uint8Array(capacity);
    this.bidType = new Uint8Array(capacity);
    this.formatOf = new Uint8Array(capacity);
    this.heap = new Int32Array(capacity);
    this.tie = new Uint32Array(capacity);
    this.bid = new Float64Array(capacity);
    this.units = new Float64Array(capacity);
    this.lambda = new Float64Array(capacity);
    this.offset = new Float64Array(capacity);
    this.score = new Float64Array(capacity);
    // Filled, not sparse: sparse writes into a large empty array would turn it into a dictionary.
    this.details = new Array<string | undefined>(capacity).fill(undefined);
  }
}
