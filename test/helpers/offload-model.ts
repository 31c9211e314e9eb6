// A model-based test of OffloadPool.sync (test/offload-model.test.ts): seeded sequences of desired
// states over the scheduler model's universe of keys (every built-in kind, dependencies between
// them, invalid values, unimplemented keys), synced one after the other with the applied state the
// last sync reported, under injected dataplane errors now and then. Checked after every sync: each
// error is typed; a key that did not fail is on the dataplane as the sync reports it, and nothing
// else is there but what a failed key may keep; after a sync without faults, the model's least
// fixpoint is applied as desired and exactly the keys outside it failed (a failed key may keep its
// applied value: the pool has no revert, docs/hotpath.md).
import type { Value } from '../../src/api/values.js';
import { vrfTableKey } from '../../src/descriptors/index.js';
import { type OffloadOptions, StateSnapshot, type SyncMode } from '../../src/offload/index.js';
import type { VppConnector } from '../../src/connector/index.js';
import { builtinDescriptors } from '../../src/descriptors/builtin.js';
import type { Descriptor } from '../../src/scheduler/index.js';
import { deepEqual } from '../../src/scheduler/value-equality.js';
import { MetadataStore } from '../../src/scheduler/metadata-store.js';
import { DescriptorRegistry } from '../../src/scheduler/registry.js';
import { startOffloadStack } from './offload-stack.js';
import { KEYS, Model, diffMaps, generator, prng } from './scheduler-model.js';

const SHARDS = 4;
const FAULTY_MESSAGES = ['ip_neighbor_add_del', 'ip_route_add_del', 'sw_interface_add_del_address', 'bridge_domain_add_del', 'acl_add_replace', 'sw_interface_set_table', 'create_loopback', 'memif_create', 'sw_interface_set_l2_bridge', 'nat44_add_del_static_mapping'];

/** The default tables exist on every dataplane; nobody desires them here. */
const isDefaultTable = (k: string): boolean => k === vrfTableKey(0, 'IPV4') || k === vrfTableKey(0, 'IPV6');

/**
 * What the descriptors' retrieve finds on the dataplane (as a scheduler's `dump('', 'sb')`), with
 * the values a sync reported applied as correlation hints (fields that only hints tell: MTU, BVI).
 */
async function readBack(connector: VppConnector, hints: ReadonlyMap<string, Value>): Promise<Map<string, Value>> {
  const registry = new DescriptorRegistry();
  for (const d of builtinDescriptors()) registry.register(d);
  const md = new MetadataStore((key) => registry.prefixOf(key));
  const ctx = { dump: (name: string, fields?: Record<string, unknown>) => connector.dump(name, fields), metadata: md, correlate: (key: string) => hints.get(key) };
  const out = new Map<string, Value>();
  // Dependencies first: a bridge domain's members are named through the interfaces' metadata.
  for (const d of registry.retrieveOrder) {
    if (!d.retrieve) continue;
    for (const it of await d.retrieve(ctx)) {
      if (registry.forKey(it.key) !== d || isDefaultTable(it.key)) continue;
      out.set(it.key, it.value);
      if (it.metadata !== undefined) md.set(it.key, it.metadata);
    }
  }
  return out;
}

/**
 * What a sync without faults applies: the least fixpoint of "all dependencies applied" over the
 * desired values of the keys that did not fail and, for a failed key, the value the sync reports
 * it kept (the pool does not revert: an update that failed keeps the value applied before, and so
 * does an invalid value unless what it depends on goes; docs/hotpath.md).
 */
function expected(m: Model, reported: ReadonlyMap<string, Value>, failed: ReadonlySet<string>): Map<string, Value> {
  const candidates = new Map<string, Value>();
  for (const [k, v] of m.desired) if (!failed.has(k)) candidates.set(k, v);
  for (const k of failed) {
    const v = reported.get(k);
    if (v !== undefined && m.descriptor(k)) candidates.set(k, v);
  }
  const out = new Map<string, Value>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [k, v] of candidates) {
      if (out.has(k)) continue;
      if ((m.descriptor(k) as Descriptor).dependencies(k, v).every((d) => out.has(d))) {
        out.set(k, v);
        grew = true;
      }
    }
  }
  return out;
}

