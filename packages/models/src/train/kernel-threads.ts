/**
 * @internal The dense products of the mini-batch trainers on more than one thread. The trainer
 * allocates its dense tensors and scratch through a {@link DenseKernels}; with `threads > 1`
 * they live in `SharedArrayBuffer` chunks that `threads − 1` helper threads (`worker_threads`,
 * started from code in this file, so no worker file needs resolving) also see. Each product
 * `C = A·Wᵀ (+ b)` of {@link gemmNT} is cut by rows of `C` into parts of 32 rows (an even count)
 * that the calling thread and the woken helpers claim one at a time, so a helper that wakes late
 * (a busy machine) costs at most the part it took; the caller then waits (`Atomics.wait`) for the
 * parts still running. The gradient products are the same kernel on transposed operands, cut the
 * same way.
 *
 * Every output is one dot product computed by the same code in the same order whichever thread
 * computes it (parts start on even rows, as the kernel's row pairs do), so the numbers are
 * bit-for-bit those of one thread: `threads` changes the speed, never the weights. What stays on
 * the calling thread: the embedding gather and scatter, the element-wise work, lazy Adam.
 */
import { CtrkitError } from '@ctrkit/core';
import { gemmNT, transpose } from './dense-kernels.js';

/** @internal How a trainer allocates its dense arrays and runs the three products of a layer (see `dense-kernels.ts`). */
export interface DenseKernels {
  /** Threads the products run on (1: the calling thread alone). */
  readonly threads: number;
  /** A zeroed array of `length` doubles the products can share with the helpers. */
  f64(length: number): Float64Array;
  /** A float64 copy of `source`, allocated as {@link DenseKernels.f64}. */
  copy(source: ArrayLike<number>): Float64Array;
  /** As {@link gemmNT}. */
  nt(A: Float64Array, W: Float64Array, bias: Float64Array | undefined, C: Float64Array, rows: number, K: number, N: number, accumulate: boolean): void;
  /** As `gemmTNAccumulate`: gW[N × K] += Gᵀ·X. */
  tn(G: Float64Array, X: Float64Array, gW: Float64Array, rows: number, N: number, K: number, scratchG: Float64Array, scratchX: Float64Array): void;
  /** As `gemmNNAccumulate`: gX[rows × K] += G·W. */
  nn(G: Float64Array, W: Float64Array, gX: Float64Array, rows: number, N: number, K: number, scratchW: Float64Array): void;
  /** Stops the helper threads (later products run on the calling thread). */
  close(): void;
}

/** Products below this many multiply-adds are not worth a hand-off. */
const MIN_PARALLEL_MACS = 65_536;
/** Doubles per shared chunk (8 MiB); a larger request gets a chunk of its own. */
const CHUNK_DOUBLES = 1 << 20;
/** Rows of C a thread claims at a time (even, so every part starts on a row pair). */
const PART_ROWS = 32;
/**
 * The control block all helpers share: [0] task sequence (−1: stop), [1] the next part to claim,
 * as sequence · 1024 + part, [2] parts done, [3] failed, [4..17] the task, [18] parts the helpers
 * computed since the start.
 */
const CONTROL_WORDS = 20;
/** Sequences run 1 … SEQUENCES and wrap (they share word [1] with a part index below 1024). */
const SEQUENCES = 0xfffff;

/** The one-thread kernels: plain typed arrays, products on the calling thread. */
class SerialKernels implements DenseKernels {
  readonly threads: number = 1;
  f64(length: number): Float64Array {
    return new Float64Array(length);
  }
  copy(source: ArrayLike<number>): Float64Array {
    return Float64Array.from(source);
  }
  nt(A: Float64Array, W: Float64Array, bias: Float64Array | undefined, C: Float64Array, rows: number, K: number, N: number, accumulate: boolean): void {
    gemmNT(A, W, bias, C, rows, K, N, accumulate);
  }
  tn(G: Float64Array, X: Float64Array, gW: Float64Array, rows: number, N: number, K: number, scratchG: Float64Array, scratchX: Float64Array): void {
    transpose(G, rows, N, scratchG);
    transpose(X, rows, K, scratchX);
    this.nt(scratchG, scratchX, undefined, gW, N, rows, K, true);
  }
  nn(G: Float64Array, W: Float64Array, gX: Float64Array, rows: number, N: number, K: number, scratchW: Float64Array): void {
    transpose(W, N, K, scratchW);
    this.nt(G, scratchW, undefined, gX, rows, N, K, true);
  }
  close(): void {}
}

/** @internal The kernels of one thread, shared by every trainer that runs on one. */
export const SERIAL_KERNELS: DenseKernels = new SerialKernels();

