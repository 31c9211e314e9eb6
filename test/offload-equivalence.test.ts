import test from 'ava';
import { Scheduler } from '../src/scheduler/index.js';
import { StateSnapshot, type SyncMode } from '../src/offload/index.js';
import { layeredState, route, startOffloadStack, type Entry } from './helpers/offload-stack.js';

const SHARDS = 4;

/** The same three commits, through the pool (rings or postMessage) or inline. */
async function run(mode: SyncMode, rings: boolean): Promise<{ sb: Map<string, unknown>; errors: number }> {
  const s = await startOffloadStack({ inlineThreshold: 0, rings, workers: true });
  try {
    const steps: Entry[][] = [
      layeredState(300),
      // Half the routes change, some are dropped, new ones appear.
      [...layeredState(300).filter((_, i) => i < 4 || i % 4 !== 1).map(([k, v], i): Entry => (i % 2 === 0 && k.includes('/route/') ? [k, { ...v, preference: 3 }] : [k, v])), ...Array.from({ length: 50 }, (_, i) => route(1000 + i))],
      layeredState(100),
    ];
    let applied = StateSnapshot.empty(SHARDS);
    let errors = 0;
    for (const step of steps) {
      const r = await s.pool.sync(StateSnapshot.fromEntries(step, SHARDS), applied, { mode });
      t_assertMode(r.mode, mode);
      errors += r.errors.length;
      applied = r.applied;
    }
    // Read back through the descriptors, like the scheduler's dump('', 'sb').
    const reader = new Scheduler({ connector: s.connector });
    const sb = await reader.dump('', 'sb');
    await reader.close();
    return { sb, errors };
  } finally {
    await s.close();
  }
}

function t_assertMode(got: SyncMode, want: SyncMode): void {
  if (got !== want) throw new Error(`sync ran ${got}, expected ${want}`);
}

test('S1, S2: the pool (rings), the pool (postMessage) and the inline path leave the same dataplane (same dump sb)', async (t) => {
  const inline = await run('inline', true);
  const pooled = await run('pool', true);
  const posted = await run('pool', false);
  t.is(inline.errors, 0);
  t.is(pooled.errors, 0);
  t.is(posted.errors, 0);
  t.true(inline.sb.size > 100);
  t.deepEqual([...pooled.sb].sort(), [...inline.sb].sort());
  t.deepEqual([...posted.sb].sort(), [...inline.sb].sort());
});