/** Whether a desired key depends on itself through the dependencies of desired values. */
function onCycle(m: Model, key: string): boolean {
  const seen = new Set<string>();
  const todo = [key];
  for (let k = todo.pop(); k !== undefined; k = todo.pop()) {
    const v = m.desired.get(k);
    if (v === undefined) continue;
    for (const dep of (m.descriptor(k) as Descriptor).dependencies(k, v)) {
      if (dep === key) return true;
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return false;
}

export interface SyncModelResult {
  readonly step: number;
  readonly problems: string[];
  readonly faultySyncs: number;
  readonly errors: number;
}

export async function runSyncModel(seed: number, steps: number, mode: SyncMode, log: (line: string) => void = () => {}, options: Omit<OffloadOptions, 'connector'> = {}): Promise<SyncModelResult> {
  const rnd = prng(seed);
  const g = generator(rnd);
  const m = new Model();
  const st = await startOffloadStack({ inlineThreshold: 0, ...options });
  let applied = StateSnapshot.empty(SHARDS);
  let faulty = false;
  let faultySyncs = 0;
  let errors = 0;
  const problems: string[] = [];
  let step = 0;
  try {
    // The last two syncs change nothing, without faults: what faults left behind is cleaned up.
    for (; step < steps + 2 && problems.length === 0; step++) {
      const r = step < steps ? rnd() : 1;
      if (step >= steps && faulty) {
        await st.sim.setFaults({ errorRate: 0, messages: [] });
        faulty = false;
        log(`${step}: faults off`);
      } else if (r < 0.12 && !faulty) {
        const rate = g.pick([0.05, 0.15, 0.3, 1]);
        const messages = rate === 1 ? [g.pick(FAULTY_MESSAGES)] : [];
        await st.sim.setFaults({ errorRate: rate, seed: g.idx(1000), messages });
        faulty = true;
        log(`${step}: faults ${rate} ${messages.join(',')}`);
      } else if (r < 0.3 && faulty) {
        await st.sim.setFaults({ errorRate: 0, messages: [] });
        faulty = false;
        log(`${step}: faults off`);
      }
      const changes = step >= steps ? [] : Array.from({ length: 1 + g.idx(6) }, () => (g.chance(0.3) ? ([g.pick(KEYS), null] as const) : g.change()));
      for (const [k, v] of changes) m.put(k, v);
      log(`${step}: ${changes.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
      const res = await st.pool.sync(StateSnapshot.fromEntries([...m.all()] as Array<[string, Value]>, SHARDS), applied, { mode });
      applied = res.applied;
      errors += res.errors.length;
      if (faulty) faultySyncs++;
      const failed = new Set(res.errors.map((e) => e.key));
      for (const e of res.errors) {
        if (typeof (e.error as { code?: unknown }).code !== 'string') problems.push(`${e.key}: untyped error ${e.error.message}`);
      }
      const reported = new Map<string, Value>();
      for (const [k, v] of applied.entries()) {
        const d = m.descriptor(k);
        reported.set(k, d ? d.validate(k, v as Value) : (v as Value));
      }
      const sb = await readBack(st.connector, reported);
      if (process.env.OFFLOAD_MODEL_TRACE) for (const k of process.env.OFFLOAD_MODEL_TRACE.split(',')) log(`  ${k}: desired ${JSON.stringify(m.all().get(k))} reported ${JSON.stringify(reported.get(k))} dataplane ${JSON.stringify(sb.get(k))} error ${res.errors.find((e) => e.key === k)?.error.message} md ${st.pool.metadata.get(k)}`);
      // Whatever happened: a key that did not fail is on the dataplane as the sync reports it, and
      // the dataplane holds nothing else but what failed keys may have left.
      diffMaps('dataplane vs reported (keys not failed)', sb, reported, problems, (k) => failed.has(k));
      if (faulty) continue;
      // No faults during this sync: the dataplane and the reported state are the model's fixpoint;
      // a key fails exactly when its desired value is not applied, and only for want of a
      // dependency (or as invalid or unimplemented).
      const want = expected(m, reported, failed);
      // The one object a sync without faults may leave behind a failed key: a value linked to a
      // create undone in the same sync (an orphan the next sync makes again).
      const unlinked = (k: string): boolean => !want.has(k) && (res.errors.find((e) => e.key === k)?.error as { code?: string } | undefined)?.code === 'ERR_DEPENDENCY_DELETED';
      diffMaps('dataplane', sb, want, problems, unlinked);
      diffMaps('reported applied', reported, want, problems);
      for (const k of [...m.invalid.keys(), ...m.unimplemented.keys()]) if (!failed.has(k)) problems.push(`${k} is invalid or unimplemented and did not fail`);
      for (const [k, v] of m.desired) {
        const applied = want.has(k) && deepEqual(want.get(k), v);
        const ready = (m.descriptor(k) as Descriptor).dependencies(k, v).every((d) => want.has(d));
        if (applied === failed.has(k)) problems.push(`${k}: ${failed.has(k) ? 'failed although applied' : 'neither applied nor failed'}`);
        // A value on a cycle of desired values is refused (ERR_DEPENDENCY_CYCLE) whatever the others keep.
        const code = (res.errors.find((e) => e.key === k)?.error as { code?: string } | undefined)?.code;
        if (code === 'ERR_DEPENDENCY_CYCLE' && !onCycle(m, k)) problems.push(`${k}: refused for a dependency cycle it is not on`);
        if (!applied && ready && code !== 'ERR_DEPENDENCY_CYCLE') problems.push(`${k}: not applied although its dependencies are: ${res.errors.find((e) => e.key === k)?.error.message}`);
      }
    }
  } finally {
    await st.close();
  }
  return { step: step - 1, problems, faultySyncs, errors };
}
