// The REST server over the real engine parts: Controller, Scheduler, VppConnector and native-sim.
import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import {
  DBResync,
  ExternalConfigChange,
  FatalError,
  type Event,
  type EventHandler,
  type ResyncOperations,
  type UpdateOperations,
} from '../src/api/index.js';
import { VppConnector } from '../src/connector/index.js';
import { Controller, type ControllerConfig } from '../src/controller/index.js';
import { EngineMetrics } from '../src/metrics/index.js';
import { HealthRegistry, startRestServer, type RestServer } from '../src/rest/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { http } from './helpers/ops-http.js';

const LO = 'config/vpp/v2/interfaces/lo1';

/** Puts one loopback on resync; throws FatalError on an ExternalConfigChange from source "boom". */
class LoopbackHandler implements EventHandler {
  toString(): string {
    return 'loopback';
  }
  handlesEvent(): boolean {
    return true;
  }
  resync(_e: Event, _k: unknown, _n: number, txn: ResyncOperations): void {
    txn.put(LO, { name: 'lo1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.9.0.1/24'], vrf: 0 });
  }
  update(event: Event, _txn: UpdateOperations): string {
    if (event instanceof ExternalConfigChange && event.source === 'boom') throw new FatalError(new Error('handler exploded'));
    return '';
  }
  revert(): void {}
}

async function engine(t: { teardown(fn: () => unknown): void }, config: Partial<ControllerConfig> = {}) {
  const sim = await startNativeSim();
  // A generous reply timeout: the machine is shared, and a slow first ping is not what is tested here.
  const connector = await VppConnector.connect(sim, { replyTimeout: 10_000 }).catch(async (err: unknown) => {
    await sim.close();
    throw err;
  });
  const scheduler = new Scheduler({ connector });
  const health = new HealthRegistry();
  const controller = new Controller({ handlers: [new LoopbackHandler()], scheduler, statusCheck: health, config });
  const metrics = new EngineMetrics({ controller, connector, defaultMetrics: false });
  await controller.start();
  const server: RestServer = await startRestServer({ port: 0, controller, scheduler, metrics, health });
  t.teardown(async () => {
    await server.close();
    await controller.close();
    await scheduler.close();
    await connector.close();
    await sim.close();
  });
  return { server, controller, health };
}

/** Resolves when `name` is (or reports) `state` in the registry. */
function reported(health: HealthRegistry, name: string, state: 'ok' | 'error'): Promise<void> {
  if (health.report().components[name]?.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const off = health.onChange((n, h) => {
      if (n === name && h.state === state) {
        off();
        resolve();
      }
    });
  });
}

test.serial('C20 C16 S7: event history, txn history, status, dump and metrics of a real engine', async (t) => {
  const { server, controller } = await engine(t);
  const before = Math.floor(Date.now() / 1000);
  controller.pushEvent(new DBResync());
  const change = new ExternalConfigChange('rest-test', true);
  controller.pushEvent(change);
  await change.wait();

  let r = await http(server, '/controller/event-history');
  t.is(r.status, 200);
  t.deepEqual(r.json.map((e: { name: string }) => e.name), ['Database Resync', 'External Config Change']);
  r = await http(server, `/controller/event-history?since=${before}&until=${before + 3600}`);
  t.is(r.json.length, 2);
  r = await http(server, '/controller/event-history?until=1');
  t.is(r.json.length, 0);
  r = await http(server, '/controller/event-history?first=1');
  t.is(r.json.length, 1);
  const [resync] = r.json;
  t.is(resync.name, 'Database Resync');
  t.is(resync.txnError, null);
  r = await http(server, `/controller/event-history?seq-num=${resync.seqNum}`);
  t.deepEqual(r.json.map((e: { seqNum: number }) => e.seqNum), [resync.seqNum]);

  r = await http(server, `/scheduler/txn-history?seq-num=${resync.txn.seqNum}`);
  t.is(r.status, 200);
  t.is(r.json.resync, 'full');
  t.deepEqual(r.json.executed.map((o: { key: string; op: string }) => [o.key, o.op]), [[LO, 'create']]);
  r = await http(server, `/scheduler/txn-history?since=${before}`);
  t.true(r.json.some((x: { seqNum: number }) => x.seqNum === resync.txn.seqNum));
  r = await http(server, '/scheduler/txn-history?seq-num=999999');
  t.is(r.status, 404);

  r = await http(server, `/scheduler/status?key=${encodeURIComponent(LO)}`);
  t.is(r.status, 200);
  t.is(r.json.state, 'configured');
  r = await http(server, '/scheduler/status?key=config/vpp/v2/interfaces/none');
  t.is(r.status, 404);

  for (const view of ['nb', 'sb', 'cached']) {
    r = await http(server, `/scheduler/dump?view=${view}&key-prefix=config/vpp/v2/interfaces/`);
    t.is(r.status, 200, view);
    t.is(r.json[LO]?.name, 'lo1', view);
  }

  r = await http(server, '/metrics');
  t.regex(r.text, /vpp_engine_events_processed_total\{event="Database Resync",result="ok"\} 1/);
  t.regex(r.text, /vpp_engine_commit_duration_seconds_count [1-9]/);
  t.regex(r.text, /vpp_engine_ring_capacity_bytes\{ring="request"\} [1-9]/);
});

test.serial('C20 C4: /health turns into error (503) when the startup resync deadline is missed', async (t) => {
  const { server, health } = await engine(t, { startupResyncDeadline: 30 });
  await reported(health, 'controller', 'error');
  const r = await http(server, '/health');
  t.is(r.status, 503);
  t.is(r.json.status, 'error');
  t.is(r.json.components.controller.state, 'error');
  t.truthy(r.json.components.controller.error.message);
});

test.serial('C20 C9: /health turns into error (503) after a fatal handler error', async (t) => {
  const { server, controller, health } = await engine(t);
  controller.pushEvent(new DBResync());
  const ok = new ExternalConfigChange('fine', true);
  controller.pushEvent(ok);
  await ok.wait();
  t.is((await http(server, '/health')).status, 200);
  const fatal = reported(health, 'controller', 'error');
  const boom = new ExternalConfigChange('boom', true);
  controller.pushEvent(boom);
  await t.throwsAsync(boom.wait());
  await fatal;
  const r = await http(server, '/health');
  t.is(r.status, 503);
  t.regex(r.json.components.controller.error.message, /handler exploded/);
});
