import { performance } from 'node:perf_hooks';
import test from 'ava';
import { EventTracker } from '../src/flood/tracker.js';

test('F2: the latency percentiles of the report never pass its maximum (a histogram bucket\'s upper bound is not a measured value)', (t) => {
  const now = performance.now;
  let clock = 0;
  performance.now = () => clock;
  t.teardown(() => {
    performance.now = now;
  });
  const tracker = new EventTracker();
  // 2,050 µs each: above 2,048 the histogram's buckets are 2 µs wide, and this one's upper bound is 2,051.
  for (let seq = 0; seq < 100; seq++) {
    clock = seq;
    tracker.begin(seq);
    clock = seq + 2.05;
    tracker.finished(seq, null);
  }
  const l = tracker.latency();
  t.is(l.max, 2050);
  t.deepEqual([l.p50, l.p90, l.p99], [2050, 2050, 2050]);
});
