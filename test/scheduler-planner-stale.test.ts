// The pure planner on keys it reaches without being asked (dependencies, dependents): it names the
// dirty ones it relied on (`stale`, for the scheduler to re-read) and re-creates, never updates, a
// dependency whose change needs a re-create. Plain data through a PlanInput built here.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { plan } from '../src/scheduler/index.js';
import { planInput } from './helpers/planner-input.js';
import { THING_PREFIX, thing } from './helpers/scheduler-fake-dataplane.js';

const K = (name: string): string => THING_PREFIX + name;
const named = (name: string, v: Value): Value => ({ name, ...v });


const ops = (p: ReturnType<typeof plan>): string[] => p.ops.map((o) => `${o.op} ${o.key.slice(THING_PREFIX.length)}${o.note ? ` (${o.note})` : ''}`);

test('S3 S5: a dependent reached only through its dependency\'s re-create is named stale when its last operation failed', (t) => {
  // `child` failed half-way: the scheduler believes it absent, the dataplane may hold it.
  const applied = new Map<string, Value>([[K('p'), named('p', thing(1))]]);
  const desired = new Map<string, Value>([
    [K('p'), named('p', thing(1, undefined, true))],
    [K('child'), named('child', thing(1, 'p'))],
  ]);
  const clean = plan([K('p')], planInput(applied, desired));
  t.deepEqual(ops(clean), ['delete p (recreate)', 'create p (recreate)', 'create child']);
  t.deepEqual(clean.stale, []);
  const p = plan([K('p')], planInput(applied, desired, { dirty: new Set([K('child')]) }));
  t.deepEqual(p.stale, [K('child')], 'the create of child relied on its possibly stale applied state');
});

test('S3 S5: a dirty key the plan never reaches is not named stale', (t) => {
  const applied = new Map<string, Value>([[K('a'), named('a', thing(1))]]);
  const desired = new Map<string, Value>([
    [K('a'), named('a', thing(2))],
    [K('other'), named('other', thing(1))],
  ]);
  const p = plan([K('a')], planInput(applied, desired, { dirty: new Set([K('other')]) }));
  t.deepEqual(ops(p), ['update a']);
  t.deepEqual(p.stale, []);
});

test('S2 S3: a dependency reached through a changed key, whose change an update cannot make, is deleted and created again', (t) => {
  // `p` differs from the dataplane in a way only a re-create fixes (e.g. after a re-read); only
  // `child` is asked for.
  const applied = new Map<string, Value>([[K('p'), named('p', thing(1))]]);
  const desired = new Map<string, Value>([
    [K('p'), named('p', thing(1, undefined, true))],
    [K('child'), named('child', thing(1, 'p'))],
  ]);
  const p = plan([K('child')], planInput(applied, desired));
  t.deepEqual(ops(p), ['delete p (recreate)', 'create p (recreate)', 'create child']);
  const create = p.ops.findIndex((o) => o.key === K('p') && o.op === 'create');
  t.deepEqual(p.ops[create]?.after, [p.ops.findIndex((o) => o.key === K('p') && o.op === 'delete')]);
  t.deepEqual(p.ops.find((o) => o.key === K('child'))?.after, [create]);
});
