/**
 * What the workers of one node:cluster primary (`WORKERS` > 1) and the primary say to each other
 * over the cluster's IPC channel (advanced serialization: typed arrays travel as they are).
 *
 * A worker asks the others a question through the primary (`ask`); the primary puts it to each
 * of them (`question`), collects their `answer`s and hands the asker the `answers`. Which workers
 * are asked, and when the primary stops waiting, depends on the question (`QUESTION_RULES`).
 *
 * @internal
 */
import type { Registry } from 'prom-client';
import type { Hold } from './holds.js';

/** A question about state one worker holds in its memory. */
export type PeerQuestion =
  /** Commit your hold of this (auction, imp), if it is this creative's, at `amount` (currency units). */
  | { readonly kind: 'commit-hold'; readonly auction: string; readonly imp: string; readonly creative: string; readonly amount: number }
  /** Release your hold of this (auction, imp). */
  | { readonly kind: 'release-hold'; readonly auction: string; readonly imp: string }
  /** Your registry's series, as `getMetricsAsJSON` gives them. */
  | { readonly kind: 'metrics' };

/** A registry's series as `getMetricsAsJSON` gives them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** What a worker answers to a question (null: not mine / nothing). */
export interface PeerAnswers {
  readonly 'commit-hold': { readonly hold: Hold; readonly committed: number } | null;
  readonly 'release-hold': { readonly released: true } | null;
  readonly metrics: MetricsJson;
}

/** Who is asked, and when the primary answers the asker. */
export interface QuestionRule {
  /** `others`: every other worker; `all`: the asker too. */
  readonly ask: 'others' | 'all';
  /** `first`: as soon as one answer is not null (or all are null); `every`: once all answered. */
  readonly until: 'first' | 'every';
  /** The primary answers with what it has after this long (ms); undefined: it waits for the answers or the workers' exit. */
  readonly timeoutMs: number | undefined;
}

/**
 * The rule of each question. A hold question has no timeout at the primary: an answer given up on
 * could still commit the hold, and a second commit elsewhere would charge the win twice; the asker
 * gives up alone, and then never charges it itself.
 */
export const QUESTION_RULES: Readonly<Record<PeerQuestion['kind'], QuestionRule>> = {
  'commit-hold': { ask: 'others', until: 'first', timeoutMs: undefined },
  'release-hold': { ask: 'others', until: 'first', timeoutMs: undefined },
  metrics: { ask: 'all', until: 'every', timeoutMs: 2_000 },
};

/** Worker → primary: its question handler is installed (it may be asked from now on). */
export interface PeersUpMessage {
  readonly ctrkit: 'peers-up';
}

/** Worker → primary: a question for the other workers. */
export interface AskMessage {
  readonly ctrkit: 'ask';
  /** The asker's own id for the question. */
  readonly id: number;
  readonly question: PeerQuestion;
}

/** Primary → worker: a question another worker asks. */
export interface QuestionMessage {
  readonly ctrkit: 'question';
  /** The primary's id for the question. */
  readonly id: number;
  readonly question: PeerQuestion;
}

/** Worker → primary: its answer. */
export interface AnswerMessage {
  readonly ctrkit: 'answer';
  readonly id: number;
  readonly answer: unknown;
}

/** Primary → asker: the answers that are not null (`first`: at most one), by the asker's id. */
export interface AnswersMessage {
  readonly ctrkit: 'answers';
  readonly id: number;
  readonly answers: readonly unknown[];
}

/** Worker → primary (and the primary → its own parent): listening and the model warm. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly url: string;
}

/** Any message of this protocol. */
export type WorkerMessage = PeersUpMessage | AskMessage | QuestionMessage | AnswerMessage | AnswersMessage;

/**
 * Whether a value that came over IPC is one of this protocol's messages (anything else on the
 * channel — prom-client's, the test runner's — is someone else's).
 *
 * @param message - What arrived.
 * @returns True for a {@link WorkerMessage}.
 */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === 'object' && message !== null && typeof (message as { ctrkit?: unknown }).ctrkit === 'string';
}
