// A big commit through the worker pool leaves the same dataplane, records and statuses as inline.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Value } from '../src/api/values.js';
import { arpKey } from '../src/descriptors/index.js';
import { layeredState, route, type Entry } from './helpers/offload-stack.js';
import { schedStack, sorted, type SchedStack, type Values } from './helpers/schedpool-stack.js';

const ROUTES = 1200;

function arp(i: number): Entry {
  const ip = `172.16.1.${10 + i}`;
  return [arpKey('loop1', ip), { interface: 'loop1', ipAddress: ip, physAddress: `02:00:00:00:01:${(16 + i).toString(16)}`, static: true }];
}

function base(): Values {
  return new Map<string, Value>([...layeredState(ROUTES), ...Array.from({ length: 40 }, (_, i) => arp(i))]);
}

/** 10 % of the routes change (an in-place update), 5 % go, 5 % are new; one loopback goes with its routes. */
function changed(): Values {
  const m = base();
  // The key holds no preference: the same key with a new value, which routes update in place.
  for (let i = 0; i < ROUTES; i += 10) m.set(...(route(i, i % 3 === 0 ? { vrf: 1, via: 'loop1', preference: 7 } : { vrf: 1, preference: 7 }) as [string, Value]));
  for (let i = 5; i < ROUTES; i += 20) m.delete(route(i, i % 3 === 0 ? { vrf: 2, via: 'loop2' } : { vrf: 2 })[0]);
  for (let i = ROUTES; i < ROUTES + 60; i++) m.set(...(route(i, { vrf: 1 }) as [string, Value]));
  return m;
}

async function compare(t: ExecutionContext, pooled: SchedStack, inline: SchedStack, values: Values, label: string): Promise<void> {
  const before = pooled.pool?.ops ?? 0;
  const [a, b] = await Promise.all([pooled.s.commit(values, { resync: 'full' }), inline.s.commit(values, { resync: 'full' })]);
  t.is(a.error, null, `${label}: pooled commit: ${a.error?.message ?? ''}`);
  t.is(b.error, null, `${label}: inline commit`);
  if (pooled.pool?.workers) t.true((pooled.pool.ops ?? 0) > before, `${label}: the pool ran part of the plan`);
  else t.is(pooled.pool?.ops ?? 0, before, `${label}: workers off: everything inline`);
  for (const view of ['sb', 'nb', 'cached'] as const) {
    t.deepEqual(sorted(await pooled.s.dump('', view)), sorted(await inline.s.dump('', view)), `${label}: ${view} dump`);
  }
  t.deepEqual(sorted(await pooled.s.dump('', 'sb')), sorted(await pooled.s.dump('', 'nb')), `${label}: dataplane = desired`);
  const ra = pooled.s.getRecordedTransaction(a.seqNum);
  const rb = inline.s.getRecordedTransaction(b.seqNum);
  const list = (ops: ReadonlyArray<{ key: string; op: string; note?: string }> | undefined): string[] => (ops ?? []).map((o) => `${o.op} ${o.key} ${o.note ?? ''}`).sort();
  t.deepEqual(list(ra?.planned), list(rb?.planned), `${label}: planned ops`);
  t.deepEqual(list(ra?.executed), list(rb?.executed), `${label}: executed ops`);
  t.deepEqual(ra?.pending, rb?.pending, `${label}: pending keys`);
  const keys = new Set([...values.keys(), ...(ra?.planned ?? []).map((o) => o.key)]);
  for (const k of keys) t.deepEqual(pooled.s.getStatus(k), inline.s.getStatus(k), `${label}: status of ${k}`);
}

test('S1, S4, S7: a full resync through the pool gives the same sb dump, records and statuses as inline (create, update, delete)', async (t) => {
  const [pooled, inline] = await Promise.all([schedStack(t, { offload: { inlineThreshold: 200 } }), schedStack(t, { offload: null })]);
  await compare(t, pooled, inline, base(), 'initial');
  await compare(t, pooled, inline, changed(), '10 % changed');
  await compare(t, pooled, inline, new Map(), 'everything removed');
  t.is((await pooled.sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.')).length, 0);
});

test('S1: a plan below inlineThreshold runs inline: the pool is not used', async (t) => {
  const pooled = await schedStack(t, { offload: { inlineThreshold: 5000 } });
  const r = await pooled.s.commit(base(), { resync: 'full' });
  t.is(r.error, null);
  t.is(pooled.pool?.ops, 0);
  t.deepEqual(sorted(await pooled.s.dump('', 'sb')), sorted(await pooled.s.dump('', 'nb')));
});

test('S1: routes through an interface created in the same commit get its sw_if_index (metadata from the inline waves)', async (t) => {
  const pooled = await schedStack(t, { offload: { inlineThreshold: 100 } });
  const r = await pooled.s.commit(new Map<string, Value>(layeredState(600)), {});
  t.is(r.error, null);
  const snap = await pooled.sim.snapshot();
  const loops = new Set(snap.interfaces.filter((i) => i.tag === 'loop1' || i.tag === 'loop2').map((i) => i.sw_if_index));
  t.is(loops.size, 2);
  const via = snap.routes.filter((x) => x.prefix.startsWith('10.') && x.paths.some((p) => p.sw_if_index !== 0xffffffff));
  t.is(via.length, 200);
  for (const x of via) t.true(loops.has(x.paths[0]?.sw_if_index as number), x.prefix);
});
