/**
 * The other workers of this node:cluster primary (`WORKERS` > 1), as one worker sees them.
 *
 * The primary hands each connection to one worker, so a bid's win or loss notice — or the
 * host's impression event — often reaches a worker that did not bid. Settlement stays once
 * fleet-wide without them (the registry is in Redis), but the bid's hold, its reservation in the
 * bidding worker's ledger lease, and what the impression is counted with (the user, the pCTR)
 * are in the bidding worker's memory. So a worker that finds no hold of its own asks the others,
 * through the primary, to commit or release theirs: the win is charged on the reservation made
 * for it (a fresh one could find the budget still held by it and go unrecorded), and the
 * impression is counted for its user (frequency caps).
 *
 * `/metrics` answers for every worker: each worker's series carry `worker="<id>"`, and the
 * worker asked gathers the others' through the primary.
 *
 * @internal
 */
import cluster from 'node:cluster';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { CtrkitError } from '@ctrkit/core';
import type { Hold, HoldBook } from '../holds.js';
import type { SignedFields } from '../signing.js';
import { isWorkerMessage, type AskMessage, type MetricsJson, type PeerAnswers, type PeerQuestion, type PeersUpMessage } from '../worker-messages.js';
import { describe } from './describe.js';

/**
 * How long a worker waits for the others' answer about a hold. After it, the win notice is answered
 * 503 and the pair stays committed: the hold's worker may still commit it, so this one never does.
 */
export const PEER_TIMEOUT_MS = 5_000;

/** The other workers, reached through the primary. */
export interface WorkerPeers {
  /** This worker's cluster id (in the `x-ctrkit-worker` header and the `worker` label). */
  readonly id: number;
  /**
   * Asks the worker holding this (auction, imp) to commit its hold at `amount`; call it only after
   * the settlement registry moved the pair to committed (so at most one commit is asked for).
   *
   * @returns The hold and the amount committed, or undefined when no other worker holds it.
   * @throws CtrkitError `E_TIMEOUT` when the others did not answer in {@link PEER_TIMEOUT_MS}.
   */
  commitHold(fields: SignedFields, amount: number): Promise<{ readonly hold: Hold; readonly committed: number } | undefined>;
  /** Asks the worker holding this (auction, imp) to release it; false when none did (or none answered in time: its hold then expires). */
  releaseHold(auction: string, imp: string): Promise<boolean>;
  /** Every worker's series as Prometheus text, each with its `worker` label. */
  metrics(): Promise<string>;
}

/**
 * A hold as it can cross to another worker: its reservation as plain fields (the ledger's own
 * object carries a brand that does not serialize, and is of use only to this worker's ledger).
 */
const portable = (hold: Hold): Hold => {
  const { ok, id, campaignId, amount, expiresAt } = hold.reservation;
  return { ...hold, reservation: { ok, id, campaignId, amount, expiresAt } };
};

/** What {@link joinPeers} needs. */
export interface PeersDeps {
  /** Every answer says which worker gave it (`x-ctrkit-worker`). */
  readonly app: FastifyInstance;
  /** This worker's holds (read when another worker asks). */
  readonly holds: () => HoldBook;
  /** This worker's registry: labeled `worker`, and read when another worker asks. */
  readonly registry: Registry;
  readonly log: FastifyBaseLogger;
}

/**
 * Joins the primary's other workers when this process is a cluster worker: answers their
 * questions about this worker's holds and series from now on, labels its series, and adds the
 * `x-ctrkit-worker` header to every answer. Call it before the routes are registered.
 *
 * @param deps - The instance, the holds, the registry, the logger.
 * @returns The peers, or undefined when this process is not a cluster worker (`WORKERS=1`).
 */
export function joinPeers(deps: PeersDeps): WorkerPeers | undefined {
  const worker = cluster.worker;
  if (!cluster.isWorker || worker === undefined || process.send === undefined) return undefined;
  const { app, registry, log } = deps;
  const id = worker.id;
  const send = (message: unknown): void => {
    process.send?.(message);
  };
  registry.setDefaultLabels({ worker: String(id) });
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-ctrkit-worker', String(id));
  });

  async function answer(question: PeerQuestion): Promise<unknown> {
    if (question.kind === 'metrics') return registry.getMetricsAsJSON();
    const holds = deps.holds();
    const hold = holds.byImp(question.auction, question.imp);
    if (hold === undefined) return null;
    if (question.kind === 'release-hold') return (await holds.release(hold, 'released-loss')) ? { released: true } : null;
    if (hold.adId !== question.creative) return null;
    const committed = await holds.commit(hold, question.amount);
    return committed === undefined ? null : { hold: portable(hold), committed };
  }

  const reply = (questionId: number, value: unknown): void => {
    try {
      send({ ctrkit: 'answer', id: questionId, answer: value });
    } catch (error) {
      // Something in the answer would not serialize: the asker must still hear from this worker.
      log.error({ err: describe(error) }, 'could not send an answer to another worker');
      send({ ctrkit: 'answer', id: questionId, answer: null });
    }
  };

  let next = 0;
  const waiting = new Map<number, (answers: readonly unknown[]) => void>();
  process.on('message', (message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.ctrkit === 'question') {
      answer(message.question).then(
        (value) => reply(message.id, value),
        (error: unknown) => {
          log.warn({ question: message.question.kind, err: describe(error) }, 'could not answer another worker');
          reply(message.id, null);
        },
      );
    } else if (message.ctrkit === 'answers') {
      waiting.get(message.id)?.(message.answers);
      waiting.delete(message.id);
    }
  });
  send({ ctrkit: 'peers-up' } satisfies PeersUpMessage);

  /** Asks through the primary; resolves with the answers that are not null, or undefined after `timeoutMs`. */
  const ask = <K extends PeerQuestion['kind']>(question: PeerQuestion & { kind: K }, timeoutMs: number): Promise<NonNullable<PeerAnswers[K]>[] | undefined> =>
    new Promise((resolve) => {
      const askId = next++;
      const timer = setTimeout(() => {
        waiting.delete(askId);
        resolve(undefined);
      }, timeoutMs);
      waiting.set(askId, (answers) => {
        clearTimeout(timer);
        resolve(answers as NonNullable<PeerAnswers[K]>[]);
      });
      send({ ctrkit: 'ask', id: askId, question } satisfies AskMessage);
    });

  return {
    id,
    async commitHold(fields, amount) {
      const answers = await ask({ kind: 'commit-hold', auction: fields.auction, imp: fields.imp, creative: fields.creative, amount }, PEER_TIMEOUT_MS);
      if (answers === undefined) {
        log.error({ requestId: fields.auction, imp: fields.imp }, 'win notice: the other workers did not say whether one holds this bid; it stays committed in the registry and is not charged here (its worker charges it if it holds it)');
        throw new CtrkitError('E_TIMEOUT', `the other workers did not answer about the hold of ${fields.auction}/${fields.imp} within ${PEER_TIMEOUT_MS} ms`);
      }
      return answers[0];
    },
    async releaseHold(auction, imp) {
      const answers = await ask({ kind: 'release-hold', auction, imp }, PEER_TIMEOUT_MS);
      return answers !== undefined && answers.length > 0;
    },
    async metrics() {
      const answers = (await ask({ kind: 'metrics' }, PEER_TIMEOUT_MS)) ?? [];
      // Each worker's values carry its own `worker` label, so summing by label set keeps them apart.
      const own = answers.length > 0 ? answers : [await registry.getMetricsAsJSON()];
      return AggregatorRegistry.aggregate<'text/plain; version=0.0.4; charset=utf-8'>(own satisfies MetricsJson[]).metrics();
    },
  };
}
