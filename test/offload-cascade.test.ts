import test, { type ExecutionContext } from 'ava';
import { aclKey, arpKey, bridgeDomainKey, interfaceKey, vrfTableKey } from '../src/descriptors/index.js';
import { Prng } from '../src/flood/prng.js';
import { StateSnapshot, type SyncMode, type SyncResult, WorkerTaskError, shardOf } from '../src/offload/index.js';
import { findCycles } from '../src/offload/shard-work.js';
import { Scheduler } from '../src/scheduler/index.js';
import { CRASH_PREFIX } from './fixtures/offload-crash-descriptors.js';
import { type Entry, type OffloadStack, layeredState, loopback, randomState, route, startOffloadStack, vrf } from './helpers/offload-stack.js';

const SHARDS = 8;

/** layeredState(60) with loop1 given an MTU, an ARP entry on loop1, an interface unnumbered to loop1 and routes through it. */
function state(unnumbered = true): Entry[] {
  const out = layeredState(60).map(([k, v]): Entry => (k === interfaceKey('loop1') ? [k, { ...v, mtu: 1500 }] : [k, v]));
  out.push([arpKey('loop1', '172.16.1.7'), { interface: 'loop1', ipAddress: '172.16.1.7', physAddress: '02:00:00:00:00:07', static: true }]);
  if (!unnumbered) return out;
  out.push([interfaceKey('unn1'), { name: 'unn1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 1, unnumbered: { interfaceWithIp: 'loop1' } }]);
  for (let i = 1000; i < 1010; i++) out.push(route(i, { vrf: 1, via: 'unn1' }));
  return out;
}

/** loop1 without its MTU: the interface descriptor re-creates it (VPP has no MTU to go back to). */
function withoutMtu(entries: Entry[]): Entry[] {
  return entries.map(([k, v]): Entry => {
    if (k !== interfaceKey('loop1')) return [k, v];
    const { mtu: _mtu, ...rest } = v;
    return [k, rest];
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S4: a sync that re-creates an interface re-creates what depends on it, also unchanged values and values of other shards, transitively (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const before = await s.sim.snapshot();
    const oldLoop1 = s.pool.metadata.get(interfaceKey('loop1'));
    const routesBefore = before.routes.filter((r) => r.table_id !== 0).length;

    const desired = StateSnapshot.fromEntries(withoutMtu(state()), SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors, []);
    const loop1 = s.pool.metadata.get(interfaceKey('loop1'));
    const unn1 = s.pool.metadata.get(interfaceKey('unn1'));
    t.not(loop1, oldLoop1, 'loop1 was re-created: a new sw_if_index');
    const after = await s.sim.snapshot();
    t.is(after.routes.filter((x) => x.table_id !== 0).length, routesBefore, 'no route was lost with the interface it goes through');
    const via = (sw: number | undefined): number => after.routes.filter((x) => x.paths.some((p) => p.sw_if_index === sw)).length;
    t.is(via(loop1), 10, 'routes through loop1 carry its new sw_if_index');
    t.is(via(unn1), 10, 'routes through the interface unnumbered to loop1 are back too');
    t.true(after.neighbors.some((n) => n.sw_if_index === loop1 && n.ip_address === '172.16.1.7'), 'the ARP entry on loop1 is back');
    t.is(after.interfaces.find((i) => i.sw_if_index === unn1)?.unnumbered, loop1, 'unn1 is unnumbered to the new loop1');
    // The re-creates are ops of this sync: loop1, unn1, their 20 routes and the ARP entry, twice each.
    t.is(r.ops, 2 * (1 + 1 + 20 + 1));
    const again = await s.pool.sync(desired, r.applied, { mode });
    t.is(again.ops, 0, 'the applied state the sync reports is the dataplane: nothing left to do');
  });

  test(`S3, S5: values left desired through a deleted interface fail with typed errors and are off the dataplane and out of the applied state (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const oldLoop1 = s.pool.metadata.get(interfaceKey('loop1'));
    // loop1 goes; unn1, the ARP entry and the routes through loop1 and unn1 stay desired, unchanged.
    const left = state().filter(([k]) => k !== interfaceKey('loop1'));
    const r = await s.pool.sync(StateSnapshot.fromEntries(left, SHARDS), first.applied, { mode });
    const failedKeys = new Set(r.errors.map((e) => e.key));
    const dependents = left.filter(([k, v]) => v['outgoingInterface'] === 'loop1' || v['outgoingInterface'] === 'unn1' || v['interface'] === 'loop1' || k === interfaceKey('unn1'));
    t.is(dependents.length, 22);
    t.deepEqual([...failedKeys].sort(), dependents.map(([k]) => k).sort(), 'exactly the values that depend on loop1, directly or through unn1, fail');
    for (const e of r.errors) t.is(typeof (e.error as { code?: unknown }).code, 'string', `${e.key}: a typed error`);
    const after = await s.sim.snapshot();
    t.is(after.routes.filter((x) => x.paths.some((p) => p.sw_if_index === oldLoop1)).length, 0);
    t.false(after.interfaces.some((i) => i.tag === 'unn1'), 'unn1 is deleted (its create fails without loop1)');
    t.is(after.routes.filter((x) => x.table_id !== 0).length, 50, 'the routes that do not go through loop1 or unn1 stay');
    const applied = new Set([...r.applied.entries()].map(([k]) => k));
    for (const [k] of dependents) t.false(applied.has(k), `${k} is not reported applied`);
    // Bringing loop1 back brings back everything.
    const healed = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.is((await s.sim.snapshot()).routes.filter((x) => x.table_id !== 0).length, 70);
  });

  test(`S5: a re-create whose create fails leaves its key and what depends on it out of the applied state; the next sync heals (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const desired = StateSnapshot.fromEntries(withoutMtu(state()), SHARDS);
    await s.sim.setFaults({ errorRate: 1, messages: ['create_loopback'] });
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.true(r.errors.some((e) => e.key === interfaceKey('loop1')), 'the create of loop1 failed');
    const applied = new Set([...r.applied.entries()].map(([k]) => k));
    t.false(applied.has(interfaceKey('loop1')), 'loop1 was deleted and not created again: not applied');
    t.false(applied.has(interfaceKey('unn1')));
    t.is((await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'loop1' || i.tag === 'unn1').length, 0);
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const snap = await s.sim.snapshot();
    t.is(snap.routes.filter((x) => x.table_id !== 0).length, 70);
    t.true(snap.neighbors.some((n) => n.ip_address === '172.16.1.7'));
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S1, S3, S5: after every sync of seeded random sequences the applied state the sync reports is what the dataplane holds (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const reader = new Scheduler({ connector: s.connector });
    t.teardown(() => reader.close());
    const held = async (): Promise<string[]> => [...(await reader.dump('', 'sb')).keys()].filter((k) => !k.startsWith(vrfTableKey(0, 'IPV4').slice(0, -1))).sort();
    for (let seed = 1; seed <= 4; seed++) {
      const rng = new Prng(seed);
      let applied = StateSnapshot.empty(SHARDS);
      let failures = 0;
      for (let step = 0; step < 12; step++) {
        const r = await s.pool.sync(StateSnapshot.fromEntries(randomState(rng), SHARDS), applied, { mode });
        applied = r.applied;
        failures += r.errors.length;
        for (const e of r.errors) t.is(typeof (e.error as { code?: unknown }).code, 'string', `seed ${seed} step ${step}, ${e.key}: a typed error`);
        t.deepEqual(await held(), [...applied.entries()].map(([k]) => k).sort(), `seed ${seed} step ${step}: dataplane and reported applied state agree`);
      }
      t.true(failures > 0, 'some values named a missing interface');
      const end = await s.pool.sync(StateSnapshot.empty(SHARDS), applied, { mode });
      t.deepEqual(end.errors, [], `seed ${seed}: removing everything`);
      t.deepEqual(await held(), []);
    }
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: a create whose Configure stage fails is deleted again: no half-configured interface stays on the dataplane (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    // The loopback is created, moving it into its table fails (and only that: the others stay where they are).
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table'] });
    const entries: Entry[] = [...state(), vrf(7), [interfaceKey('loop9'), { name: 'loop9', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.9.1/24'], vrf: 7 }], route(2000, { via: 'loop9' })];
    const r = await s.pool.sync(StateSnapshot.fromEntries(entries, SHARDS), first.applied, { mode });
    const byKey = new Map(r.errors.map((e) => [e.key, e.error]));
    t.is(byKey.size, 2, JSON.stringify([...byKey.keys()]));
    t.is((byKey.get(interfaceKey('loop9')) as { code?: string } | undefined)?.code, 'ERR_VPP_API');
    t.regex(byKey.get(interfaceKey('loop9'))?.message ?? '', /sw_interface_set_table/);
    t.truthy(byKey.get(route(2000, { via: 'loop9' })[0]), 'the route through it fails too');
    t.false((await s.sim.snapshot()).interfaces.some((i) => i.tag === 'loop9'), 'the loopback its create made is deleted again');
    t.false(s.pool.metadata.has(interfaceKey('loop9')));
    t.false([...r.applied.entries()].some(([k]) => k === interfaceKey('loop9')));
    t.is(r.applied.size, state().length + 1, 'everything else is applied');
  });

  test(`S5: a re-create whose delete fails is not created: the old value stays applied, and what depends on it comes back on it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(false), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const loop1 = s.pool.metadata.get(interfaceKey('loop1'));
    const routes = (await s.sim.snapshot()).routes.filter((x) => x.table_id !== 0).length;
    await s.sim.setFaults({ errorRate: 1, messages: ['delete_loopback'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(state(false)), SHARDS), first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [interfaceKey('loop1')], 'loop1 reports its failed delete');
    t.is((r.errors[0]?.error as { code?: string } | undefined)?.code, 'ERR_VPP_API');
    const applied = new Map([...r.applied.entries()]);
    t.deepEqual(applied.get(interfaceKey('loop1')), Object.fromEntries(state(false))[interfaceKey('loop1')], 'loop1 keeps its applied value (with the MTU)');
    t.is(applied.size, state(false).length);
    t.is(s.pool.metadata.get(interfaceKey('loop1')), loop1, 'and its sw_if_index');
    const snap = await s.sim.snapshot();
    t.is(snap.interfaces.filter((i) => i.tag === 'loop1').length, 1, 'no second loop1 was created');
    t.is(snap.routes.filter((x) => x.table_id !== 0).length, routes, 'the routes deleted before it are back');
    t.is(snap.routes.filter((x) => x.paths.some((p) => p.sw_if_index === loop1)).length, 10);
    t.true(snap.neighbors.some((n) => n.sw_if_index === loop1));
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(state(false)), SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.not(s.pool.metadata.get(interfaceKey('loop1')), loop1, 'the next sync re-creates it');
  });

  test(`S5: a value the dataplane drops with a re-created dependency is created again even when its own delete fails (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(false), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const routes = (await s.sim.snapshot()).routes.filter((x) => x.table_id !== 0).length;
    // Deleting a route already gone (or any route delete) fails: the re-created loop1 dropped them all the same.
    await s.sim.setFaults({ errorRate: 1, messages: ['ip_neighbor_add_del'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(state(false)), SHARDS), first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [arpKey('loop1', '172.16.1.7')], 'only the ARP entry fails: its create');
    await s.sim.setFaults({ errorRate: 0 });
    const loop1 = s.pool.metadata.get(interfaceKey('loop1'));
    const snap = await s.sim.snapshot();
    t.is(snap.routes.filter((x) => x.table_id !== 0).length, routes);
    t.false(snap.neighbors.some((n) => n.sw_if_index === loop1));
    t.false([...r.applied.entries()].some(([k]) => k === arpKey('loop1', '172.16.1.7')), 'the ARP entry is not applied: it went with the old loop1');
  });


}

/** state(false) with a TAP unnumbered to loop1 and routes through the TAP. */
function withTap(entries: Entry[]): Entry[] {
  const out = [...entries, [interfaceKey('tap1'), { name: 'tap1', type: 'TAP', enabled: true, ipAddresses: [], vrf: 0, unnumbered: { interfaceWithIp: 'loop1' } }] as Entry];
  for (let i = 3000; i < 3005; i++) out.push(route(i, { via: 'tap1' }));
  return out;
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: a value the dataplane keeps without its link (an interface unnumbered to a re-created one) whose delete fails is not reported applied; its routes come back on it, and the next sync makes it again with the link (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(withTap(state(false)), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const tap = s.pool.metadata.get(interfaceKey('tap1'));
    await s.sim.setFaults({ errorRate: 1, messages: ['tap_delete_v3'] });
    const desired = StateSnapshot.fromEntries(withTap(withoutMtu(state(false))), SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [interfaceKey('tap1')], 'only the TAP fails: its delete');
    t.is((r.errors[0]?.error as { code?: string } | undefined)?.code, 'ERR_VPP_API');
    // Before, it stayed applied as unnumbered to loop1, which the dataplane had dropped for good.
    t.false([...r.applied.entries()].some(([k]) => k === interfaceKey('tap1')), 'not applied: the dataplane took its unnumbered link');
    let snap = await s.sim.snapshot();
    t.is(snap.interfaces.filter((i) => i.tag === 'tap1').length, 1, 'no second TAP was created beside it');
    t.is(snap.interfaces.find((i) => i.tag === 'tap1')?.unnumbered, null);
    t.is(s.pool.metadata.get(interfaceKey('tap1')), tap, 'its metadata names the object left');
    t.is(snap.routes.filter((x) => x.paths.some((p) => p.sw_if_index === tap)).length, 5, 'the routes through it are back on it');
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(healed.errors, []);
    snap = await s.sim.snapshot();
    const now = s.pool.metadata.get(interfaceKey('tap1'));
    t.not(now, tap, 'the TAP left is deleted and made again');
    t.is(snap.interfaces.filter((i) => i.tag === 'tap1').length, 1);
    t.is(snap.interfaces.find((i) => i.tag === 'tap1')?.unnumbered, s.pool.metadata.get(interfaceKey('loop1')), 'unnumbered to the new loop1');
    t.is(snap.routes.filter((x) => x.paths.some((p) => p.sw_if_index === now)).length, 5, 'its routes came along');
    t.is((await s.pool.sync(desired, healed.applied, { mode })).ops, 0, 'nothing left to do');
  });

  test(`S3: a value that comes to depend on a re-created one is updated after it, not re-created (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    // loop2 (in VRF 2, with routes through it) becomes unnumbered to loop1 while loop1 is re-created.
    const before = state(false);
    const first = await s.pool.sync(StateSnapshot.fromEntries(before, SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const loop2 = s.pool.metadata.get(interfaceKey('loop2'));
    const after = withoutMtu(before).map(([k, v]): Entry => (k === interfaceKey('loop2') ? [k, { ...v, ipAddresses: [], unnumbered: { interfaceWithIp: 'loop1' } }] : [k, v]));
    const r = await s.pool.sync(StateSnapshot.fromEntries(after, SHARDS), first.applied, { mode });
    t.deepEqual(r.errors, []);
    t.is(s.pool.metadata.get(interfaceKey('loop2')), loop2, 'loop2 was updated in place');
    // loop1, its 10 routes and its ARP entry re-created; loop2 updated.
    t.is(r.ops, 2 * 12 + 1);
    const snap = await s.sim.snapshot();
    t.is(snap.interfaces.find((i) => i.sw_if_index === loop2)?.unnumbered, s.pool.metadata.get(interfaceKey('loop1')));
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: a Drop that fails counts when the delete of what it depends on fails too: both keep their applied values (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(false), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const loop1 = s.pool.metadata.get(interfaceKey('loop1'));
    await s.sim.setFaults({ errorRate: 1, messages: ['delete_loopback', 'ip_route_add_del'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(state(false)), SHARDS), first.applied, { mode });
    const via = state(false).filter(([, v]) => v['outgoingInterface'] === 'loop1').map(([k]) => k);
    t.is(via.length, 10);
    t.deepEqual(r.errors.map((e) => e.key).sort(), [interfaceKey('loop1'), ...via].sort(), 'loop1 and the routes through it, whose Drops failed while loop1 stayed');
    t.deepEqual([...r.applied.entries()].map(([k]) => k).sort(), state(false).map(([k]) => k).sort(), 'every key keeps a value');
    const snap = await s.sim.snapshot();
    t.is(snap.routes.filter((x) => x.paths.some((p) => p.sw_if_index === loop1)).length, 10, 'the routes are still there, on the old loop1');
    t.true(snap.neighbors.some((n) => n.sw_if_index === loop1), 'the ARP entry (its Drop went through) is created again on the old loop1');
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an object left by a create whose undo failed is deleted before the next sync creates its key again (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const loop9: Entry = [interfaceKey('loop9'), { name: 'loop9', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.9.1/24'], vrf: 7 }];
    // Moving the loopback into its table fails, and so does deleting it again.
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table', 'delete_loopback'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries([vrf(7), loop9], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => e.key), [interfaceKey('loop9')]);
    t.deepEqual([...r.applied.entries()].map(([k]) => k), [vrf(7)[0]]);
    const left = s.pool.metadata.get(interfaceKey('loop9'));
    t.true(left !== undefined && (await s.sim.snapshot()).interfaces.some((i) => i.sw_if_index === left), 'the half-made loopback is still there, and its metadata names it');
    await s.sim.setFaults({ errorRate: 0 });
    const table: Entry = [vrfTableKey(7, 'IPV4'), { id: 7, protocol: 'IPV4' }];
    const healed = await s.pool.sync(StateSnapshot.fromEntries([table, loop9], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const snap = await s.sim.snapshot();
    t.is(snap.interfaces.filter((i) => i.tag === 'loop9').length, 1, 'one loop9: the one left behind was deleted first');
    t.false(snap.interfaces.some((i) => i.sw_if_index === left));
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: in a sync of deletes only, a failed Drop counts when the delete it depends on failed too (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(false), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const via = state(false).filter(([k, v]) => v['outgoingInterface'] === 'loop1' || v['interface'] === 'loop1' || k === interfaceKey('loop1'));
    await s.sim.setFaults({ errorRate: 1, messages: ['delete_loopback', 'ip_route_add_del'] });
    const left = state(false).filter(([k]) => !via.some(([x]) => x === k));
    const r = await s.pool.sync(StateSnapshot.fromEntries(left, SHARDS), first.applied, { mode });
    const routes = via.filter(([k]) => k.includes('/route/')).map(([k]) => k);
    t.deepEqual(r.errors.map((e) => e.key).sort(), [interfaceKey('loop1'), ...routes].sort());
    const applied = new Set([...r.applied.entries()].map(([k]) => k));
    for (const k of routes) t.true(applied.has(k), `${k} is still applied: it is still on the dataplane`);
    t.false(applied.has(arpKey('loop1', '172.16.1.7')), 'the ARP entry, whose delete went through, is not');
  });

  test(`S3, S5: a value left out of a sync for want of a dependency loses its metadata with its object; an invalid one through a re-created interface holds back what goes through it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(state(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    // unn1 gets an invalid MTU while loop1 is re-created: unn1 goes (its applied value lost its
    // link) and is not created again, so the routes through it are held back.
    const broken = withoutMtu(state()).map(([k, v]): Entry => (k === interfaceKey('unn1') ? [k, { ...v, mtu: 'x' }] : [k, v]));
    const r = await s.pool.sync(StateSnapshot.fromEntries(broken, SHARDS), first.applied, { mode });
    const codes = new Map(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]));
    t.is(codes.get(interfaceKey('unn1')), 'ERR_INVALID_VALUE');
    const viaUnn = state().filter(([, v]) => v['outgoingInterface'] === 'unn1').map(([k]) => k);
    for (const k of viaUnn) t.is(codes.get(k), 'ERR_DEPENDENCY_DELETED', k);
    t.false(s.pool.metadata.has(interfaceKey('unn1')), 'its object and its metadata are gone');
    t.false((await s.sim.snapshot()).interfaces.some((i) => i.tag === 'unn1'));
    const fixed = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(state()), SHARDS), r.applied, { mode });
    t.deepEqual(fixed.errors, []);
    t.is(fixed.ops, 1 + viaUnn.length, 'unn1 and its routes are created: nothing is deleted first');
  });

  test(`S5: what was made on an orphan is made again after it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const loop9: Entry = [interfaceKey('loop9'), { name: 'loop9', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.9.1/24'], vrf: 7 }];
    const through = route(4000, { via: 'loop9' });
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table', 'delete_loopback'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries([vrf(7), loop9, through], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => e.key), [interfaceKey('loop9')], 'the route went onto the half-made loop9');
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(StateSnapshot.fromEntries([[vrfTableKey(7, 'IPV4'), { id: 7, protocol: 'IPV4' }], loop9, through], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const snap = await s.sim.snapshot();
    t.is(snap.routes.filter((x) => x.paths.some((p) => p.sw_if_index === s.pool.metadata.get(interfaceKey('loop9')))).length, 1, 'the route is on the new loop9');
    t.is(snap.interfaces.filter((i) => i.tag === 'loop9').length, 1);
  });
}

/** A stack over the crash fixture's descriptors; `crash` is a key whose worker dies, of shard `shard`. */
async function crashStack(t: ExecutionContext): Promise<{ s: OffloadStack; crash: string; shard: number }> {
  const descriptorsModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;
  // Its key's worker exits (no hang to end): a limit far above what a loaded machine's healthy task takes.
  const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, workers: true, taskTimeout: 60_000 });
  t.teardown(() => s.close());
  const crash = `${CRASH_PREFIX}k`;
  return { s, crash, shard: shardOf(crash, SHARDS) };
}

/** `count` routes through `via`, numbered from `from`, whose keys fall in `shard`. */
function routesIn(shard: number, from: number, via: string, count: number): Entry[] {
  return Array.from({ length: 400 }, (_, i) => route(from + i, { via })).filter(([k]) => shardOf(k, SHARDS) === shard).slice(0, count);
}

test('S5: keys of a shard whose diff task died that the dataplane drops with an interface another shard re-creates are not reported applied', async (t) => {
  const { s, crash, shard } = await crashStack(t);
  // Routes through loop1 in the shard the crash will take down, and loop1 in another one.
  const routes = routesIn(shard, 5000, 'loop1', 5);
  t.is(routes.length, 5);
  t.not(shardOf(interfaceKey('loop1'), SHARDS), shard);
  const base = [...state(false), ...routes];
  const first = await s.pool.sync(StateSnapshot.fromEntries(base, SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(first.errors, []);
  const r = await s.pool.sync(StateSnapshot.fromEntries([...withoutMtu(base), [crash, { action: 'exit', when: 'diff' }]], SHARDS), first.applied, { mode: 'pool' });
  for (const [k] of routes) t.true(r.errors.some((e) => e.key === k && e.error instanceof WorkerTaskError), `${k} fails with its shard`);
  const applied = new Set([...r.applied.entries()].map(([k]) => k));
  for (const [k] of routes) t.false(applied.has(k), `${k} went with the old loop1: not applied`);
  const healed = await s.pool.sync(StateSnapshot.fromEntries(withoutMtu(base), SHARDS), r.applied, { mode: 'pool' });
  t.deepEqual(healed.errors, []);
  const loop1 = s.pool.metadata.get(interfaceKey('loop1'));
  t.is((await s.sim.snapshot()).routes.filter((x) => x.paths.some((p) => p.sw_if_index === loop1)).length, 15);
});

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: a user descriptor that returns the wrong shape fails its key with a typed error; the other keys apply (${mode})`, async (t) => {
    const descriptorsModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, workers: true });
    t.teardown(() => s.close());
    const badCreate = `${CRASH_PREFIX}create`;
    const badDelete = `${CRASH_PREFIX}delete`;
    const lo = loopback('lpS', 0, '172.16.60.1/24');
    const first = await s.pool.sync(StateSnapshot.fromEntries([lo, [badCreate, { action: 'bad-create' }], [badDelete, { action: 'bad-delete' }]], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[badCreate, 'ERR_DESCRIPTOR']]);
    t.regex(first.errors[0]?.error.message ?? '', /create\(\) returned an array/);
    const applied = new Set([...first.applied.entries()].map(([k]) => k));
    t.true(applied.has(lo[0]) && applied.has(badDelete));
    const second = await s.pool.sync(StateSnapshot.fromEntries([lo], SHARDS), first.applied, { mode });
    t.deepEqual(second.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[badDelete, 'ERR_DESCRIPTOR']]);
  });
}

test('V3, S5: a delete that times out keeps the metadata naming its object; a later sync deletes it', async (t) => {
  // The ring path's stall timeout (inline, the connector's replyTimeout of 20 s outlasts the stall).
  const s = await startOffloadStack({ inlineThreshold: 0, stallTimeout: 300, workers: true, rings: true });
  t.teardown(() => s.close());
  const a = loopback('lpA', 0, '172.16.50.1/24');
  const b = loopback('lpB', 0, '172.16.51.1/24');
  const first = await s.pool.sync(StateSnapshot.fromEntries([a, b], SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(first.errors, []);
  const sw = s.pool.metadata.get(a[0]);
  // Stalled until lifted (a stall of fixed length could end before a slow machine sends the delete).
  await s.sim.setFaults({ stallMs: 60_000 });
  const r = await s.pool.sync(StateSnapshot.fromEntries([b], SHARDS), first.applied, { mode: 'pool' });
  t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[a[0], 'ERR_REPLY_TIMEOUT']]);
  t.true([...r.applied.entries()].some(([k]) => k === a[0]), 'still applied: its state is unknown');
  t.is(s.pool.metadata.get(a[0]), sw, 'its metadata still names its object');
  await s.sim.setFaults({ stallMs: 0 });
  const later = await s.pool.sync(StateSnapshot.fromEntries([b], SHARDS), r.applied, { mode: 'pool' });
  t.deepEqual(later.errors, []);
  t.false((await s.sim.snapshot()).interfaces.some((i) => i.tag === 'lpA'));
});

test('S5: when the shard of an interface and of the routes through it dies in its diff, nothing of it is sent and all of it stays applied', async (t) => {
  const { s, crash, shard } = await crashStack(t);
  const name = Array.from({ length: 200 }, (_, i) => `lp${i}`).find((n) => shardOf(interfaceKey(n), SHARDS) === shard) as string;
  const routes = routesIn(shard, 6000, name, 3);
  const iface: Entry = [interfaceKey(name), { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.60.1/24'], vrf: 0, mtu: 1500 }];
  const first = await s.pool.sync(StateSnapshot.fromEntries([iface, ...routes], SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(first.errors, []);
  const { mtu: _mtu, ...noMtu } = iface[1];
  const r = await s.pool.sync(StateSnapshot.fromEntries([[iface[0], noMtu], ...routes, [crash, { action: 'exit', when: 'diff' }]], SHARDS), first.applied, { mode: 'pool' });
  t.true(r.errors.every((e) => e.error instanceof WorkerTaskError));
  t.deepEqual([...r.applied.entries()].map(([k]) => k).sort(), [iface[0], ...routes.map(([k]) => k)].sort(), 'the interface and its routes stay applied');
  const sw = s.pool.metadata.get(iface[0]);
  t.is((await s.sim.snapshot()).routes.filter((x) => x.paths.some((p) => p.sw_if_index === sw)).length, 3, 'and on the dataplane');
});

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an object left by a failed undo whose key is no longer desired is deleted by the next sync (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const loop9: Entry = [interfaceKey('loop9'), { name: 'loop9', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.9.1/24'], vrf: 7 }];
    const other = loopback('lpZ', 0, '172.16.70.1/24');
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table', 'delete_loopback'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries([vrf(7), loop9, other], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => e.key), [interfaceKey('loop9')]);
    const left = s.pool.metadata.get(interfaceKey('loop9'));
    t.true((await s.sim.snapshot()).interfaces.some((i) => i.sw_if_index === left));
    // Still failing: the orphan stays one, and the next sync tries again.
    const again = await s.pool.sync(StateSnapshot.fromEntries([other], SHARDS), r.applied, { mode });
    t.deepEqual(again.errors.map((e) => e.key), [interfaceKey('loop9')]);
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(StateSnapshot.fromEntries([other], SHARDS), again.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.false((await s.sim.snapshot()).interfaces.some((i) => i.tag === 'loop9'), 'the orphan is gone');
    t.false(s.pool.metadata.has(interfaceKey('loop9')));
    t.deepEqual([...healed.applied.entries()].map(([k]) => k), [other[0]]);
    const idle = await s.pool.sync(StateSnapshot.fromEntries([other], SHARDS), healed.applied, { mode });
    t.is(idle.ops, 0, 'nothing left to do');
  });
}

/** state(false) with an interface and its routes, a bridge domain and an ACL on loop2: none of them depends on loop1. */
function besideLoop1(): Entry[] {
  const out: Entry[] = [...state(false), [interfaceKey('unn2'), { name: 'unn2', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0 }]];
  for (let i = 3100; i < 3105; i++) out.push(route(i, { via: 'unn2' }));
  out.push([bridgeDomainKey('bd1'), { name: 'bd1', interfaces: [{ name: 'loop2' }] }]);
  out.push([aclKey('web'), { name: 'web', rules: [{ action: 'PERMIT' }], interfaces: { ingress: ['loop2'], egress: [] } }]);
  return out;
}

/** loop1 and what depends on it go; unn2, bd1 and the ACL come to depend on it. */
function ontoDeletedLoop1(entries: Entry[]): Entry[] {
  return entries
    .filter(([k, v]) => k !== interfaceKey('loop1') && v['outgoingInterface'] !== 'loop1' && v['interface'] !== 'loop1')
    .map(([k, v]): Entry => {
      if (k === interfaceKey('unn2')) return [k, { ...v, unnumbered: { interfaceWithIp: 'loop1' } }];
      if (k === bridgeDomainKey('bd1')) return [k, { ...v, interfaces: [{ name: 'loop1' }, { name: 'loop2' }] }];
      if (k === aclKey('web')) return [k, { ...v, interfaces: { ingress: ['loop1', 'loop2'], egress: [] } }];
      return [k, v];
    });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S5: an update that comes to depend on a value the same sync deletes is held back: its old value goes, and what depends on it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const reader = new Scheduler({ connector: s.connector });
    t.teardown(() => reader.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries(besideLoop1(), SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const r = await s.pool.sync(StateSnapshot.fromEntries(ontoDeletedLoop1(besideLoop1()), SHARDS), first.applied, { mode });
    const held = [interfaceKey('unn2'), bridgeDomainKey('bd1'), aclKey('web'), ...besideLoop1().filter(([, v]) => v['outgoingInterface'] === 'unn2').map(([k]) => k)].sort();
    t.deepEqual(r.errors.map((e) => e.key).sort(), held, 'the three updates and the routes through unn2 fail');
    for (const e of r.errors) t.is((e.error as { code?: string }).code, 'ERR_DEPENDENCY_DELETED', e.key);
    const applied = [...r.applied.entries()].map(([k]) => k);
    for (const k of held) t.false(applied.includes(k), `${k} is not reported applied`);
    const sb = [...(await reader.dump('', 'sb')).keys()].filter((k) => !k.startsWith(vrfTableKey(0, 'IPV4').slice(0, -1))).sort();
    t.deepEqual(sb, applied.sort(), 'the dataplane holds what the sync reports applied');
    const healed = await s.pool.sync(StateSnapshot.fromEntries(besideLoop1(), SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.is(healed.applied.size, besideLoop1().length);
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S5: a bridge domain whose delete fails while its member interface is re-created is not reported applied: the next sync deletes what is left and makes it again (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const bd: Entry = [bridgeDomainKey('bd0'), { name: 'bd0', interfaces: [{ name: 'if1', bridgedVirtualInterface: true }] }];
    const if1 = (type: string): Entry => [interfaceKey('if1'), { name: 'if1', type, enabled: true, ipAddresses: [], vrf: 0 }];
    const first = await s.pool.sync(StateSnapshot.fromEntries([bd, if1('SOFTWARE_LOOPBACK')], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const members = async (): Promise<number[]> => (await s.sim.snapshot()).bridgeDomains.flatMap((b) => b.members.map((m) => m.sw_if_index));
    // if1 changes type: re-created, and bd0 with it; bd0's delete fails at taking if1 out.
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_l2_bridge'] });
    const desired = StateSnapshot.fromEntries([bd, if1('TAP')], SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [bd[0]]);
    t.deepEqual(await members(), [], 'the dataplane took if1 out with the old interface');
    t.deepEqual([...r.applied.entries()].map(([k]) => k), [interfaceKey('if1')], 'bd0 is not reported applied: it lost its member');
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const snap = await s.sim.snapshot();
    t.is(snap.bridgeDomains.length, 1, 'what was left of bd0 is deleted before it is made again');
    t.deepEqual(await members(), [s.pool.metadata.get(interfaceKey('if1'))]);
    t.is((await s.pool.sync(desired, healed.applied, { mode })).ops, 0, 'nothing left to do');
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S5: an ACL bound to an interface that is not there fails, typed, and is not applied; once the interface is there the next sync binds it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const acl: Entry = [aclKey('web'), { name: 'web', rules: [{ action: 'PERMIT' }], interfaces: { ingress: ['loop5'], egress: [] } }];
    const r = await s.pool.sync(StateSnapshot.fromEntries([acl], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    // Before, the ACL was made without the binding and reported applied: the next sync had nothing to do.
    t.deepEqual(r.errors.map((e) => e.key), [acl[0]]);
    t.is((r.errors[0]?.error as { code?: string } | undefined)?.code, 'ERR_DESCRIPTOR');
    t.deepEqual([...r.applied.entries()], []);
    t.deepEqual((await s.sim.snapshot()).acls, [], 'nothing half made is left');
    const both = StateSnapshot.fromEntries([acl, loopback('loop5', 0, '172.16.5.1/24')], SHARDS);
    const healed = await s.pool.sync(both, r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const snap = await s.sim.snapshot();
    t.deepEqual(snap.aclBindings.map((b) => [b.sw_if_index, b.acls]), [[s.pool.metadata.get(interfaceKey('loop5')), [s.pool.metadata.get(acl[0])]]]);
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an orphan whose Drop fails stays one: its key fails and its create is not sent; the next sync deletes it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    // The ACL's create is undone (its interface is not there) and the undo fails: an orphan.
    const acl: Entry = [aclKey('web'), { name: 'web', rules: [{ action: 'PERMIT' }], interfaces: { ingress: ['loop5'], egress: [] } }];
    await s.sim.setFaults({ errorRate: 1, messages: ['acl_del'] });
    const first = await s.pool.sync(StateSnapshot.fromEntries([acl], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    const orphan = s.pool.metadata.get(acl[0]);
    t.not(orphan, undefined);
    // Seed 7 fails the next acl_del (the orphan's Drop) and lets the one after it through.
    await s.sim.setFaults({ errorRate: 0.5, messages: ['acl_del'], seed: 7 });
    const r = await s.pool.sync(StateSnapshot.fromEntries([acl], SHARDS), first.applied, { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { retval?: number }).retval]), [[acl[0], -1]], 'the Drop failed');
    // Before, the create went on, was undone, and the undo took the metadata naming the orphan with it.
    t.is(s.pool.metadata.get(acl[0]), orphan, 'its metadata still names the orphan');
    t.deepEqual((await s.sim.snapshot()).acls.map((a) => a.acl_index), [orphan], 'no second ACL was made');
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(StateSnapshot.empty(SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.deepEqual((await s.sim.snapshot()).acls, [], 'the orphan is deleted');
    t.false(s.pool.metadata.has(acl[0]));
  });
}

/**
 * Syncs `loop` (a loopback in a VRF table other than 0) with its table so that it is left an
 * orphan: moving it into the table fails, and so does deleting it again. Faults are off after.
 */
async function orphanLoopback(t: ExecutionContext, s: OffloadStack, loop: Entry, mode: SyncMode): Promise<SyncResult> {
  await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table', 'delete_loopback'] });
  const first = await s.pool.sync(StateSnapshot.fromEntries([vrf(loop[1]['vrf'] as number), loop], SHARDS), StateSnapshot.empty(SHARDS), { mode });
  t.deepEqual(first.errors.map((e) => e.key), [loop[0]]);
  t.is((await s.sim.snapshot()).interfaces.filter((i) => i.tag === loop[1]['name']).length, 1, 'the orphan');
  await s.sim.setFaults({ errorRate: 0 });
  return first;
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an orphan is dropped with the value it was made with: a loopback left behind a key now desired as a TAP is deleted as a loopback (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const loop: Entry = [interfaceKey('if1'), { name: 'if1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 7 }];
    const first = await orphanLoopback(t, s, loop, mode);
    const tap: Entry = [interfaceKey('if1'), { name: 'if1', type: 'TAP', enabled: true, ipAddresses: [], vrf: 0 }];
    // Before, the Drop was a tap_delete_v3 of a loopback (refused), and the TAP's create met the loopback's tag.
    const r = await s.pool.sync(StateSnapshot.fromEntries([tap], SHARDS), first.applied, { mode });
    t.deepEqual(r.errors, []);
    const ifs = (await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'if1');
    t.deepEqual(ifs.map((i) => [i.sw_if_index, i.type]), [[s.pool.metadata.get(tap[0]), 'virtio']]);
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an ACL whose binding request failed is bound by the next sync (the descriptor's view of the lists had gone ahead of the dataplane) (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const loop5 = loopback('loop5', 0, '172.16.5.1/24');
    const acl = (ingress: string[]): Entry => [aclKey('web'), { name: 'web', rules: [{ action: 'PERMIT' }], interfaces: { ingress, egress: [] } }];
    const first = await s.pool.sync(StateSnapshot.fromEntries([loop5, acl([])], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    await s.sim.setFaults({ errorRate: 1, messages: ['acl_interface_set_acl_list'] });
    const desired = StateSnapshot.fromEntries([loop5, acl(['loop5'])], SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [aclKey('web')]);
    await s.sim.setFaults({ errorRate: 0 });
    // Before, this update sent nothing (the view had the binding already) and reported it applied.
    const again = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(again.errors, []);
    t.deepEqual((await s.sim.snapshot()).aclBindings.map((b) => [b.sw_if_index, b.acls]), [[s.pool.metadata.get(loop5[0]), [s.pool.metadata.get(aclKey('web'))]]]);
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S5: an interface made unnumbered to one whose create is undone in the same sync goes too: neither is left, neither is applied (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    // Both are late (each depends on an interface): one Configure stage sets both up, then moving
    // if0 into its VRF table fails and if0 is deleted again, taking if2's unnumbered link along.
    const if0: Entry = [interfaceKey('if0'), { name: 'if0', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 9, unnumbered: { interfaceWithIp: 'lpA' } }];
    const if2: Entry = [interfaceKey('if2'), { name: 'if2', type: 'TAP', enabled: true, ipAddresses: [], vrf: 0, unnumbered: { interfaceWithIp: 'if0' } }];
    const lpA = loopback('lpA', 0, '172.16.70.1/24');
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_table'] });
    const r = await s.pool.sync(StateSnapshot.fromEntries([lpA, if0, if2, vrf(9)], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]).sort(), [
      [if0[0], 'ERR_VPP_API'],
      [if2[0], 'ERR_DEPENDENCY_DELETED'],
    ]);
    // Before, if2 stayed, reported applied as unnumbered to an if0 that was gone.
    t.deepEqual((await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'if0' || i.tag === 'if2'), []);
    t.deepEqual([...r.applied.entries()].map(([k]) => k).sort(), [lpA[0], vrf(9)[0]].sort());
    await s.sim.setFaults({ errorRate: 0 });
    const healed = await s.pool.sync(StateSnapshot.fromEntries([lpA, if0, if2, vrf(9)], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const ifs = (await s.sim.snapshot()).interfaces;
    t.is(ifs.find((i) => i.tag === 'if2')?.unnumbered, s.pool.metadata.get(if0[0]));
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an update that fails half way is not reported applied with either value; the next sync makes the object again (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const before = loopback('lpA', 0, '172.16.70.1/24');
    const after: Entry = [before[0], { ...before[1], ipAddresses: ['172.16.70.1/24', '172.16.71.1/24'], mtu: 1400 }];
    const first = await s.pool.sync(StateSnapshot.fromEntries([before], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    // The address goes in, the MTU does not.
    await s.sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_mtu'] });
    const desired = StateSnapshot.fromEntries([after], SHARDS);
    const r = await s.pool.sync(desired, first.applied, { mode });
    t.deepEqual(r.errors.map((e) => e.key), [before[0]]);
    t.deepEqual([...r.applied.entries()], [], 'neither the old value nor the new one is on the dataplane');
    await s.sim.setFaults({ errorRate: 0 });
    // Before, this sync updated the old value again: the address was there already (VALUE_EXIST), every time.
    const healed = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const ifs = (await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'lpA');
    t.deepEqual(ifs.map((i) => [i.sw_if_index, i.mtu]), [[s.pool.metadata.get(before[0]), 1400]]);
    t.is((await s.pool.sync(desired, healed.applied, { mode })).ops, 0, 'nothing left to do');
  });
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: an orphan whose key is now desired with an invalid value is deleted (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const lpX: Entry = [interfaceKey('lpX'), { name: 'lpX', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 9 }];
    const first = await orphanLoopback(t, s, lpX, mode);
    // Before, an orphan under an invalid value was neither dropped (the diff skipped the key) nor a stray (it is desired).
    const r = await s.pool.sync(StateSnapshot.fromEntries([[lpX[0], { ...lpX[1], type: 'BOGUS' }]], SHARDS), first.applied, { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[lpX[0], 'ERR_INVALID_VALUE']]);
    t.deepEqual((await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'lpX'), [], 'the orphan is deleted');
    t.false(s.pool.metadata.has(lpX[0]));
  });
}

for (const mode of ['pool', 'inline'] as const) {
  for (const readBack of [true, false]) {
    test(`S5: an orphan of a kind without metadata (a route whose update failed) is deleted once its key is desired with an invalid value (${mode}, read-back ${readBack ? 'on' : 'off'})`, async (t) => {
      const s = await startOffloadStack({ inlineThreshold: 0, readBack });
      t.teardown(() => s.close());
      const lp = loopback('lpR', 0, '172.16.80.1/24');
      const rt = route(7, { via: 'lpR' });
      const first = await s.pool.sync(StateSnapshot.fromEntries([lp, rt], SHARDS), StateSnapshot.empty(SHARDS), { mode });
      t.deepEqual(first.errors, []);
      await s.sim.setFaults({ errorRate: 1, messages: ['ip_route_add_del'] });
      const r = await s.pool.sync(StateSnapshot.fromEntries([lp, [rt[0], { ...rt[1], weight: 2 }]], SHARDS), first.applied, { mode });
      t.deepEqual(r.errors.map((e) => e.key), [rt[0]]);
      t.is(r.applied.get(rt[0]), undefined, 'an update that failed after its requests went out: an orphan');
      await s.sim.setFaults({ errorRate: 0 });
      // Before, only keys with metadata counted as orphans: the route stayed on the dataplane, reported by no key.
      const again = await s.pool.sync(StateSnapshot.fromEntries([lp, [rt[0], { ...rt[1], weight: 999 }]], SHARDS), r.applied, { mode });
      t.deepEqual(again.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[rt[0], 'ERR_INVALID_VALUE']]);
      t.deepEqual((await s.sim.snapshot()).routes.filter((x) => x.prefix === rt[1]['dstNetwork']), [], 'the orphan route is deleted');
    });
  }
}

/** An interface unnumbered to `to` (none: a plain loopback with an address). */
function unnumbered(name: string, to?: string): Entry {
  return [interfaceKey(name), { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: to ? [] : ['172.16.90.1/24'], vrf: 0, ...(to ? { unnumbered: { interfaceWithIp: to } } : {}) }];
}

for (const mode of ['pool', 'inline'] as const) {
  test(`S2, S3: interfaces unnumbered to each other are refused with ERR_DEPENDENCY_CYCLE and not sent; once the cycle is broken they are applied (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const lpA = loopback('lpA', 0, '172.16.70.1/24');
    const cycle = [unnumbered('c1', 'c2'), unnumbered('c2', 'c1')];
    const through = route(3, { via: 'c1' });
    const r = await s.pool.sync(StateSnapshot.fromEntries([lpA, ...cycle, through], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    const codes = new Map(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]));
    // Before, both were made, each unnumbered to the other (native-sim accepts that), and reported applied.
    t.is(codes.get(interfaceKey('c1')), 'ERR_DEPENDENCY_CYCLE');
    t.is(codes.get(interfaceKey('c2')), 'ERR_DEPENDENCY_CYCLE');
    t.true(codes.has(through[0]), 'the route through c1 fails too (c1 is not there)');
    t.is(codes.size, 3);
    const snap = await s.sim.snapshot();
    t.deepEqual(snap.interfaces.filter((i) => i.tag === 'c1' || i.tag === 'c2'), []);
    t.deepEqual([...r.applied.entries()].map(([k]) => k), [lpA[0]]);
    const broken = [unnumbered('c1', 'c2'), unnumbered('c2')];
    const healed = await s.pool.sync(StateSnapshot.fromEntries([lpA, ...broken, through], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    const ifs = (await s.sim.snapshot()).interfaces;
    t.is(ifs.find((i) => i.tag === 'c1')?.unnumbered, s.pool.metadata.get(interfaceKey('c2')));
  });

  test(`S2, S3: an update that closes a cycle is refused; the value it would replace stays applied (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const first = await s.pool.sync(StateSnapshot.fromEntries([unnumbered('c1', 'c2'), unnumbered('c2')], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    const r = await s.pool.sync(StateSnapshot.fromEntries([unnumbered('c1', 'c2'), unnumbered('c2', 'c1')], SHARDS), first.applied, { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[interfaceKey('c2'), 'ERR_DEPENDENCY_CYCLE']]);
    t.deepEqual(r.applied.get(interfaceKey('c2')), unnumbered('c2')[1], 'c2 keeps its address, unnumbered to nothing');
    const ifs = (await s.sim.snapshot()).interfaces;
    const c1 = s.pool.metadata.get(interfaceKey('c1'));
    const c2 = s.pool.metadata.get(interfaceKey('c2'));
    t.is(ifs.find((i) => i.tag === 'c1')?.unnumbered, c2);
    t.not(ifs.find((i) => i.tag === 'c2')?.unnumbered, c1, 'no cycle on the dataplane');
  });
}

test('S3: findCycles finds the keys of a cycle among new or changed values, also at the end of a long chain, without recursion', (t) => {
  const n = 100_000;
  const chain = (close: boolean): Array<readonly [string, readonly string[]]> =>
    Array.from({ length: n }, (_, i) => [`k${i}`, i + 1 < n ? [`k${i + 1}`] : close ? ['k0'] : []] as const);
  t.is(findCycles(chain(false), () => null).size, 0);
  t.is(findCycles(chain(true), () => null).size, n);
  // Only the new or changed keys are refused: an unchanged key on the cycle (read through depsOf) stays.
  const got = findCycles([['a', ['b']]], (k) => (k === 'b' ? ['a'] : null));
  t.deepEqual([...got], ['a']);
  t.deepEqual([...findCycles([['self', ['self']], ['x', ['self']]], () => null)], ['self'], 'a key naming itself; one that only leads into a cycle is not on it');
});

for (const mode of ['pool', 'inline'] as const) {
  test(`S3: an interface whose VRF table is neither desired nor applied is held back with what goes through it; nothing is sent for them (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const lpA = loopback('lpA', 0, '172.16.70.1/24');
    const lp7 = loopback('lp7', 7, '172.16.77.1/24');
    const through = route(5, { via: 'lp7' });
    const desired = StateSnapshot.fromEntries([lpA, lp7, through], SHARDS);
    const r = await s.pool.sync(desired, StateSnapshot.empty(SHARDS), { mode });
    // Before, lp7 was created, its Configure stage failed (NO_SUCH_FIB) and it was deleted again.
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]).sort(), [[lp7[0], 'ERR_DEPENDENCY_DELETED'], [through[0], 'ERR_DEPENDENCY_DELETED']].sort());
    t.regex(r.errors.find((e) => e.key === lp7[0])?.error.message ?? '', /vrf-table\/id\/7\/protocol\/IPV4/);
    t.is((await s.sim.counters()).messages['create_loopback'], 1, 'only lpA was created');
    const healed = await s.pool.sync(StateSnapshot.fromEntries([lpA, lp7, through, vrf(7)], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
    t.is((await s.sim.snapshot()).interfaces.find((i) => i.tag === 'lp7')?.sw_if_index, s.pool.metadata.get(lp7[0]));
  });

  test(`S3: an update that moves an interface into a table that is not there deletes its old value and holds the new one back, not sent half way (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const lp = loopback('lpM', 0, '172.16.80.1/24');
    const through = route(6, { via: 'lpM' });
    const first = await s.pool.sync(StateSnapshot.fromEntries([lp, through, vrf(2)], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    // Table 2 is there for IPv4, not for IPv6: the IPv6 address needs it.
    const moved: Entry = [lp[0], { ...lp[1], vrf: 2, ipAddresses: ['fd00:80::1/64'] }];
    const r = await s.pool.sync(StateSnapshot.fromEntries([moved, through, vrf(2)], SHARDS), first.applied, { mode });
    // Before, the update went out: the IPv4 address was removed, the IPv6 one added, the IPv6 table refused.
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]).sort(), [[lp[0], 'ERR_DEPENDENCY_DELETED'], [through[0], 'ERR_DEPENDENCY_DELETED']].sort());
    const snap = await s.sim.snapshot();
    t.false(snap.interfaces.some((i) => i.tag === 'lpM'), 'the old value is deleted, as the scheduler takes a value whose dependency is missing off the dataplane');
    t.deepEqual([...r.applied.entries()].map(([k]) => k), [vrf(2)[0]]);
    const table6: Entry = [vrfTableKey(2, 'IPV6'), { id: 2, protocol: 'IPV6' }];
    const healed = await s.pool.sync(StateSnapshot.fromEntries([moved, through, vrf(2), table6], SHARDS), r.applied, { mode });
    t.deepEqual(healed.errors, []);
  });
}
