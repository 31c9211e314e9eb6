// The engine `serve` builds, in-process: the orchestrator wiring between the dataplane and the controller.
import test from 'ava';
import { pino } from 'pino';
import { buildServeEngine } from '../src/cli/serve-stack.js';
import { parseServeArgs } from '../src/cli/serve-args.js';
import { HealthRegistry } from '../src/rest/index.js';
import type { ResyncOrchestrator, ResyncRunInfo } from '../src/resync/index.js';
import type { Controller } from '../src/controller/index.js';

test('R3 V5: in serve, a dataplane restart reports to the orchestrator, which heals it through the loop', async (t) => {
  const health = new HealthRegistry();
  const stack = await buildServeEngine({ args: parseServeArgs([]), logger: pino({ level: 'silent' }), health });
  t.teardown(() => stack.close());
  const controller = stack.controller as Controller;
  const orchestrator = stack.orchestrator as ResyncOrchestrator;

  const run = new Promise<ResyncRunInfo>((resolve) => orchestrator.onResync(resolve));
  const healed = new Promise<void>((resolve) => {
    controller.onEvent((info) => {
      if (info.healing) resolve();
    });
  });
  await stack.sim.restart();
  const info = await run;
  t.regex(info.reasons[0]?.error.message ?? '', /restarted/);
  t.true(info.completed);
  t.true(info.outcomes.every((o) => o.outcome === 'acked'));
  await healed;
  const names = controller.getEventHistory().map((e) => e.name);
  t.deepEqual(names, ['Database Resync', 'Healing Resync']);
  t.truthy(health.report().components['dataplane'], 'the connector state is reported to health');
});
