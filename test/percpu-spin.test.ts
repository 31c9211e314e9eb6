// The adaptive spins: what RecentWaits learns from observed waits, and a steady stream of request
// batches through the rings with each combination of spin switches (0 = never spin), so the
// learnt-spin paths and the parked paths both deliver every reply, in order, to the right batch.
import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { RecentWaits } from '../src/connector/adaptive-spin.js';

test('V1: RecentWaits covers the longest recent wait that fits the cap, with a margin', (t) => {
  const w = new RecentWaits();
  t.is(w.cover(50, 5), 0, 'nothing seen yet: no spin');
  for (const us of [10, 30, 20, 12]) w.add(us);
  t.is(w.samples, 4);
  t.is(w.cover(50, 5), 30 * 1.125 + 5);
  t.is(w.cover(32, 5), 32, 'never beyond the cap');
  // Waits that do not fit do not stretch the spin...
  w.add(400);
  t.is(w.cover(50, 5), 30 * 1.125 + 5);
  // ...and once most recent waits are longer than the cap, spinning stops paying: 0.
  for (let i = 0; i < 5; i++) w.add(400);
  t.is(w.cover(50, 5), 0);
  t.true(w.cover(1000, 5) >= 400, 'a larger cap covers them again');
});

test('V1: RecentWaits stops spinning while most recent spins missed, and resumes once they hit', (t) => {
  const w = new RecentWaits();
  for (let i = 0; i < 8; i++) w.add(20);
  const full = w.cover(50, 5);
  t.true(full > 0);
  // Short waits, yet the spins miss (the spinning thread holds the core its producer needs).
  for (let i = 0; i < 3; i++) w.spun(false);
  t.is(w.cover(50, 5), full, 'fewer than 4 spins: not judged yet');
  w.spun(false);
  t.is(w.cover(50, 5), 0);
  for (let i = 0; i < 4; i++) w.spun(true);
  t.is(w.cover(50, 5), full, 'half hit: spin again');
});

test('V1: RecentWaits forgets old waits (a window of 32)', (t) => {
  const w = new RecentWaits();
  for (let i = 0; i < 32; i++) w.add(1000);
  t.is(w.cover(50, 0), 0);
  for (let i = 0; i < 32; i++) w.add(8);
  t.is(w.samples, 32);
  t.is(w.cover(50, 0), 9);
});

function routes(isAdd: boolean, base: number, n: number): Array<{ name: string; fields: Record<string, unknown> }> {
  return Array.from({ length: n }, (_, k) => ({
    name: 'ip_route_add_del',
    fields: { is_add: isAdd, route: { table_id: 0, prefix: `10.9.${base + k}.0/24`, paths: [{ sw_if_index: 0xffffffff, nh: '192.168.0.1', weight: 1, preference: 0 }] } },
  }));
}

for (const [connectorSpin, simSpin] of [
  [0, 0],
  [50, 0],
  [0, 50],
  [50, 50],
  [2000, 2000],
] as const) {
  test(`V1 N2: a steady stream of add/delete batches gets every reply right (connector spinMicros ${connectorSpin}, sim spinMicros ${simSpin})`, async (t) => {
    const sim = await startNativeSim({ spinMicros: simSpin });
    const c = await VppConnector.connect(sim, { pingInterval: 0, spinMicros: connectorSpin });
    try {
      for (let round = 0; round < 40; round++) {
        const base = (round % 10) * 15;
        const added = await c.requestBatch(routes(true, base, 15));
        t.true(added.every((r) => !(r instanceof Error) && r['_msgname'] === 'ip_route_add_del_reply' && r['retval'] === 0));
        // Deleting twice in one batch: the second of each pair fails in place (NO_SUCH_ENTRY, -6).
        const del = routes(false, base, 15);
        const removed = await c.requestBatch(del.flatMap((d) => [d, d]));
        t.is(removed.length, 30);
        for (let i = 0; i < removed.length; i++) {
          const r = removed[i];
          if (i % 2 === 0) t.false(r instanceof Error);
          else t.like(r, { retval: -6 });
        }
      }
      t.is((await sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.9.')).length, 0);
      t.is(c.stats().inFlight, 0);
    } finally {
      await c.close();
      await sim.close();
    }
  });
}
