// One op the pool cannot carry or send fails alone, typed, in every mode; its neighbours are applied.
import test from 'ava';
import { dnat44Descriptor, dnat44Key } from '../src/descriptors/index.js';
import { StateSnapshot, type OffloadOptions } from '../src/offload/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { InlineDataplane } from '../src/flood/inline-dataplane.js';
import { BIG_PREFIX, BOUND_PREFIX } from './fixtures/offload-bigint-descriptors.js';
import { CRASH_PREFIX, descriptors } from './fixtures/offload-crash-descriptors.js';
import { startOffloadStack } from './helpers/offload-stack.js';

const descriptorsModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;
const bigModule = new URL('./fixtures/offload-bigint-descriptors.js', import.meta.url).href;

const MODES: ReadonlyArray<readonly [string, Omit<OffloadOptions, 'connector'>]> = [
  ['inline', { workers: false }],
  ['pool, rings, pre-encoded', { workers: true, rings: true, preEncode: true }],
  ['pool, rings', { workers: true, rings: true, preEncode: false }],
  ['pool, postMessage', { workers: true, rings: false }],
];

const codes = (errors: ReadonlyArray<{ key: string; error: Error }>): string[] => errors.map((e) => `${e.key}:${(e.error as { code?: string }).code}`);

/** `key:code` of each failed op of a wave, in op order. */
const waveCodes = (ops: ReadonlyArray<{ readonly key: string }>, errors: ReadonlyArray<Error | null>): string[] =>
  errors.flatMap((e, i) => (e ? [`${ops[i]?.key}:${(e as { code?: string }).code}`] : []));

/** Nine entries the crash fixture applies, then one with `action`. */
function nineAnd(key: string, action: string): Array<[string, Record<string, unknown>]> {
  const entries = Array.from({ length: 9 }, (_, i): [string, Record<string, unknown>] => [`${CRASH_PREFIX}ok${i}`, { action: 'none' }]);
  entries.push([`${CRASH_PREFIX}${key}`, { action }]);
  return entries;
}

