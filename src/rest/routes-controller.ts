import type { FastifyInstance } from 'fastify';
import { HealingResync } from '../api/events.js';
import { HealingResyncType } from '../api/enums.js';
import { EngineError } from '../api/errors.js';
import { NotConfiguredError, UnavailableError } from './errors.js';
import { sendJson } from './json.js';
import type { ResyncTrigger } from './options.js';
import { parseQuery } from './query.js';
import type { EventHistoryQuery, RestControllerSource } from './sources.js';

const HISTORY_PARAMS = {
  'seq-num': 'uint',
  since: 'seconds',
  until: 'seconds',
  from: 'uint',
  to: 'uint',
  first: 'uint',
  last: 'uint',
} as const;

/** Engine errors that mean "not now" rather than "broken". */
const UNAVAILABLE = new Set(['ERR_EVENT_QUEUE_FULL', 'ERR_CONTROLLER_CLOSED', 'ERR_EVENT_LOOP_ABORTING', 'ERR_REMOTE_DB_UNAVAILABLE', 'ERR_DBWATCHER_CLOSED', 'ERR_DBWATCHER_NOT_STARTED']);

/** `GET /controller/event-history` and `POST /controller/resync` (SPEC C16, C20). */
export function registerControllerRoutes(
  app: FastifyInstance,
  controller: RestControllerSource | undefined,
  resync: ResyncTrigger | undefined,
): void {
  app.get('/controller/event-history', async (request, reply) => {
    const q = parseQuery(request.query, HISTORY_PARAMS);
    if (!controller) throw new NotConfiguredError('controller', '/controller/event-history');
    const query: EventHistoryQuery = {};
    if (q['seq-num'] !== undefined) query.seqNum = q['seq-num'];
    // The controller filters on epoch milliseconds; the API speaks Unix seconds.
    if (q.since !== undefined) query.since = q.since * 1000;
    if (q.until !== undefined) query.until = q.until * 1000;
    if (q.from !== undefined) query.from = q.from;
    if (q.to !== undefined) query.to = q.to;
    if (q.first !== undefined) query.first = q.first;
    if (q.last !== undefined) query.last = q.last;
    return sendJson(reply, 200, controller.getEventHistory(query));
  });

  const trigger = resync ?? defaultResync(controller);
  app.post('/controller/resync', async (request, reply) => {
    parseQuery(request.query, {});
    if (!trigger) throw new NotConfiguredError('controller or resync trigger', '/controller/resync');
    let description: string | void;
    try {
      description = await trigger();
    } catch (err) {
      if (err instanceof EngineError && UNAVAILABLE.has(err.code)) throw new UnavailableError(err);
      throw err;
    }
    return sendJson(reply, 202, { accepted: true, description: description || 'resync queued' });
  });
}

/** Without a remote DB, a resync request re-aligns the dataplane: a downstream healing resync. */
function defaultResync(controller: RestControllerSource | undefined): ResyncTrigger | undefined {
  const push = controller?.pushEvent;
  if (!controller || typeof push !== 'function') return undefined;
  return () => {
    push.call(controller, new HealingResync(HealingResyncType.Periodic));
    return 'downstream resync queued';
  };
}
