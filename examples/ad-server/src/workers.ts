/**
 * `WORKERS` > 1: the node:cluster primary. It forks that many server processes (this same
 * `main.ts`, as cluster workers), which share one listening port — the primary accepts the
 * connections and hands them to the workers in turn. It loads no model and serves nothing itself:
 *
 * - draws the notice key once when `NOTICE_KEY` is unset, so that every worker checks the others'
 *   signatures (and the previous key's end of grace, so that they agree on it);
 * - restarts a worker that exits unexpectedly after a back-off (250 ms, doubling to 30 s; reset
 *   once a worker has run for a minute), and gives up at start when a worker cannot start at all
 *   (exit code 2: a port in use, a bad setting) before any was ready;
 * - forwards SIGTERM / SIGINT to every worker, which shuts down gracefully by itself, and exits
 *   when the last one has (0 when each exited 0); forwards SIGHUP (reload the model);
 * - relays the workers' questions to one another (`worker-messages.ts`, `app/peers.ts`);
 * - tells its own parent `ready` once every worker first is.
 *
 * @internal
 */
import cluster, { type Worker } from 'node:cluster';
import type { ServerConfig } from './config.js';
import { randomNoticeKey } from './signing.js';
import { isWorkerMessage, QUESTION_RULES, type AnswersMessage, type PeerQuestion, type QuestionMessage, type ReadyMessage } from './worker-messages.js';

/** First restart delay; it doubles with each exit in a row up to {@link MAX_RESTART_DELAY_MS}. */
export const FIRST_RESTART_DELAY_MS = 250;
/** Longest restart delay. */
export const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that ran this long before exiting restarts after the first delay again. */
export const STABLE_AFTER_MS = 60_000;
/** Exit code of a server that could not start (`main.ts`). */
const CANNOT_START = 2;

const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY };

