// Regression (model seed 419, step 174): an interface updated in place to be unnumbered to one the
// same sync creates. Both are late (they depend on an interface), so they share one sub-wave; the
// update's requests need the new interface's sw_if_index, which only its create reply tells.
import test from 'ava';
import { interfaceKey } from '../src/descriptors/index.js';
import { StateSnapshot } from '../src/offload/index.js';
import { type Entry, loopback, startOffloadStack } from './helpers/offload-stack.js';

const SHARDS = 4;

const tap = (name: string, unnumberedTo?: string): Entry => [
  interfaceKey(name),
  { name, type: 'TAP', enabled: false, ipAddresses: [], vrf: 0, ...(unnumberedTo ? { unnumbered: { interfaceWithIp: unnumberedTo } } : {}) },
];

for (const mode of ['pool', 'inline'] as const) {
  test(`S1, S3: an interface updated in place to be unnumbered to one created in the same sync (itself unnumbered) is applied (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const before: Entry[] = [loopback('loop1', 0, '172.16.1.1/24'), tap('b')];
    const first = await s.pool.sync(StateSnapshot.fromEntries(before, SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const b = s.pool.metadata.get(interfaceKey('b'));
    // c is new, unnumbered to loop1; b (unchanged type and VRF: an update) becomes unnumbered to c.
    const desired = StateSnapshot.fromEntries([loopback('loop1', 0, '172.16.1.1/24'), tap('c', 'loop1'), tap('b', 'c')], SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors.map((e) => `${e.key}: ${e.error.message}`), []);
    t.is(s.pool.metadata.get(interfaceKey('b')), b, 'b was updated in place');
    const c = s.pool.metadata.get(interfaceKey('c'));
    const sim = await s.sim.snapshot();
    t.is(sim.interfaces.find((i) => i.sw_if_index === b)?.unnumbered, c, 'b is unnumbered to the new c');
    t.is(sim.interfaces.find((i) => i.sw_if_index === c)?.unnumbered, s.pool.metadata.get(interfaceKey('loop1')), 'c is unnumbered to loop1');
    const again = await s.pool.sync(desired, r.applied, { mode });
    t.is(again.ops, 0, 'nothing left to do');
  });
}
