import test from 'ava';
import { connected, nextState } from './helpers/dataplane-connect.js';

for (const transport of ['ring', 'postMessage'] as const) {
  test(`V5 N4: a dataplane restart loses all state and is reported once with the new epoch (${transport})`, async (t) => {
    const { sim, c } = await connected(t, {}, { transport });
    const first = c.epoch;
    t.true(first > 0);
    await c.request('create_loopback');
    await c.request('create_loopback');
    const restarts: number[] = [];
    c.onRestart((epoch) => restarts.push(epoch));
    const epoch = await sim.restart();
    t.not(epoch, first);
    t.is(await c.ping(), epoch);
    t.deepEqual(restarts, [epoch]);
    t.is(c.epoch, epoch);
    const snap = await sim.snapshot();
    t.deepEqual(snap.interfaces.map((i) => i.name), ['local0']);
    t.is((await c.request('create_loopback'))['sw_if_index'], 1, 'sw_if_index allocation starts over');
    await c.ping();
    t.is(restarts.length, 1, 'an unchanged epoch is not a restart');
    t.is((await sim.counters()).restarts, 1);
  });

  test(`V5: periodic pings notice a restart without any request; unsubscribe stops notifications (${transport})`, async (t) => {
    const { sim, c } = await connected(t, {}, { transport, pingInterval: 20 });
    let heard = 0;
    const seen = new Promise<number>((resolve) => {
      const off = c.onRestart((e) => {
        heard++;
        off();
        resolve(e);
      });
    });
    const epoch = await sim.restart();
    t.is(await seen, epoch);
    // On a loaded machine two 20 ms pings can be missed around the restart: then it comes back up.
    // (it must come back up: a test timeout otherwise).
    if (c.state !== 'up') await nextState(c, 'up');
    // A second restart, noticed by a listener still subscribed, is not reported to the one that left.
    const again = new Promise<number>((resolve) => {
      const off = c.onRestart((e) => {
        off();
        resolve(e);
      });
    });
    const epoch2 = await sim.restart();
    t.is(await again, epoch2);
    t.is(heard, 1, 'the unsubscribed listener heard only the first restart');
  });
}
