// pushEvent storms past the queue capacity against the real engine: a full queue throws
// EventQueueFullError at once, nothing accepted is lost (each accepted event is done exactly once),
// and after close() pushEvent throws ControllerClosedError.
import test from 'ava';
import { ControllerClosedError, EventQueueFullError } from '../src/api/index.js';
import { TestUpdate, loopback, putsHandler, startTestEngine } from './helpers/flood-engine.js';

test('C2 C13 C17: a storm past the queue size is refused with EventQueueFullError; every accepted event is done once', async (t) => {
  const engine = await startTestEngine([putsHandler], { eventQueueSize: 16 });
  const accepted: TestUpdate[] = [];
  let refused = 0;
  try {
    for (let i = 0; i < 200; i++) {
      const ev = new TestUpdate(`e${i}`, new Map([[`config/vpp/v2/interfaces/storm${i}`, loopback(`storm${i}`)]]));
      try {
        engine.controller.pushEvent(ev);
        accepted.push(ev);
      } catch (err) {
        t.true(err instanceof EventQueueFullError);
        t.is((err as EventQueueFullError).code, 'ERR_EVENT_QUEUE_FULL');
        refused++;
      }
    }
    t.is(accepted.length, 16);
    t.is(refused, 184);
    const errors = await Promise.all(accepted.map((e) => e.completion.settled));
    t.deepEqual(errors, accepted.map(() => null));
    t.true(accepted.every((e) => e.completion.calls === 1));
    const sb = await engine.scheduler.dump('config/vpp/v2/interfaces/storm', 'sb');
    t.is(sb.size, 16, 'exactly the accepted events reached the dataplane');
  } finally {
    await engine.close();
  }
  t.throws(() => engine.controller.pushEvent(new TestUpdate('late')), { instanceOf: ControllerClosedError });
});

test('C17: events accepted right before close() are finished, none left hanging', async (t) => {
  const engine = await startTestEngine([putsHandler], { eventQueueSize: 64 });
  const accepted = Array.from({ length: 50 }, (_, i) => new TestUpdate(`c${i}`, new Map([[`config/vpp/v2/interfaces/c${i}`, loopback(`c${i}`)]])));
  for (const e of accepted) engine.controller.pushEvent(e);
  await engine.close();
  t.true(accepted.every((e) => e.completion.calls === 1));
});