/** A log line as the workers' pino writes them (one JSON object a line on stdout). */
function createLog(level: string): (at: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void {
  const threshold = LEVELS[level] ?? LEVELS.info;
  return (at, fields, msg) => {
    const n = LEVELS[at] as number;
    if (n < (threshold as number)) return;
    process.stdout.write(`${JSON.stringify({ level: n, time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg })}\n`);
  };
}

/** The restart delay after `failures` exits in a row. */
export function restartDelayMs(failures: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

/** A question being relayed. */
interface Relay {
  readonly asker: Worker;
  readonly askerId: number;
  readonly question: PeerQuestion;
  /** Workers whose answer is awaited. */
  readonly waiting: Set<number>;
  readonly answers: unknown[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Runs the primary until every worker has exited after a signal (then exits the process).
 *
 * @param config - The configuration, read and checked (`workers` > 1, shared state in Redis).
 */
export function runPrimary(config: ServerConfig): void {
  const log = createLog(config.logLevel);
  const env: Record<string, string> = {};
  if (config.noticeKey === undefined) {
    env.NOTICE_KEY = randomNoticeKey().toString('hex');
    log('warn', {}, 'NOTICE_KEY is unset: the workers sign notices with a key drawn by the primary at start; notices of bids sent before the primary restarts, or by other hosts, will be refused. Set NOTICE_KEY (openssl rand -hex 32) for a fleet.');
  }
  if (config.noticeKeyPrevious !== undefined && config.noticeKeyPreviousUntil === undefined) env.NOTICE_KEY_PREVIOUS_UNTIL = String(Date.now() + config.noticeWindowMs);
  // Advanced serialization: a hold's served row (typed arrays) travels between workers as it is.
  cluster.setupPrimary({ serialization: 'advanced' });

  const started = new Map<number, number>();
  const answering = new Set<number>();
  const ready = new Set<number>();
  const exitCodes: (number | string)[] = [];
  let everReady = false;
  let failures = 0;
  let stopping = false;
  let startFailed = false;
  let pendingRestarts = 0;
  const restartTimers = new Set<ReturnType<typeof setTimeout>>();
  const relays = new Map<number, Relay>();
  let nextRelay = 0;

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const fork = (): void => {
    const worker = cluster.fork(env);
    started.set(worker.id, Date.now());
  };

  const finish = (relayId: number): void => {
    const relay = relays.get(relayId);
    if (relay === undefined) return;
    relays.delete(relayId);
    clearTimeout(relay.timer);
    if (!relay.asker.isConnected()) return;
    relay.asker.send({ ctrkit: 'answers', id: relay.askerId, answers: relay.answers } satisfies AnswersMessage);
  };
  const answered = (relayId: number, from: number, answer: unknown): void => {
    const relay = relays.get(relayId);
    if (relay === undefined || !relay.waiting.delete(from)) return;
    if (answer !== null && answer !== undefined) relay.answers.push(answer);
    const rule = QUESTION_RULES[relay.question.kind];
    if (relay.waiting.size === 0 || (rule.until === 'first' && relay.answers.length > 0)) finish(relayId);
  };
  const relay = (asker: Worker, askerId: number, question: PeerQuestion): void => {
    const rule = QUESTION_RULES[question.kind];
    const id = nextRelay++;
    const asked = live().filter((w) => answering.has(w.id) && w.isConnected() && (rule.ask === 'all' || w.id !== asker.id));
    const entry: Relay = { asker, askerId, question, waiting: new Set(asked.map((w) => w.id)), answers: [], timer: undefined };
    relays.set(id, entry);
    if (asked.length === 0) return finish(id);
    if (rule.timeoutMs !== undefined) entry.timer = setTimeout(() => finish(id), rule.timeoutMs);
    for (const w of asked) w.send({ ctrkit: 'question', id, question } satisfies QuestionMessage);
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isWorkerMessage(message)) {
      if (message.ctrkit === 'peers-up') answering.add(worker.id);
      else if (message.ctrkit === 'ask') relay(worker, message.id, message.question);
      else if (message.ctrkit === 'answer') answered(message.id, worker.id, message.answer);
      return;
    }
    const ready1 = message as Partial<ReadyMessage>;
    if (ready1.type !== 'ready' || typeof ready1.url !== 'string') return;
    ready.add(worker.id);
    log('info', { worker: worker.id, workerPid: worker.process.pid, url: ready1.url }, 'worker ready');
    if (!everReady && ready.size >= config.workers) {
      everReady = true;
      log('info', { url: ready1.url, workers: config.workers }, 'every worker ready');
      process.send?.({ type: 'ready', url: ready1.url, workers: config.workers });
    }
  });

  cluster.on('exit', (worker: Worker, code: number | null, signal: NodeJS.Signals | null) => {
    answering.delete(worker.id);
    ready.delete(worker.id);
    // Its pending answers will not come: the questions it was asked go on without it.
    for (const [relayId, entry] of relays) {
      if (entry.asker.id === worker.id) {
        relays.delete(relayId);
        clearTimeout(entry.timer);
      } else answered(relayId, worker.id, null);
    }
    const ranMs = Date.now() - (started.get(worker.id) ?? Date.now());
    started.delete(worker.id);
    if (stopping) {
      exitCodes.push(code ?? signal ?? 'unknown');
      log('info', { worker: worker.id, code, signal }, 'worker exited');
      if (live().length === 0 && pendingRestarts === 0) {
        const clean = exitCodes.every((c) => c === 0);
        log('info', { exitCodes }, 'shut down');
        process.exit(startFailed ? CANNOT_START : clean ? 0 : 1);
      }
      return;
    }
    if (!everReady && code === CANNOT_START) {
      log('error', { worker: worker.id, code }, 'a worker could not start; stopping the others');
      stopping = true;
      startFailed = true;
      for (const w of live()) w.process.kill('SIGTERM');
      if (live().length === 0) process.exit(CANNOT_START);
      return;
    }
    failures = ranMs >= STABLE_AFTER_MS ? 1 : failures + 1;
    const delayMs = restartDelayMs(failures);
    log('error', { worker: worker.id, code, signal, ranMs, restartInMs: delayMs }, 'worker exited unexpectedly; restarting it');
    pendingRestarts++;
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      pendingRestarts--;
      if (!stopping) fork();
    }, delayMs);
    restartTimers.add(timer);
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    pendingRestarts = 0;
    const workers = live();
    log('info', { signal, workers: workers.length }, 'shutting down: signaling every worker');
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w.process.kill(signal);
    // Each worker bounds its own shutdown (auctions 10 s, the grace period, closing); past that, it is stuck.
    const force = setTimeout(() => {
      const left = live();
      log('error', { workers: left.map((w) => w.id) }, 'workers still running long after the signal; killing them');
      for (const w of left) w.process.kill('SIGKILL');
      setTimeout(() => process.exit(1), 1_000).unref();
    }, config.shutdownGraceMs + 30_000);
    force.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    log('info', {}, 'SIGHUP: every worker reloads the model');
    for (const w of live()) w.process.kill('SIGHUP');
  });

  log('info', { workers: config.workers, host: config.host, port: config.port, redis: config.redisUrl }, 'forking workers');
  for (let i = 0; i < config.workers; i++) fork();
}
