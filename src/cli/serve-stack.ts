import type { NativeSim } from '../../native-sim/index.js';
import { DBResync } from '../api/events.js';
import { DbWatcher } from '../dbwatcher/index.js';
import { Engine } from '../engine/index.js';
import { builtinHandlers } from '../handlers/index.js';
import type { ServeEngine, ServeEngineContext } from './serve-app.js';

/** The engine plus the simulated dataplane it runs on (for tests and diagnostics). */
export interface ServeStack extends ServeEngine {
  readonly sim: NativeSim;
}

/**
 * The engine `serve` runs: the built-in handlers on the embedded default engine (native-sim,
 * connector, scheduler, resync orchestrator: a dataplane restart is healed through the loop) and,
 * with `--etcd`, the DB watcher with its local mirror.
 */
export async function buildServeEngine({ args, logger, health }: ServeEngineContext): Promise<ServeStack> {
  const engine = await Engine.start({
    handlers: builtinHandlers(),
    statusCheck: health,
    logger: logger.child({ component: 'controller' }),
    stack: {
      connector: { logger: logger.child({ component: 'connector' }) },
      scheduler: { logger: logger.child({ component: 'scheduler' }) },
      orchestrator: { logger: logger.child({ component: 'resync' }) },
    },
  });
  const { controller, connector } = engine;
  health.reportStateChange('dataplane', connector.state === 'up' ? 'ok' : 'error');
  const offState = connector.onStateChange((state) => {
    if (state === 'closed') return;
    health.reportStateChange('dataplane', state === 'up' ? 'ok' : 'error', state === 'up' ? null : new Error(`dataplane is ${state}`));
  });

  let watcher: DbWatcher | null = null;
  if (args.etcd !== null) {
    watcher = new DbWatcher({
      eventLoop: controller,
      etcd: { hosts: args.etcd.split(',') },
      ...(args.localDb !== null ? { localDbPath: args.localDb } : {}),
      statusCheck: health,
      logger: logger.child({ component: 'dbwatcher' }),
    });
    try {
      await watcher.start();
    } catch (err) {
      await watcher.close();
      offState();
      await engine.close();
      throw err;
    }
  } else {
    if (args.localDb !== null) logger.warn({ localDb: args.localDb }, '--local-db mirrors the remote DB: ignored without --etcd');
    // No database: the startup resync is an empty one, so that events flow at once (C4).
    controller.pushEvent(new DBResync());
  }

  const w = watcher;
  return {
    sim: engine.sim,
    controller,
    scheduler: engine.scheduler,
    connector,
    orchestrator: engine.stack.orchestrator,
    ...(w
      ? {
          resync: async () => {
            await w.resync();
            return 'remote DB resync done';
          },
        }
      : {}),
    async close() {
      await w?.close();
      await engine.close();
      offState();
    },
  };
}
