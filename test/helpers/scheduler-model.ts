// The model-based test of the scheduler (test/scheduler-model.test.ts) on the real stack (Scheduler -> VppConnector -> native-sim):
// seeded sequences of transactions over a small universe of keys with real dependencies between
// the built-in kinds (VRF tables <- interfaces <- routes / ARP / ACLs / bridge domains, interfaces
// unnumbered to each other), with invalid values, missing dependencies, re-creates, resyncs of
// every kind, injected dataplane errors and dataplane restarts. After every step the scheduler is
// compared with a small reference model of the desired state (S1, S3, S4, S5).
import type { Value } from '../../src/api/values.js';
import type { CommitOptions, CommitResult } from '../../src/api/scheduler.js';
import { builtinDescriptors } from '../../src/descriptors/builtin.js';
import { aclKey, arpKey, bridgeDomainKey, dnat44Key, interfaceKey, routeKey, vrfTableKey } from '../../src/descriptors/index.js';
import type { Descriptor } from '../../src/scheduler/descriptor.js';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { OffloadPool } from '../../src/offload/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { CountingPool } from './schedpool-stack.js';
import { deepEqual } from '../../src/scheduler/value-equality.js';

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Operations (plain data, so that a failing sequence can be replayed and shrunk by hand)

type Change = readonly [key: string, value: Value | null];
export type Op =
  | { readonly k: 'txn'; readonly changes: readonly Change[]; readonly revert: boolean; readonly retry?: boolean }
  /** Two transactions committed without waiting for the first (they run in commit order). */
  | { readonly k: 'two'; readonly a: readonly Change[]; readonly b: readonly Change[] }
  /** Re-commits the model's current values of some keys: must execute nothing (S1). */
  | { readonly k: 'same'; readonly keys: readonly string[]; readonly full?: boolean }
  | { readonly k: 'resync'; readonly kind: 'full' | 'upstream'; readonly drop: readonly string[]; readonly add: readonly Change[]; readonly retry?: boolean }
  | { readonly k: 'down' }
  /** `latencyMs`: every reply is held back that long (until the next heal); the generator sets none. */
  | { readonly k: 'faults'; readonly rate: number; readonly seed: number; readonly messages?: readonly string[]; readonly latencyMs?: number }
  /** Faults off, then a full resync with the model's desired state. */
  | { readonly k: 'heal' }
  | { readonly k: 'restart' }
  /** The agent restarts (a new scheduler over the same dataplane) and resyncs at startup. */
  | { readonly k: 'agent' };

const UNIMPLEMENTED = 'config/custom/v1/thing/a';
const IFS = ['if0', 'if1', 'if2', 'if3'] as const;
const TYPES = ['SOFTWARE_LOOPBACK', 'TAP', 'MEMIF'] as const;
/** Messages that fail every time in a deterministic fault phase. */
const FAULTY_MESSAGES = ['ip_neighbor_add_del', 'ip_route_add_del', 'sw_interface_add_del_address', 'bridge_domain_add_del', 'acl_add_replace', 'sw_interface_set_table', 'tap_create_v3', 'sw_interface_set_flags'];

