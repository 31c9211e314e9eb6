// Model-based test of OffloadPool.sync in both modes: see test/helpers/offload-model.ts.
import test from 'ava';
import { runSyncModel } from './helpers/offload-model.js';

// A few seeds keep the file short; OFFLOAD_MODEL_SEEDS=N OFFLOAD_MODEL_STEPS=M searches longer, and
// OFFLOAD_MODEL_FROM=K starts that search at seed K (default 1), and OFFLOAD_MODEL_TRACE=key1,key2 logs those
// keys (desired, reported, on the dataplane, error) after every sync.
const FROM = Number(process.env.OFFLOAD_MODEL_FROM ?? 1);
const SEEDS = process.env.OFFLOAD_MODEL_SEEDS ? Array.from({ length: Number(process.env.OFFLOAD_MODEL_SEEDS) }, (_, i) => i + FROM) : [2, 7, 19];
const STEPS = Number(process.env.OFFLOAD_MODEL_STEPS ?? 30);

for (const mode of ['pool', 'inline'] as const) {
  test(`S1 S3 S4 S5: pool.sync (${mode}) matches the reference model after every sync, with and without dataplane faults (seeds ${SEEDS.length > 8 ? `${FROM}..${FROM + SEEDS.length - 1}` : SEEDS.join(', ')}, ${STEPS} syncs each)`, async (t) => {
    let faulty = 0;
    let errors = 0;
    for (const seed of SEEDS) {
      const lines: string[] = [];
      const r = await runSyncModel(seed, STEPS, mode, (l) => lines.push(l));
      faulty += r.faultySyncs;
      errors += r.errors;
      if (r.problems.length > 0) {
        t.log(lines.join('\n'));
        t.fail(`seed ${seed}, step ${r.step}:\n${r.problems.join('\n')}`);
        return;
      }
    }
    t.true(faulty > 0, 'some syncs ran under injected faults');
    t.true(errors > 0, 'some keys failed');
  });
}