for (const [mode, options] of MODES) {
  test(`S5 V6: a request the codec cannot encode fails its own key with ERR_INVALID_MESSAGE, not its shard's or wave's other keys (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, threads: 1, ...options });
    t.teardown(() => s.close());
    const entries = nineAnd('big', 'unencodable');
    const r = await s.pool.sync(StateSnapshot.fromEntries(entries, 1), StateSnapshot.empty(1), { mode: options.workers ? 'pool' : 'inline' });
    t.deepEqual(codes(r.errors), [`${CRASH_PREFIX}big:ERR_INVALID_MESSAGE`]);
    const ops = entries.map(([key, value]) => ({ op: 'create' as const, key, value }));
    const w = await s.pool.executeWave(ops);
    t.deepEqual(waveCodes(ops, w.errors), [`${CRASH_PREFIX}big:ERR_INVALID_MESSAGE`]);
  });

  test(`S5 C19: a normalized value msgpack cannot carry does not fail its shard: synced as inline, create, update and delete (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule: bigModule, threads: 1, ...options });
    t.teardown(() => s.close());
    const sync = { mode: options.workers ? ('pool' as const) : ('inline' as const) };
    const pings = async (): Promise<number> => (await s.sim.counters()).messages['control_ping'] ?? 0;
    // Ten of a kind the workers encode, three of a thread-bound one (encoded on the main thread).
    const entries = (huge: string, n: number): Array<[string, Record<string, unknown>]> => [
      ...Array.from({ length: 10 }, (_, i): [string, Record<string, unknown>] => [`${BIG_PREFIX}k${i}`, { huge: `k${i}` === huge, n }]),
      ...Array.from({ length: 3 }, (_, i): [string, Record<string, unknown>] => [`${BOUND_PREFIX}k${i}`, { huge: `k${i}` === huge, n }]),
    ];
    let before = await pings();
    const first = await s.pool.sync(StateSnapshot.fromEntries(entries('k7', 1), 1), StateSnapshot.empty(1), sync);
    t.deepEqual(codes(first.errors), []);
    t.is((await pings()) - before, 13, 'every create was sent');
    before = await pings();
    const second = await s.pool.sync(StateSnapshot.fromEntries(entries('k3', 2), 1), first.applied, sync);
    t.deepEqual(codes(second.errors), []);
    t.is((await pings()) - before, 13, 'every update was sent');
    const third = await s.pool.sync(StateSnapshot.empty(1), second.applied, sync);
    t.deepEqual(codes(third.errors), []);
    t.is(new Map(third.applied.entries()).size, 0);
  });

  test(`S2: dependencies() that are not a list of keys make that value invalid (ERR_INVALID_VALUE); the others are applied (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, threads: 1, ...options });
    t.teardown(() => s.close());
    const entries = nineAnd('deps', 'bad-deps');
    const r = await s.pool.sync(StateSnapshot.fromEntries(entries, 1), StateSnapshot.empty(1), { mode: options.workers ? 'pool' : 'inline' });
    t.deepEqual(codes(r.errors), [`${CRASH_PREFIX}deps:ERR_INVALID_VALUE`]);
    t.regex(r.errors[0]?.error.message ?? '', /dependencies\(\) returned null/);
  });
}

for (const preEncode of [true, false]) {
  test(`S5 V3: a request larger than a ring frame fails its own key with ERR_FRAME_TOO_LARGE; the others of its segment are sent (rings, preEncode ${preEncode})`, async (t) => {
    // 64 KiB producer rings: a DNAT with 4,000 local IPs is a frame of about 70 KiB.
    const s = await startOffloadStack({ inlineThreshold: 0, threads: 1, workers: true, rings: true, preEncode, ringBytes: 1 << 16 });
    t.teardown(() => s.close());
    const dnat = (i: number, locals: number): [string, Record<string, unknown>] => {
      const key = dnat44Key(`d${i}`);
      const localIps = Array.from({ length: locals }, (_, j) => ({ localIp: `10.0.${(j >> 8) & 255}.${j & 255}`, localPort: 8080 }));
      return [key, { label: `d${i}`, staticMappings: [{ externalIp: '192.0.2.1', externalPort: 80 + i, protocol: 'TCP', localIps }] }];
    };
    const entries = Array.from({ length: 10 }, (_, i) => dnat(i, i === 7 ? 4000 : 2));
    const r = await s.pool.sync(StateSnapshot.fromEntries(entries, 1), StateSnapshot.empty(1), { mode: 'pool' });
    t.deepEqual(codes(r.errors), [`${dnat44Key('d7')}:ERR_FRAME_TOO_LARGE`]);
    t.is((await s.sim.snapshot()).nat44StaticMappings.length, 9);
    const more = Array.from({ length: 10 }, (_, i) => dnat(i + 10, i === 3 ? 4000 : 2));
    const ops = more.map(([key, value]) => ({ op: 'create' as const, key, value: dnat44Descriptor.validate(key, value) }));
    const w = await s.pool.executeWave(ops);
    t.deepEqual(waveCodes(ops, w.errors), [`${dnat44Key('d13')}:ERR_FRAME_TOO_LARGE`]);
    t.is((await s.sim.snapshot()).nat44StaticMappings.length, 18);
  });
}

test('S5 C19: in a pool wave, a value msgpack cannot carry fails its own key with ERR_INVALID_VALUE before anything is sent; the others are applied', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, threads: 2, workers: true });
  t.teardown(() => s.close());
  const ops = Array.from({ length: 3000 }, (_, i) => ({ op: 'create' as const, key: `${CRASH_PREFIX}k${i}`, value: i === 2500 ? { action: 'none', n: 10n ** 30n } : { action: 'none' } }));
  const pings = async (): Promise<number> => (await s.sim.counters()).messages['control_ping'] ?? 0;
  const before = await pings();
  const w = await s.pool.executeWave(ops as never);
  t.deepEqual(waveCodes(ops, w.errors), [`${CRASH_PREFIX}k2500:ERR_INVALID_VALUE`]);
  t.true((await pings()) - before >= 2999, 'every other create was sent');
});

test('S2 S5: dependencies() that are not a list of keys make the value invalid in the scheduler too, and fail nothing else', async (t) => {
  const scheduler = new Scheduler({ connector: new InlineDataplane(1) });
  t.teardown(() => scheduler.close());
  for (const d of descriptors().slice(-1)) scheduler.registerDescriptor(d);
  const lo = { name: 'lo1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0 };
  const r = await scheduler.commit(new Map<string, Record<string, unknown>>([[`${CRASH_PREFIX}deps`, { action: 'bad-deps' }], ['config/vpp/v2/interfaces/lo1', lo]]));
  t.deepEqual(r.error?.kvErrors.map((e) => `${e.key}:${(e.error as { code?: string }).code}`), [`${CRASH_PREFIX}deps:ERR_INVALID_VALUE`]);
  t.is(scheduler.getStatus(`${CRASH_PREFIX}deps`)?.state, 'invalid');
  t.is(scheduler.getStatus('config/vpp/v2/interfaces/lo1')?.state, 'configured');
});

test('S2 S5: a key with a lone surrogate is refused (ERR_INVALID_KEY by the scheduler, TypeError by StateSnapshot): stored as UTF-8 it would become another key', async (t) => {
  const scheduler = new Scheduler({ connector: new InlineDataplane(1) });
  t.teardown(() => scheduler.close());
  const bad = 'config/vpp/v2/interfaces/eth\uD800x';
  const lo = { name: 'lo1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0 };
  const r = await scheduler.commit(new Map<string, Record<string, unknown>>([[bad, { ...lo, name: 'eth\uD800x' }], ['config/vpp/v2/interfaces/lo1', lo]]));
  t.deepEqual(r.error?.kvErrors.map((e) => `${e.key}:${(e.error as { code?: string }).code}`), [`${bad}:ERR_INVALID_KEY`]);
  t.is(scheduler.getStatus('config/vpp/v2/interfaces/lo1')?.state, 'configured');
  t.throws(() => StateSnapshot.fromEntries([[bad, {}], ['config/vpp/v2/interfaces/eth\uDBFFx', {}]], 1), { instanceOf: TypeError, message: /lone surrogate/ });
  t.throws(() => StateSnapshot.empty(1).patched(new Map([[bad, {}]])), { instanceOf: TypeError, message: /lone surrogate/ });
});
