import test from 'ava';
import {
  Controller,
  DBResync,
  Engine,
  ExternalConfigChange,
  type Event,
  type EventHandler,
  type ResyncOperations,
  type UpdateOperations,
} from '../src/index.js';

const LOOP = 'config/vpp/v2/interfaces/loop1';
const loop1 = { name: 'loop1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.0.0.1/24'], vrf: 0 };

/** Puts one loopback interface on every resync. */
class LoopbackHandler implements EventHandler {
  toString(): string {
    return 'loopback';
  }
  handlesEvent(_event: Event): boolean {
    return true;
  }
  resync(_event: Event, _kube: unknown, _count: number, txn: ResyncOperations): void {
    txn.put(LOOP, loop1);
  }
  update(_event: Event, _txn: UpdateOperations): void {}
  revert(_event: Event): void {}
}

test('C17, S1: a Controller without a scheduler builds the embedded stack, commits to native-sim and closes it', async (t) => {
  const controller = new Controller({ handlers: [new LoopbackHandler()] });
  await controller.start();
  const change = new ExternalConfigChange('db', true, new Map([['config/vpp/v2/vrf-table/id/5/protocol/IPV4', { id: 5, protocol: 'IPV4' }]]));
  controller.pushEvent(new DBResync());
  controller.pushEvent(change);
  await change.wait();
  t.deepEqual(controller.getConfig(LOOP), loop1);
  const history = controller.getEventHistory();
  t.is(history.length, 2);
  t.is(history[0]?.txnError, null);
  t.truthy(history[0]?.txn, 'the resync transaction was recorded by the real scheduler');
  await controller.close();
  await controller.close();
});

test('V5, R3: a dataplane restart is reported through the orchestrator and healed by a downstream resync in the loop', async (t) => {
  const engine = await Engine.start({ handlers: [new LoopbackHandler()], stack: { connector: { pingInterval: 20 } } });
  t.teardown(() => engine.close());
  const resynced = new Promise<void>((resolve) => {
    const stop = engine.stack.orchestrator.onResync(() => {
      stop();
      resolve();
    });
  });
  engine.controller.pushEvent(new DBResync());
  // Wait until the loopback is on the dataplane, then lose the dataplane's state.
  while ((await engine.sim.snapshot()).interfaces.every((i) => i.tag !== 'loop1')) await new Promise((r) => setTimeout(r, 5));
  await engine.sim.restart();
  await resynced;
  const after = await engine.sim.snapshot();
  const iface = after.interfaces.find((i) => i.tag === 'loop1');
  t.truthy(iface, 'the loopback is back after the restart');
  t.deepEqual(await engine.scheduler.dump('', 'sb'), await engine.scheduler.dump('', 'nb'));
  const healing = engine.controller.getEventHistory().filter((r) => r.description.includes('dataplane restarted') || r.name === 'Healing Resync');
  t.true(healing.length >= 1, 'the downstream resync went through the event loop');
});

test('R3 V5: a restart resync that keeps failing is planned again with a growing wait, and not at all once the loop aborts', async (t) => {
  const { FatalError, KubeStateChange } = await import('../src/index.js');
  const fatal: EventHandler = {
    toString: () => 'fatal',
    handlesEvent: () => true,
    resync: () => undefined,
    update: (ev: Event) => {
      if (ev instanceof KubeStateChange) throw new FatalError(new Error('boom'));
    },
    revert: () => undefined,
  };
  // The loop aborts: the restart resync fails with EventLoopAbortingError, which no re-run can fix.
  const aborted = await Engine.start({ handlers: [fatal], stack: { connector: { pingInterval: 20 } } });
  t.teardown(() => aborted.close());
  aborted.controller.pushEvent(new DBResync());
  aborted.controller.pushEvent(new KubeStateChange({ key: 'x', resource: 'pod', newValue: { a: 1 } }));
  while (!aborted.controller.isAborting) await new Promise((r) => setTimeout(r, 5));
  await aborted.sim.restart();
  await new Promise((r) => setTimeout(r, 600));
  t.is(aborted.stack.orchestrator.resyncCount, 1, 'one run for the restart, none after');
  // A dataplane that refuses the value every time: re-runs back off (100, 200, 400 ms...), not back to back.
  const failing = await Engine.start({ handlers: [new LoopbackHandler()], config: { enableRetry: false }, stack: { connector: { pingInterval: 20 } } });
  t.teardown(() => failing.close());
  failing.controller.pushEvent(new DBResync());
  while ((await failing.sim.snapshot()).interfaces.every((i) => i.tag !== 'loop1')) await new Promise((r) => setTimeout(r, 5));
  await failing.sim.setFaults({ errorRate: 1, messages: ['create_loopback'] });
  const t0 = Date.now();
  await failing.sim.restart();
  while (failing.stack.orchestrator.resyncCount < 3 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 10));
  t.is(failing.stack.orchestrator.resyncCount, 3, 'it is planned again');
  // Two waits (100 and 200 ms) lie between the first run and the third.
  t.true(Date.now() - t0 >= 300, `3 runs within ${Date.now() - t0} ms`);
});

test('C17: Engine.close() from a handler lets the running event commit, then closes the stack after the loop ends', async (t) => {
  const { KubeStateChange } = await import('../src/index.js');
  const self: { engine?: Engine } = {};
  let closed: Promise<void> | null = null;
  const handler: EventHandler = {
    toString: () => 'closer',
    handlesEvent: () => true,
    resync: () => undefined,
    update: (ev: Event, txn: UpdateOperations) => {
      if (!(ev instanceof KubeStateChange)) return;
      txn.put(LOOP, loop1);
      closed = (self.engine as Engine).close();
    },
    revert: () => undefined,
  };
  const engine = (self.engine = await Engine.start({ handlers: [handler] }));
  engine.controller.pushEvent(new DBResync());
  const ev = new KubeStateChange({ key: 'x', resource: 'pod', newValue: { a: 1 } });
  let done!: (err: Error | null) => void;
  const finished = new Promise<Error | null>((r) => (done = r));
  ev.done = (err) => done(err);
  engine.controller.pushEvent(ev);
  t.is(await finished, null, 'the event that asked for the close committed');
  await closed;
  // Closing from outside now waits for everything, the stack included.
  await engine.close();
  const rec = engine.controller.getEventHistory().find((r) => r.name === 'Kubernetes State Change')!;
  t.is(rec.txnError, null);
  await t.throwsAsync(engine.sim.snapshot(), { code: 'ERR_SIM_CLOSED' });
});