interface WorkerLike {
  postMessage(message: unknown): void;
  unref(): void;
  terminate(): unknown;
}
interface WorkerThreadsModule {
  Worker: new (code: string, options: { eval: true; workerData: unknown; transferList: unknown[] }) => WorkerLike;
}

/**
 * The helper's program: the kernel's own source, then a loop: wait for a task, claim parts of it
 * until none is left, count each done. A part is claimed by a compare-exchange on word [1], which
 * holds the task's sequence, so a helper that wakes late never claims a part of a finished task;
 * a successful claim also means the task words are those of its sequence.
 */
function helperSource(): string {
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const gemmNT = (${gemmNT.toString()});
const t = new Int32Array(workerData.control);
const port = workerData.port;
const chunks = [];
const chunk = (i) => {
  while (chunks[i] === undefined) {
    const received = receiveMessageOnPort(port);
    if (received === undefined) throw new Error('kernel thread: chunk ' + i + ' was never sent');
    chunks[received.message.index] = new Float64Array(received.message.buffer);
  }
  return chunks[i];
};
let seen = 0;
for (;;) {
  Atomics.wait(t, 0, seen);
  const sequence = Atomics.load(t, 0);
  if (sequence < 0) break;
  seen = sequence;
  for (;;) {
    const claim = Atomics.load(t, 1);
    const part = claim & 1023;
    if (claim >>> 10 !== sequence || part >= t[17]) break;
    if (Atomics.compareExchange(t, 1, claim, claim + 1) !== claim) continue;
    try {
      const K = t[13];
      const N = t[14];
      const from = part * t[16];
      const rows = Math.min(t[16], t[12] - from);
      const A = chunk(t[4]).subarray(t[5] + from * K);
      const W = chunk(t[6]).subarray(t[7]);
      const bias = t[8] < 0 ? undefined : chunk(t[8]).subarray(t[9]);
      const C = chunk(t[10]).subarray(t[11] + from * N);
      gemmNT(A, W, bias, C, rows, K, N, t[15] === 1);
    } catch (error) {
      Atomics.store(t, 3, 1);
    }
    Atomics.add(t, 18, 1);
    if (Atomics.add(t, 2, 1) + 1 === t[17]) Atomics.notify(t, 2);
  }
}
`;
}

interface Helper {
  readonly worker: WorkerLike;
  readonly port: { postMessage(message: unknown): void };
  /** Chunks already posted to this helper. */
  sent: number;
}

/** Chunk index and offset (in doubles) of an array inside the shared chunks, or undefined. */
type Place = readonly [number, number];

class ThreadedKernels extends SerialKernels {
  override readonly threads: number;
  /** Products shared out with the helpers so far (the rest ran on the calling thread alone). */
  handedOff = 0;
  /** Parts of those products the helpers computed (the calling thread did the others). */
  get helperParts(): number {
    return Atomics.load(this.control, 18);
  }
  private readonly helpers: Helper[] = [];
  private readonly chunks: SharedArrayBuffer[] = [];
  private readonly chunkIndex = new Map<ArrayBufferLike, number>();
  private used = CHUNK_DOUBLES;
  private closed = false;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private sequence = 0;

  constructor(threads: number, workerThreads: WorkerThreadsModule, MessageChannelCtor: new () => { port1: { postMessage(m: unknown): void }; port2: unknown }) {
    super();
    this.threads = threads;
    const source = helperSource();
    for (let i = 1; i < threads; i++) {
      const channel = new MessageChannelCtor();
      const worker = new workerThreads.Worker(source, { eval: true, workerData: { control: this.control.buffer, port: channel.port2 }, transferList: [channel.port2] });
      // Idle helpers must not keep the process alive.
      worker.unref();
      this.helpers.push({ worker, port: channel.port1, sent: 0 });
    }
  }

  override f64(length: number): Float64Array {
    if (this.closed) return new Float64Array(length);
    if (length > CHUNK_DOUBLES) {
      const buffer = new SharedArrayBuffer(length * 8);
      this.addChunk(buffer);
      return new Float64Array(buffer);
    }
    if (this.used + length > CHUNK_DOUBLES) {
      this.addChunk(new SharedArrayBuffer(CHUNK_DOUBLES * 8));
      this.used = 0;
    }
    const array = new Float64Array(this.chunks[this.chunks.length - 1] as SharedArrayBuffer, this.used * 8, length);
    // Keep every array 64-byte aligned, as a fresh allocation would be.
    this.used += (length + 7) & ~7;
    return array;
  }

  override copy(source: ArrayLike<number>): Float64Array {
    const array = this.f64(source.length);
    for (let i = 0; i < source.length; i++) array[i] = source[i] as number;
    return array;
  }

  private addChunk(buffer: SharedArrayBuffer): void {
    this.chunkIndex.set(buffer, this.chunks.length);
    this.chunks.push(buffer);
  }

  private place(array: Float64Array): Place | undefined {
    const index = this.chunkIndex.get(array.buffer);
    return index === undefined ? undefined : [index, array.byteOffset / 8];
  }

  override nt(A: Float64Array, W: Float64Array, bias: Float64Array | undefined, C: Float64Array, rows: number, K: number, N: number, accumulate: boolean): void {
    const a = this.closed || rows < 2 * PART_ROWS || rows * K * N < MIN_PARALLEL_MACS ? undefined : this.place(A);
    const w = a === undefined ? undefined : this.place(W);
    const b = bias === undefined ? undefined : this.place(bias);
    const c = w === undefined ? undefined : this.place(C);
    if (a === undefined || w === undefined || c === undefined || (bias !== undefined && b === undefined)) {
      gemmNT(A, W, bias, C, rows, K, N, accumulate);
      return;
    }
    const t = this.control;
    for (const helper of this.helpers) {
      for (; helper.sent < this.chunks.length; helper.sent++) helper.port.postMessage({ index: helper.sent, buffer: this.chunks[helper.sent] });
    }
    const partRows = Math.max(PART_ROWS, 2 * Math.ceil(rows / 2000));
    const parts = Math.ceil(rows / partRows);
    t[4] = a[0];
    t[5] = a[1];
    t[6] = w[0];
    t[7] = w[1];
    t[8] = b === undefined ? -1 : b[0];
    t[9] = b === undefined ? 0 : b[1];
    t[10] = c[0];
    t[11] = c[1];
    t[12] = rows;
    t[13] = K;
    t[14] = N;
    t[15] = accumulate ? 1 : 0;
    t[16] = partRows;
    t[17] = parts;
    const sequence = (this.sequence % SEQUENCES) + 1;
    this.sequence = sequence;
    Atomics.store(t, 2, 0);
    Atomics.store(t, 1, sequence * 1024);
    Atomics.store(t, 0, sequence);
    Atomics.notify(t, 0);
    this.handedOff++;
    // Claim parts as the helpers do: when a helper wakes late, this thread does its share.
    for (;;) {
      const claim = Atomics.load(t, 1);
      const part = claim & 1023;
      if (part >= parts) break;
      if (Atomics.compareExchange(t, 1, claim, claim + 1) !== claim) continue;
      const from = part * partRows;
      gemmNT(A.subarray(from * K), W, bias, C.subarray(from * N), Math.min(partRows, rows - from), K, N, accumulate);
      Atomics.add(t, 2, 1);
    }
    for (let done = Atomics.load(t, 2); done < parts; done = Atomics.load(t, 2)) Atomics.wait(t, 2, done, 1000);
    if (Atomics.load(t, 3) !== 0) throw new CtrkitError('E_STATE', 'trainer: a kernel thread failed; train with threads: 1');
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, 0, -1);
    Atomics.notify(this.control, 0);
    for (const helper of this.helpers) void helper.worker.terminate();
  }
}

/**
 * @internal The kernels of `threads` threads: {@link SERIAL_KERNELS} for 1, else helper threads
 * over shared chunks (Node ≥ 20.16, where `process.getBuiltinModule` loads `worker_threads`
 * without an import that would tie the package to Node).
 *
 * @throws `CtrkitError` `E_CONFIG` for a count that is not a positive integer, or for more than
 *   one thread where `worker_threads` or `SharedArrayBuffer` is not available.
 */
export function createDenseKernels(threads: number, trainer: string): DenseKernels {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CtrkitError('E_CONFIG', `${trainer} trainer: threads must be an integer in [1, 64], got ${threads}`);
  if (threads === 1) return SERIAL_KERNELS;
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const workerThreads = process?.getBuiltinModule?.('node:worker_threads') as (WorkerThreadsModule & { MessageChannel: new () => { port1: { postMessage(m: unknown): void }; port2: unknown } }) | undefined;
  if (workerThreads === undefined || typeof SharedArrayBuffer !== 'function') {
    throw new CtrkitError('E_CONFIG', `${trainer} trainer: threads > 1 needs Node ≥ 20.16 (worker_threads and SharedArrayBuffer); got threads ${threads} here`);
  }
  return new ThreadedKernels(threads, workerThreads, workerThreads.MessageChannel);
}