export function generator(rnd: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chance = (p: number): boolean => rnd() < p;
  const idx = (n: number): number => Math.floor(rnd() * n);
  const valid: Array<() => Change> = [
    () => {
      const [id, protocol] = pick([[1, 'IPV4'], [1, 'IPV6'], [2, 'IPV4']] as const);
      return [vrfTableKey(id, protocol), { id, protocol, ...(chance(0.3) ? { label: pick(['a', 'b']) } : {}) }];
    },
    () => {
      const i = idx(IFS.length);
      const name = IFS[i] as string;
      const unnumbered = chance(0.15);
      const addrs = unnumbered ? [] : [`10.${i}.0.1/24`, `10.${i}.1.1/24`, `fd00:${i}::1/64`].filter(() => chance(0.4));
      return [
        interfaceKey(name),
        {
          name,
          type: pick(TYPES),
          enabled: chance(0.5),
          ipAddresses: addrs,
          vrf: pick([0, 0, 1, 2]),
          ...(chance(0.3) ? { mtu: pick([1500, 9000]) } : {}),
          ...(unnumbered ? { unnumbered: { interfaceWithIp: pick(IFS.filter((n) => n !== name)) } } : {}),
        },
      ];
    },
    () => {
      const j = idx(10);
      const r: { vrfId: number; dstNetwork: string; nextHopAddr?: string; outgoingInterface?: string } =
        j === 5
          ? { vrfId: 2, dstNetwork: '10.101.0.0/16', nextHopAddr: '10.0.0.1' }
          : j >= 6 && j <= 8
            ? // three paths of one prefix (multipath): two through interfaces, one through a gateway only
              j === 8
              ? { vrfId: 0, dstNetwork: '10.102.0.0/16', nextHopAddr: '10.9.9.9' }
              : { vrfId: 0, dstNetwork: '10.102.0.0/16', outgoingInterface: IFS[j - 6] as string, nextHopAddr: `10.${j - 6}.0.254` }
            : j === 9
              ? { vrfId: 1, dstNetwork: 'fd01::/64', outgoingInterface: 'if1' }
              : { vrfId: j % 3 === 0 ? 1 : 0, dstNetwork: `10.100.${j}.0/24`, outgoingInterface: IFS[j % IFS.length] as string, nextHopAddr: `10.${j % IFS.length}.0.254` };
      return [routeKey(r), { ...r, weight: pick([1, 2]), preference: pick([0, 10]) }];
    },
    () => {
      const j = idx(IFS.length);
      const iface = IFS[j] as string;
      const ip = `10.200.${j}.1`;
      return [arpKey(iface, ip), { interface: iface, ipAddress: ip, physAddress: pick(['02:00:00:00:00:01', '02:00:00:00:00:02']), static: chance(0.5) }];
    },
    () => {
      const j = idx(2);
      return [
        aclKey(`acl${j}`),
        {
          name: `acl${j}`,
          rules: [{ action: pick(['PERMIT', 'DENY']), ipRule: { ip: { sourceNetwork: `10.${j}.0.0/16`, destinationNetwork: '0.0.0.0/0', protocol: 0 } } }],
          interfaces: { ingress: IFS.filter(() => chance(0.3)), egress: IFS.filter(() => chance(0.2)) },
        },
      ];
    },
    () => {
      const j = idx(2);
      const members = [IFS[2 * j] as string, IFS[2 * j + 1] as string].filter(() => chance(0.6));
      const bvi = members.length > 0 && chance(0.4) ? members[0] : undefined;
      return [
        bridgeDomainKey(`bd${j}`),
        { name: `bd${j}`, flood: chance(0.5), forward: false, learn: chance(0.5), interfaces: members.map((m) => ({ name: m, bridgedVirtualInterface: m === bvi })) },
      ];
    },
    () => [dnat44Key('nat0'), { label: 'nat0', staticMappings: [{ externalIp: '10.96.0.1', externalPort: 80, protocol: 'TCP', localIps: [{ localIp: '10.1.0.2', localPort: pick([8080, 8443]), probability: 0 }] }] }],
    () => [UNIMPLEMENTED, { x: idx(3) }],
  ];
  const invalid: Array<() => Change> = [
    () => {
      const name = pick(IFS);
      return [interfaceKey(name), { name, type: 'BOGUS', enabled: true, ipAddresses: [] }];
    },
    () => [routeKey({ vrfId: 0, dstNetwork: '10.100.1.0/24', outgoingInterface: 'if1', nextHopAddr: '10.1.0.254' }), { vrfId: 0, dstNetwork: '10.100.1.0/24', outgoingInterface: 'if1', nextHopAddr: '10.1.0.254', weight: 999 }],
    () => {
      const j = idx(IFS.length);
      const iface = IFS[j] as string;
      const ip = `10.200.${j}.1`;
      return [arpKey(iface, ip), { interface: iface, ipAddress: ip, physAddress: 'not-a-mac' }];
    },
    () => [vrfTableKey(1, 'IPV4'), { id: 0, protocol: 'IPV4' }],
    // Not an object at all (bad input from a caller that ignores the types).
    () => [interfaceKey(pick(IFS)), pick(['tap0', 42, ['a'], true]) as unknown as Value],
  ];
  // Frozen: the engine must not write into the values it is handed.
  const change = (): Change => deepFreeze(chance(0.08) ? pick(invalid)() : pick(valid)());
  return { pick, chance, idx, change };
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/** Every key the generator can name (for deletes and drops that may hit nothing). */
function universe(): string[] {
  const keys = new Set<string>();
  const g = generator(prng(99));
  for (let i = 0; i < 3000; i++) keys.add(g.change()[0]);
  return [...keys].sort();
}
export const KEYS = universe();

export function generateOps(seed: number, steps: number): Op[] {
  const rnd = prng(seed);
  const g = generator(rnd);
  const ops: Op[] = [];
  let faulty = false;
  for (let i = 0; i < steps; i++) {
    const r = rnd();
    if (r < 0.55) {
      const n = 1 + g.idx(4);
      const changes: Change[] = [];
      for (let c = 0; c < n; c++) changes.push(g.chance(0.3) ? [g.pick(KEYS), null] : g.change());
      const revert = g.chance(0.2);
      ops.push({ k: 'txn', changes, revert, retry: !revert && faulty && g.chance(0.3) });
    } else if (r < 0.58) {
      const a: Change[] = [];
      const b: Change[] = [];
      for (let c = 1 + g.idx(3); c > 0; c--) a.push(g.change());
      for (let c = 1 + g.idx(3); c > 0; c--) b.push(g.chance(0.4) ? [g.pick(KEYS), null] : g.change());
      ops.push({ k: 'two', a, b });
    } else if (r < 0.62) {
      ops.push({ k: 'same', keys: KEYS.filter(() => g.chance(0.5)), full: g.chance(0.4) });
    } else if (r < 0.7) {
      const add: Change[] = [];
      for (let c = g.idx(3); c > 0; c--) add.push(g.change());
      ops.push({ k: 'resync', kind: g.chance(0.5) ? 'full' : 'upstream', drop: KEYS.filter(() => g.chance(0.15)), add, retry: g.chance(0.3) });
    } else if (r < 0.75) {
      ops.push({ k: 'down' });
    } else if (r < 0.77) {
      ops.push({ k: 'agent' });
    } else if (r < 0.8) {
      ops.push({ k: 'restart' });
      if (g.chance(0.7)) ops.push({ k: 'down' });
    } else if (r < 0.86 && !faulty) {
      if (g.chance(0.5)) ops.push({ k: 'faults', rate: g.pick([0.05, 0.15, 0.3]), seed: g.idx(1000) });
      else ops.push({ k: 'faults', rate: 1, seed: 0, messages: [g.pick(FAULTY_MESSAGES)] });
      faulty = true;
    } else if (faulty && r < 0.93) {
      ops.push({ k: 'heal' });
      faulty = false;
    }
  }
  ops.push({ k: 'heal' });
  return ops;
}

// ---------------------------------------------------------------------------------------------
// The reference model

export class Model {
  /** Valid desired values, normalized. */
  readonly desired = new Map<string, Value>();
  /** Keys whose desired value is invalid, with that value. */
  readonly invalid = new Map<string, Value>();
  readonly unimplemented = new Map<string, Value>();
  readonly #ds: Descriptor[] = builtinDescriptors();

  descriptor(key: string): Descriptor | undefined {
    let best: Descriptor | undefined;
    for (const d of this.#ds) if (key.startsWith(d.keyPrefix) && (!best || d.keyPrefix.length > best.keyPrefix.length)) best = d;
    return best;
  }

  put(key: string, value: Value | null): void {
    this.desired.delete(key);
    this.invalid.delete(key);
    this.unimplemented.delete(key);
    if (value === null) return;
    const d = this.descriptor(key);
    if (!d) {
      this.unimplemented.set(key, value);
      return;
    }
    try {
      if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('not an object');
      this.desired.set(key, d.validate(key, value));
    } catch {
      this.invalid.set(key, value);
    }
  }

  isInvalid(key: string, value: Value | null): boolean {
    if (value === null) return false;
    const d = this.descriptor(key);
    if (!d) return false;
    try {
      if (typeof value !== 'object' || Array.isArray(value)) return true;
      d.validate(key, value);
      return false;
    } catch {
      return true;
    }
  }

  deps(key: string): readonly string[] {
    const v = this.desired.get(key);
    return v === undefined ? [] : (this.descriptor(key) as Descriptor).dependencies(key, v);
  }

  /** The values a correct scheduler has applied: the least fixpoint of "all dependencies applied". */
  applied(): Map<string, Value> {
    const out = new Map<string, Value>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const [k, v] of this.desired) {
        if (out.has(k)) continue;
        if (this.deps(k).every((d) => out.has(d))) {
          out.set(k, v);
          grew = true;
        }
      }
    }
    return out;
  }

  /** What nb shows: valid desired values and unimplemented ones. */
  nb(): Map<string, Value> {
    return new Map([...this.desired, ...this.unimplemented]);
  }

  /** Everything committed, as a full resync would pass it. */
  all(): Map<string, Value> {
    return new Map([...this.desired, ...this.invalid, ...this.unimplemented]);
  }

  snapshot(): [Map<string, Value>, Map<string, Value>, Map<string, Value>] {
    return [new Map(this.desired), new Map(this.invalid), new Map(this.unimplemented)];
  }

  restore([d, i, u]: [Map<string, Value>, Map<string, Value>, Map<string, Value>]): void {
    for (const [m, from] of [
      [this.desired, d],
      [this.invalid, i],
      [this.unimplemented, u],
    ] as const) {
      m.clear();
      for (const [k, v] of from) m.set(k, v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a sequence

interface Stack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  s: Scheduler;
  /** The run's worker pool (owned by the run, replaced with the scheduler on an agent restart), or null. */
  pool: CountingPool | null;
  /** Ops the pools of earlier agents took. */
  pooledBefore: number;
}

export interface RunOptions {
  /**
   * Build the scheduler with an OffloadPool (2 threads, inlineThreshold 1: every route, ARP and
   * DNAT44 op goes through the pool); the results must be the same as without.
   */
  readonly pool?: boolean;
}

/** Inline threshold 1: any plan with one op of a pooled kind runs through the pool. */
async function startPool(connector: VppConnector): Promise<CountingPool> {
  return new CountingPool(await OffloadPool.start({ threads: 2, inlineThreshold: 1, connector }));
}

function newScheduler(connector: VppConnector, pool: CountingPool | null): Scheduler {
  return new Scheduler({ connector, ...(pool ? { pool } : {}) });
}

async function openStack(seed: number, o: RunOptions): Promise<Stack> {
  const sim = await startNativeSim({ seed });
  const connector = await VppConnector.connect(sim, { replyTimeout: 3000 });
  const pool = o.pool ? await startPool(connector) : null;
  return { sim, connector, s: newScheduler(connector, pool), pool, pooledBefore: 0 };
}

async function closeStack({ sim, connector, s, pool }: Stack): Promise<void> {
  await s.close();
  await pool?.inner.close();
  await connector.close();
  await sim.close();
}

/** The agent restarts: a new process has a new scheduler, and a new pool if it runs one. */
async function restartAgent(st: Stack): Promise<void> {
  await st.s.close();
  if (st.pool) {
    await st.pool.inner.close();
    st.pooledBefore += st.pool.ops;
    st.pool = await startPool(st.connector);
  }
  st.s = newScheduler(st.connector, st.pool);
}

export function diffMaps(name: string, got: ReadonlyMap<string, Value>, want: ReadonlyMap<string, Value>, out: string[], skip?: (k: string) => boolean): void {
  for (const [k, v] of want) {
    if (skip?.(k)) continue;
    const g = got.get(k);
    if (g === undefined) out.push(`${name}: missing ${k} (want ${JSON.stringify(v)})`);
    else if (!deepEqual(g, v)) out.push(`${name}: ${k} is ${JSON.stringify(g)}, want ${JSON.stringify(v)}`);
  }
  for (const [k, g] of got) if (!want.has(k) && !skip?.(k)) out.push(`${name}: unexpected ${k} = ${JSON.stringify(g)}`);
}

/** Errors that a commit may report while the dataplane injects no faults: invalid values only. */
function unexpectedErrors(r: CommitResult, allowed: ReadonlySet<string>): string[] {
  if (!r.error) return [];
  const out: string[] = [];
  if (r.error.txnInitError) out.push(`txnInitError: ${r.error.txnInitError.message}`);
  for (const e of r.error.kvErrors) if (!allowed.has(e.key)) out.push(`error on ${e.key}: ${e.error.message}`);
  return out;
}

/** The checks that hold whatever happened: nb is the model, applied values have their dependencies. */
async function weakChecks(st: Stack, m: Model, out: string[], aligned = true): Promise<{ cached: Map<string, Value>; sb: Map<string, Value> }> {
  const { s } = st;
  diffMaps('nb', await s.dump('', 'nb'), m.nb(), out);
  const cached = await s.dump('', 'cached');
  const sb = await s.dump('', 'sb');
  for (const k of m.invalid.keys()) if (s.getStatus(k)?.state !== 'invalid') out.push(`status of invalid ${k} is ${s.getStatus(k)?.state}`);
  for (const k of m.unimplemented.keys()) if (s.getStatus(k)?.state !== 'unimplemented') out.push(`status of ${k} is ${s.getStatus(k)?.state}`);
  // A key whose last operation did not fail is on the dataplane as the scheduler believes.
  const failed = (k: string): boolean => {
    const x = s.getStatus(k)?.state;
    return x === 'failed' || x === 'retrying';
  };
  if (!aligned) return { cached, sb }; // a restart not yet resynced: the dataplane lost everything
  diffMaps('cached vs sb (keys not failed)', sb, cached, out, failed);
  // S3: an applied value has its dependencies applied.
  for (const [k, v] of cached) {
    if (failed(k)) continue;
    const d = m.descriptor(k);
    if (!d) continue;
    for (const dep of d.dependencies(k, v)) if (!cached.has(dep)) out.push(`S3: ${k} is applied but its dependency ${dep} is not`);
  }
  return { cached, sb };
}

/** The checks of a scheduler that met no fault since its last heal (S1, S3). */
async function strongChecks(st: Stack, m: Model, out: string[]): Promise<void> {
  const { s } = st;
  const { cached, sb } = await weakChecks(st, m, out);
  const applied = m.applied();
  diffMaps('cached', cached, applied, out);
  diffMaps('sb', sb, applied, out);
  for (const [k] of m.desired) {
    const st2 = s.getStatus(k);
    if (applied.has(k)) {
      if (st2?.state !== 'configured') out.push(`status of ${k}: ${JSON.stringify(st2)}, want configured`);
      continue;
    }
    const missing = m
      .deps(k)
      .filter((d) => !applied.has(d))
      .map((d) => `waiting for ${d}`)
      .sort();
    if (st2?.state !== 'pending') out.push(`status of ${k}: ${JSON.stringify(st2)}, want pending`);
    else if (!deepEqual([...st2.details].sort(), missing)) {
      out.push(`pending details of ${k}: ${JSON.stringify(st2.details)}, want ${JSON.stringify(missing)}`);
    }
  }
  for (const k of KEYS) {
    if (m.desired.has(k) || m.invalid.has(k) || m.unimplemented.has(k)) continue;
    const st2 = s.getStatus(k);
    if (st2 !== undefined && st2.state !== 'removed') out.push(`status of deleted ${k}: ${JSON.stringify(st2)}`);
  }
}

/**
 * Waits until the retries of a commit are over: no key is `retrying` (a scheduled retry, or one
 * running, still owns it), i.e. the last retry succeeded or was the last attempt. A commit whose
 * failures are not retriable has none: it returns at once. Bounded by wall-clock time, not by a
 * count of 1 ms polls: a retry that waits for the dataplane or a pool worker (a loaded machine:
 * hundreds of ms) must be over before the checks read `cached` (at once) and `sb` (after the retry,
 * which it queues behind), or they compare two different states. False if still running at the end.
 */
async function retriesDone(s: Scheduler, keys: readonly string[], timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!keys.some((k) => s.getStatus(k)?.state === 'retrying')) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Counters of what the runs exercised (for tuning the generator). */
export const stats: Record<string, number> = {};
function count(name: string, n = 1): void {
  stats[name] = (stats[name] ?? 0) + n;
}

export interface RunResult {
  readonly step: number;
  readonly problems: string[];
  readonly steps: number;
  /** Ops handed to the pool (0 without one, or with its workers off: ENGINE_WORKERS=off). */
  readonly pooledOps: number;
  /** The run had a pool with workers on. */
  readonly poolWorkers: boolean;
}

function pooled(st: Stack): Pick<RunResult, 'pooledOps' | 'poolWorkers'> {
  return { pooledOps: st.pooledBefore + (st.pool?.ops ?? 0), poolWorkers: st.pool?.workers ?? false };
}

/** Runs ops; stops at the first step whose checks fail. */
export async function runOps(seed: number, ops: readonly Op[], log?: (s: string) => void, o: RunOptions = {}): Promise<RunResult> {
  const st = await openStack(seed, o);
  const { sim } = st;
  const m = new Model();
  let faulty = false;
  /** No fault and no unhealed restart since the last heal: the strong checks hold. */
  let clean = true;
  /** A restart that no full or downstream resync has seen yet. */
  let restarted = false;
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      const out: string[] = [];
      const s = st.s;
      log?.(`${i}: ${JSON.stringify(op)}`);
      switch (op.k) {
        case 'txn': {
          const values = new Map<string, Value | null>(op.changes);
          const opts: CommitOptions = op.revert ? { revert: true } : op.retry ? { retry: { delay: 1, maxAttempts: 2, expBackoff: false } } : {};
          const before = m.snapshot();
          const consistentBefore: string[] = [];
          if (op.revert && !clean) await strongChecks(st, m, consistentBefore);
          const invalidKeys = new Set([...values].filter(([k, v]) => m.isInvalid(k, v)).map(([k]) => k));
          const r = await s.commit(values, opts);
          for (const [k, v] of values) m.put(k, v);
          if (r.error && op.revert) {
            m.restore(before);
            const rec = s.getRecordedTransaction(r.seqNum);
            const undoFailed = rec?.executed.some((e) => e.error && e.note?.startsWith('revert')) ?? true;
            // S5: a failed revert commit whose undo succeeded leaves everything as it was.
            count('revert failed');
            if (!clean && consistentBefore.length === 0 && !undoFailed) {
              count('revert checked');
              const after: string[] = [];
              await strongChecks(st, m, after);
              out.push(...after.map((e) => `S5 revert left: ${e}`));
            }
          }
          if (op.retry && r.error && !(await retriesDone(s, [...KEYS, ...values.keys()]))) out.push('the retries of the commit were still running after 60 s');
          if (clean) out.push(...unexpectedErrors(r, invalidKeys));
          if (op.revert && r.error && invalidKeys.size === 0 && !faulty && clean) out.push('a revert commit failed without faults');
          break;
        }
        case 'two': {
          const va = new Map<string, Value | null>(op.a);
          const vb = new Map<string, Value | null>(op.b);
          const invalidA = new Set([...va].filter(([k, v]) => m.isInvalid(k, v)).map(([k]) => k));
          const invalidB = new Set([...vb].filter(([k, v]) => m.isInvalid(k, v)).map(([k]) => k));
          const pa = s.commit(va, {});
          const pb = s.commit(vb, {});
          const [ra, rb] = await Promise.all([pa, pb]);
          if (rb.seqNum <= ra.seqNum) out.push(`S7: sequence numbers ${ra.seqNum}, ${rb.seqNum} out of commit order`);
          for (const [k, v] of va) m.put(k, v);
          for (const [k, v] of vb) m.put(k, v);
          if (clean) out.push(...unexpectedErrors(ra, invalidA), ...unexpectedErrors(rb, invalidB));
          break;
        }
        case 'same': {
          const values = new Map<string, Value | null>();
          const all = m.all();
          for (const k of op.keys) {
            const v = all.get(k);
            if (v !== undefined && !m.invalid.has(k)) values.set(k, v);
          }
          const r = op.full ? await s.commit(m.all(), { resync: 'full' }) : await s.commit(values, {});
          if (clean) {
            out.push(...unexpectedErrors(r, op.full ? new Set(m.invalid.keys()) : new Set()));
            const rec = s.getRecordedTransaction(r.seqNum);
            if (rec && rec.executed.length > 0) out.push(`S1: re-committing unchanged values executed ${JSON.stringify(rec.executed)}`);
          }
          break;
        }
        case 'resync': {
          const all = m.all();
          for (const k of op.drop) all.delete(k);
          for (const [k, v] of op.add) {
            if (v === null) all.delete(k);
            else all.set(k, v);
          }
          const invalidKeys = new Set([...all].filter(([k, v]) => m.isInvalid(k, v)).map(([k]) => k));
          const r = await s.commit(all, { resync: op.kind, ...(op.retry ? { retry: { delay: 1, maxAttempts: 3, expBackoff: false } } : {}) });
          for (const k of [...m.all().keys()]) m.put(k, null);
          for (const [k, v] of all) m.put(k, v);
          if (clean) out.push(...unexpectedErrors(r, invalidKeys));
          if (op.kind === 'full') restarted = false;
          if (op.kind === 'full' && !faulty) clean = true;
          break;
        }
        case 'down': {
          const r = await s.resyncDownstream();
          if (clean) {
            const rec = s.getRecordedTransaction(r.seqNum);
            if (rec && rec.executed.length > 0) out.push(`S4: a downstream resync of an aligned dataplane executed ${JSON.stringify(rec.executed)}`);
          }
          if (clean || !faulty) out.push(...unexpectedErrors(r, new Set()).map((e) => `downstream: ${e}`));
          if (!faulty) clean = true;
          restarted = false;
          break;
        }
        case 'faults':
          await sim.setFaults({ errorRate: op.rate, seed: op.seed, messages: op.messages ? [...op.messages] : [], ...(op.latencyMs !== undefined ? { latencyMs: op.latencyMs } : {}) });
          faulty = true;
          clean = false;
          break;
        case 'heal': {
          await sim.setFaults({ errorRate: 0, latencyMs: 0 });
          faulty = false;
          const all = m.all();
          const r = await s.commit(all, { resync: 'full' });
          out.push(...unexpectedErrors(r, new Set(m.invalid.keys())).map((e) => `heal: ${e}`));
          clean = true;
          restarted = false;
          break;
        }
        case 'agent': {
          await restartAgent(st);
          const r = await st.s.commit(m.all(), { resync: 'full', isStartup: true });
          if (!faulty) out.push(...unexpectedErrors(r, new Set(m.invalid.keys())).map((e) => `startup resync: ${e}`));
          restarted = false;
          if (!faulty) clean = true;
          break;
        }
        case 'restart':
          await sim.restart();
          restarted = true;
          clean = false;
          break;
      }
      count(clean ? 'strong' : 'weak');
      if (clean) {
        const a = m.applied();
        count('applied', a.size);
        count('pending', m.desired.size - a.size);
        count('invalid', m.invalid.size);
      }
      if (clean) await strongChecks(st, m, out);
      else await weakChecks(st, m, out, !restarted);
      if (out.length > 0) return { step: i, problems: out, steps: ops.length, ...pooled(st) };
    }
    return { step: -1, problems: [], steps: ops.length, ...pooled(st) };
  } finally {
    await closeStack(st);
  }
}

