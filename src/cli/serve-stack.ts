import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { HealingResyncType } from '../api/enums.js';
import { DBResync, HealingResync } from '../api/events.js';
import { toError } from '../api/errors.js';
import { VppConnector } from '../connector/index.js';
import { Controller } from '../controller/index.js';
import { DbWatcher } from '../dbwatcher/index.js';
import { builtinHandlers } from '../handlers/index.js';
import { ResyncOrchestrator } from '../resync/index.js';
import { Scheduler } from '../scheduler/index.js';
import type { ServeEngine, ServeEngineContext } from './serve-app.js';

/** The engine plus the simulated dataplane it runs on (for tests and diagnostics). */
export interface ServeStack extends ServeEngine {
  readonly sim: NativeSim;
}

/**
 * The engine `serve` runs: simulated VPP + connector + scheduler, the built-in handlers and the
 * controller, the resync orchestrator (a dataplane restart reports to it; the controller's
 * registration answers with a downstream resync) and, with `--etcd`, the DB watcher.
 */
export async function buildServeEngine({ args, logger, health }: ServeEngineContext): Promise<ServeStack> {
  const sim = await startNativeSim();
  const connector = await VppConnector.connect(sim, { logger: logger.child({ component: 'connector' }) });
  const scheduler = new Scheduler({ connector, logger: logger.child({ component: 'scheduler' }) });
  const controller = new Controller({
    handlers: builtinHandlers(),
    scheduler,
    statusCheck: health,
    logger: logger.child({ component: 'controller' }),
  });
  const orchestrator = new ResyncOrchestrator({ logger: logger.child({ component: 'resync' }) });

  // The controller's part of an orchestrated resync: re-align the dataplane (a downstream resync).
  const registration = orchestrator.register('controller');
  void (async () => {
    for await (const ev of registration.statusEvents()) {
      try {
        controller.pushEvent(new HealingResync(HealingResyncType.Periodic));
      } catch (err) {
        logger.warn({ err: toError(err) }, 'could not queue the downstream resync');
      }
      ev.ack();
    }
  })();
  const offState = connector.onStateChange((state) => {
    health.reportStateChange('dataplane', state === 'not-responding' ? 'error' : 'ok', state === 'not-responding' ? new Error('dataplane is not responding') : null);
  });
  const offRestart = connector.onRestart((epoch) => orchestrator.reportError('dataplane', new Error(`dataplane restarted (epoch ${epoch})`)));
  health.reportStateChange('dataplane', 'ok');

  await controller.start();
  let watcher: DbWatcher | null = null;
  if (args.etcd !== null) {
    watcher = new DbWatcher({
      eventLoop: controller,
      etcd: { hosts: args.etcd.split(',') },
      ...(args.localDb !== null ? { localDbPath: args.localDb } : {}),
      statusCheck: health,
      logger: logger.child({ component: 'dbwatcher' }),
    });
    await watcher.start();
  } else {
    if (args.localDb !== null) logger.warn({ localDb: args.localDb }, '--local-db mirrors the remote DB: ignored without --etcd');
    // No database: the startup resync is an empty one, so that events flow at once (C4).
    controller.pushEvent(new DBResync());
  }

  const w = watcher;
  return {
    sim,
    controller,
    scheduler,
    connector,
    orchestrator,
    ...(w ? { resync: async () => { await w.resync(); return 'remote DB resync done'; } } : {}),
    async close() {
      await w?.close();
      offRestart();
      offState();
      await orchestrator.close();
      await controller.close();
      await scheduler.close();
      await connector.close();
      await sim.close();
    },
  };
}
