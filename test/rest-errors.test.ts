import test from 'ava';
import { EngineError, EventQueueFullError } from '../src/api/index.js';
import { BadQueryError, NotConfiguredError, NotFoundError, RestError, UnauthorizedError, UnavailableError } from '../src/rest/index.js';

const table: Array<{ make: () => RestError; name: string; code: string; status: number; message: RegExp }> = [
  { make: () => new BadQueryError('bad "x"'), name: 'BadQueryError', code: 'ERR_REST_BAD_QUERY', status: 400, message: /bad "x"/ },
  { make: () => new UnauthorizedError(), name: 'UnauthorizedError', code: 'ERR_REST_UNAUTHORIZED', status: 401, message: /bearer token/ },
  { make: () => new NotFoundError('no txn 3'), name: 'NotFoundError', code: 'ERR_REST_NOT_FOUND', status: 404, message: /no txn 3/ },
  { make: () => new NotConfiguredError('scheduler', '/scheduler/dump'), name: 'NotConfiguredError', code: 'ERR_REST_NOT_CONFIGURED', status: 404, message: /\/scheduler\/dump.*without a scheduler/ },
  { make: () => new UnavailableError(new EventQueueFullError(5)), name: 'UnavailableError', code: 'ERR_EVENT_QUEUE_FULL', status: 503, message: /capacity 5/ },
];

for (const row of table) {
  test(`C20: ${row.name} has a stable code and HTTP status`, (t) => {
    const err = row.make();
    t.true(err instanceof EngineError);
    t.true(err instanceof RestError);
    t.is(err.name, row.name);
    t.is(err.code, row.code);
    t.is(err.statusCode, row.status);
    t.regex(err.message, row.message);
  });
}
