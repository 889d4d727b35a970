/**
 * `GET /openrtb2/win` and `GET /openrtb2/loss`: the bid's signed `burl` / `lurl`. A win commits
 * the clearing price once (never above the signed bid) and counts the impression; a loss releases
 * the hold once. A notice whose signature, price or expiry fails is refused with a reason and
 * counted.
 *
 * @internal
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { describe, headerText } from '../app/describe.js';
import { chargeMicrosOf, cpmMicrosOf, MICROS } from '../app/money.js';
import { REFUSAL_STATUS, type NoticeRefusal, type Settling, type SignedParts, type WinResult } from '../app/settling.js';
import type { WorkerPeers } from '../app/peers.js';
import type { ServerMetrics } from '../metrics.js';
import { noticeQuerySchema } from '../schemas.js';
import type { SettlementRegistry, SettlementState } from '../settlement.js';

/** What the notice routes need. */
export interface NoticeRouteDeps {
  readonly settling: Pick<Settling, 'holds' | 'checkSigned' | 'settleWin' | 'countImpression' | 'forgetExpired'>;
  readonly settlement: SettlementRegistry;
  readonly metrics: Pick<ServerMetrics, 'notices'>;
  /** The other workers (`WORKERS` > 1): a loss releases the hold of the worker that bid; undefined in a single process. */
  readonly peers?: Pick<WorkerPeers, 'releaseHold'> | undefined;
}

type NoticeQuery = { id: string; imp: string; cmp?: string; crid?: string; bid?: string; exp?: string; sig?: string; price?: string };

const signedParts = (q: NoticeQuery): SignedParts => ({
  auction: q.id,
  imp: q.imp,
  ...(q.cmp === undefined ? {} : { campaign: q.cmp }),
  ...(q.crid === undefined ? {} : { creative: q.crid }),
  ...(q.bid === undefined ? {} : { bid: q.bid }),
  ...(q.exp === undefined ? {} : { exp: q.exp }),
  ...(q.sig === undefined ? {} : { sig: q.sig }),
});

/**
 * Registers the win and loss notice routes.
 *
 * @param app - The instance (encapsulated: the routes only).
 * @param deps - The settling path, the registry, the counters.
 */
export const noticeRoutes: FastifyPluginAsync<NoticeRouteDeps> = async (app, deps) => {
  const { settling, settlement, metrics, peers } = deps;
  const { holds } = settling;

  const refuseNotice = (reply: FastifyReply, kind: 'win' | 'loss', refusal: NoticeRefusal, reason: string) => {
    metrics.notices.inc({ kind, result: refusal });
    return reply.code(REFUSAL_STATUS[refusal]).header('x-ctrkit-settled', 'refused').header('x-ctrkit-reason', headerText(`${refusal}: ${reason}`)).send({ error: refusal, reason });
  };

  /** The win (billing) notice: checks its signature, commits the clearing price once and counts the impression. */
  async function win(request: FastifyRequest, reply: FastifyReply) {
    const query = request.query as NoticeQuery;
    const checked = settling.checkSigned(signedParts(query));
    if (!checked.ok) return refuseNotice(reply, 'win', checked.refusal, checked.reason);
    const { fields } = checked;
    const priceMicros = query.price === undefined ? fields.bidMicros : cpmMicrosOf(query.price);
    if (priceMicros === undefined) return refuseNotice(reply, 'win', 'malformed', `price ${query.price ?? ''} is not a CPM`);
    if (priceMicros > fields.bidMicros) return refuseNotice(reply, 'win', 'price_above_bid', `the clearing price ${query.price ?? ''} CPM is above the bid ${fields.bidMicros / MICROS} CPM`);
    let settled: WinResult;
    try {
      settled = await settling.settleWin(fields, chargeMicrosOf(priceMicros));
    } catch (error) {
      metrics.notices.inc({ kind: 'win', result: 'unavailable' });
      return reply.code(503).header('retry-after', '1').header('x-ctrkit-settled', 'unavailable').send({ error: 'unavailable', reason: describe(error) });
    }
    metrics.notices.inc({ kind: 'win', result: settled.result });
    if (settled.result === 'committed' || settled.result === 'committed_late' || settled.result === 'unrecorded_late') await settling.countImpression(fields, settled.hold, settled.chargeMicros, undefined);
    const header = settled.result === 'committed_late' ? 'committed' : settled.result === 'unrecorded_late' ? 'unrecorded' : settled.result;
    return reply.code(204).header('x-ctrkit-settled', header).send();
  }

  /** The loss notice: checks its signature and releases the hold once. */
  async function loss(request: FastifyRequest, reply: FastifyReply) {
    const query = request.query as NoticeQuery;
    const checked = settling.checkSigned(signedParts(query));
    if (!checked.ok) return refuseNotice(reply, 'loss', checked.refusal, checked.reason);
    const { fields } = checked;
    let previous: SettlementState;
    try {
      previous = await settlement.transition(fields.auction, fields.imp, ['open', 'expired'], 'released');
    } catch (error) {
      metrics.notices.inc({ kind: 'loss', result: 'unavailable' });
      return reply.code(503).header('retry-after', '1').header('x-ctrkit-settled', 'unavailable').send({ error: 'unavailable', reason: describe(error) });
    }
    if (previous === 'open') {
      const hold = holds.byImp(fields.auction, fields.imp);
      if (hold !== undefined) await holds.release(hold, 'released-loss');
      // Another worker bid: its reservation goes back now rather than when its hold expires.
      else await peers?.releaseHold(fields.auction, fields.imp);
    }
    settling.forgetExpired(fields.auction, fields.imp);
    const result = previous === 'open' || previous === 'expired' ? 'released' : previous === 'released' ? 'duplicate' : previous === 'committed' ? 'already_committed' : 'unknown';
    metrics.notices.inc({ kind: 'loss', result });
    return reply.code(204).header('x-ctrkit-settled', result).send();
  }

  app.get('/openrtb2/win', { schema: { querystring: noticeQuerySchema } }, win);
  app.get('/openrtb2/loss', { schema: { querystring: noticeQuerySchema } }, loss);
};
