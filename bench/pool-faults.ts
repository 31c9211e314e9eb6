// What a pool sync reports under injected faults, against what the dataplane holds: seeded random
// states (interfaces, unnumbered ones, routes and ARP entries through them) synced 12 times with a
// share of all binary-API messages failing. Per sequence it checks after every sync that every key
// the sync reports applied is on the dataplane (dump 'sb') and that the dataplane holds no other
// key but one that failed in that sync (an orphan the next sync deletes), and after the last one
// that a sync without faults leaves the dataplane a fresh sync of the same state leaves.
//   node dist/bench/pool-faults.js [--rate 0.05] [--mode pool|inline] [--read-back on|off] [--sequences 20] [--verbose]
// A measurement for docs/hotpath.md, not a test: in pool mode which message a fault hits depends
// on thread timing.
import { parseArgs } from 'node:util';
import { Prng } from '../src/flood/prng.js';
import { StateSnapshot, type SyncMode } from '../src/offload/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { type OffloadStack, randomState, startOffloadStack } from '../test/helpers/offload-stack.js';

const SHARDS = 8;
const SYNCS = 12;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '0.05' },
    mode: { type: 'string', default: 'pool' },
    'read-back': { type: 'string', default: 'on' },
    sequences: { type: 'string', default: '20' },
    verbose: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const mode = values.mode as SyncMode;
const sequences = Number(values.sequences);
const readBack = values['read-back'] === 'on';
if (!(rate >= 0 && rate <= 1) || (mode !== 'pool' && mode !== 'inline') || !['on', 'off'].includes(values['read-back']) || !Number.isInteger(sequences) || sequences < 1) {
  throw new TypeError('usage: --rate 0..1 --mode pool|inline --read-back on|off --sequences N');
}

/** The keys the dataplane holds, read back through the descriptors (table 0 is always there). */
async function held(s: OffloadStack): Promise<string[]> {
  const reader = new Scheduler({ connector: s.connector });
  try {
    return [...(await reader.dump('', 'sb')).keys()].filter((k) => !k.startsWith('config/vpp/v2/vrf-table/id/0/')).sort();
  } finally {
    await reader.close();
  }
}

let agreed = 0;
let healed = 0;
for (let seed = 1; seed <= sequences; seed++) {
  const s = await startOffloadStack({ inlineThreshold: 0, readBack });
  let last: ReturnType<typeof randomState> = [];
  let agrees = true;
  let applied = StateSnapshot.empty(SHARDS);
  try {
    await s.sim.setFaults({ errorRate: rate, seed });
    const rng = new Prng(seed);
    for (let step = 0; step < SYNCS; step++) {
      last = randomState(rng);
      const r = await s.pool.sync(StateSnapshot.fromEntries(last, SHARDS), applied, { mode });
      applied = r.applied;
      const failed = new Set(r.errors.map((e) => e.key));
      const reported = new Set([...applied.entries()].map(([k]) => k));
      const dataplane = new Set(await held(s));
      // A key that failed may leave its object behind, not reported applied: an orphan the next sync deletes.
      const heldOnly = [...dataplane].filter((k) => !reported.has(k) && !failed.has(k));
      const reportedOnly = [...reported].filter((k) => !dataplane.has(k));
      if (agrees && heldOnly.length + reportedOnly.length > 0) {
        agrees = false;
        if (values.verbose) console.log(`sequence ${seed}, sync ${step}: held only`, heldOnly, 'reported only', reportedOnly);
      }
    }
    await s.sim.setFaults({ errorRate: 0 });
    await s.pool.sync(StateSnapshot.fromEntries(last, SHARDS), applied, { mode });
    const after = await held(s);
    const fresh = await startOffloadStack({ inlineThreshold: 0 });
    try {
      await fresh.pool.sync(StateSnapshot.fromEntries(last, SHARDS), StateSnapshot.empty(SHARDS), { mode });
      if (JSON.stringify(after) === JSON.stringify(await held(fresh))) healed++;
      else if (values.verbose) console.log(`sequence ${seed}: the sync without faults left another dataplane than a fresh one`);
    } finally {
      await fresh.close();
    }
  } finally {
    await s.close();
  }
  if (agrees) agreed++;
}
console.log(`faults in ${(rate * 100).toFixed(1)} % of messages, ${mode}, read-back ${values['read-back']}: reported applied = dataplane after every sync in ${agreed} of ${sequences} sequences; one sync without faults healed ${healed} of ${sequences}`);
