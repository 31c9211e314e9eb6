import type { FastifyInstance } from 'fastify';
import { BadQueryError, NotConfiguredError, NotFoundError } from './errors.js';
import { sendJson } from './json.js';
import { parseQuery } from './query.js';
import type { DumpView, RestSchedulerSource } from './sources.js';

const VIEWS: ReadonlySet<string> = new Set<DumpView>(['nb', 'sb', 'cached']);

/** `GET /scheduler/txn-history`, `/scheduler/dump`, `/scheduler/status` (SPEC C20). */
export function registerSchedulerRoutes(app: FastifyInstance, scheduler: RestSchedulerSource | undefined): void {
  app.get('/scheduler/txn-history', async (request, reply) => {
    const q = parseQuery(request.query, { 'seq-num': 'uint', since: 'seconds', until: 'seconds' });
    const seqNum = q['seq-num'];
    if (seqNum !== undefined) {
      if (typeof scheduler?.getRecordedTransaction !== 'function') throw new NotConfiguredError('scheduler', '/scheduler/txn-history');
      const txn = scheduler.getRecordedTransaction(seqNum);
      if (txn === undefined) throw new NotFoundError(`no recorded transaction with seq-num ${seqNum}`);
      return sendJson(reply, 200, txn);
    }
    if (typeof scheduler?.getTransactionHistory !== 'function') throw new NotConfiguredError('scheduler', '/scheduler/txn-history');
    // The scheduler filters on epoch milliseconds; the API speaks Unix seconds.
    const opts: { since?: number; until?: number } = {};
    if (q.since !== undefined) opts.since = q.since * 1000;
    if (q.until !== undefined) opts.until = q.until * 1000;
    return sendJson(reply, 200, scheduler.getTransactionHistory(opts));
  });

  app.get('/scheduler/dump', async (request, reply) => {
    const q = parseQuery(request.query, { 'key-prefix': 'string', view: 'string' });
    const view = q.view ?? 'cached';
    if (!VIEWS.has(view)) throw new BadQueryError(`query parameter "view" must be one of nb, sb, cached, received ${JSON.stringify(view)}`);
    if (typeof scheduler?.dump !== 'function') throw new NotConfiguredError('scheduler', '/scheduler/dump');
    const values = await scheduler.dump(q['key-prefix'] ?? '', view as DumpView);
    return sendJson(reply, 200, values);
  });

  app.get('/scheduler/status', async (request, reply) => {
    const q = parseQuery(request.query, { key: 'string' });
    if (q.key === undefined || q.key === '') throw new BadQueryError('query parameter "key" is required');
    if (typeof scheduler?.getStatus !== 'function') throw new NotConfiguredError('scheduler', '/scheduler/status');
    const status = scheduler.getStatus(q.key);
    if (status === undefined || status === null) throw new NotFoundError(`the scheduler knows no key ${JSON.stringify(q.key)}`);
    return sendJson(reply, 200, { key: q.key, ...(status as object) });
  });
}
