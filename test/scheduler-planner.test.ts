// The pure planner, fed plain data through a PlanInput built here (no scheduler, no connector).
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { plan } from '../src/scheduler/index.js';
import { planInput } from './helpers/planner-input.js';
import { THING_PREFIX } from './helpers/scheduler-fake-dataplane.js';


function state(n: number): { applied: Map<string, Value>; desired: Map<string, Value> } {
  const applied = new Map<string, Value>([[THING_PREFIX + 'root', { name: 'root', x: 0 }]]);
  for (let i = 0; i < n; i++) applied.set(`${THING_PREFIX}k${i}`, { name: `k${i}`, x: i, parent: 'root' });
  return { applied, desired: new Map(applied) };
}

test('S1: planning a single-key change reads only that key, whatever the state size', (t) => {
  const counts: number[] = [];
  for (const n of [10, 10_000]) {
    const { applied, desired } = state(n);
    desired.set(`${THING_PREFIX}k5`, { name: 'k5', x: -1, parent: 'root' });
    const counter = { views: 0 };
    const p = plan([`${THING_PREFIX}k5`], planInput(applied, desired, { counter }));
    t.deepEqual(p.ops.map((o) => `${o.op} ${o.key}`), [`update ${THING_PREFIX}k5`]);
    counts.push(counter.views);
  }
  t.is(counts[0], counts[1]);
});

test('S3: the plan orders creates by dependency level and deletes dependents-first', (t) => {
  const applied = new Map<string, Value>([
    [THING_PREFIX + 'old', { name: 'old', x: 1 }],
    [THING_PREFIX + 'oldchild', { name: 'oldchild', x: 1, parent: 'old' }],
  ]);
  const desired = new Map<string, Value>([
    [THING_PREFIX + 'c', { name: 'c', x: 1, parent: 'b' }],
    [THING_PREFIX + 'b', { name: 'b', x: 1, parent: 'a' }],
    [THING_PREFIX + 'a', { name: 'a', x: 1 }],
    [THING_PREFIX + 'oldchild', { name: 'oldchild', x: 1, parent: 'old' }],
  ]);
  const p = plan([THING_PREFIX + 'c', THING_PREFIX + 'b', THING_PREFIX + 'a', THING_PREFIX + 'old'], planInput(applied, desired));
  t.deepEqual(
    p.ops.map((o) => `${o.op} ${o.key.slice(THING_PREFIX.length)} L${o.level}`),
    ['delete oldchild L0', 'delete old L0', 'create a L0', 'create b L1', 'create c L2'],
  );
  t.deepEqual(p.pending, [THING_PREFIX + 'oldchild']);
  const b = p.ops.findIndex((o) => o.key === THING_PREFIX + 'b');
  t.deepEqual(p.ops[b]?.after, [p.ops.findIndex((o) => o.key === THING_PREFIX + 'a')]);
});

test('S3: an update that needs a missing dependency becomes a delete + pending', (t) => {
  const applied = new Map<string, Value>([[THING_PREFIX + 'x', { name: 'x', x: 1 }]]);
  const desired = new Map<string, Value>([[THING_PREFIX + 'x', { name: 'x', x: 1, parent: 'nope' }]]);
  const p = plan([THING_PREFIX + 'x'], planInput(applied, desired));
  t.deepEqual(p.ops.map((o) => `${o.op} ${o.note ?? ''}`), ['delete dependency missing']);
  t.deepEqual(p.pending, [THING_PREFIX + 'x']);
});
