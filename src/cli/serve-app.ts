import type { Logger } from 'pino';
import { toError } from '../api/errors.js';
import { EngineMetrics, type MetricsConnectorSource, type MetricsControllerSource, type MetricsOrchestratorSource } from '../metrics/index.js';
import { HealthRegistry, startRestServer, type RestControllerSource, type RestSchedulerSource, type RestServer, type ResyncTrigger } from '../rest/index.js';
import type { ServeArgs } from './serve-args.js';

/** The running engine as `serve` sees it: whatever parts the engine factory built. */
export interface ServeEngine {
  readonly controller: RestControllerSource & MetricsControllerSource;
  readonly scheduler?: RestSchedulerSource;
  readonly connector?: MetricsConnectorSource;
  readonly orchestrator?: MetricsOrchestratorSource;
  /** What `POST /controller/resync` does (a remote DB resync with etcd); default: a downstream resync. */
  readonly resync?: ResyncTrigger;
  /** Finishes every queued event, stops watchers and closes the dataplane; never rejects. */
  close(): Promise<void>;
}

/** What the factory gets to build the engine with. */
export interface ServeEngineContext {
  readonly args: ServeArgs;
  readonly logger: Logger;
  /** Pass to the controller as `statusCheck` so /health follows it. */
  readonly health: HealthRegistry;
}

export interface ServeApp {
  readonly url: string;
  /** Closes REST, then the engine (queued events finished, dataplane closed); never rejects. */
  shutdown(reason: string): Promise<void>;
}

/** Builds the engine, its metrics and the REST server; logs the URL actually listened on. */
export async function startServeApp(
  args: ServeArgs,
  logger: Logger,
  makeEngine: (ctx: ServeEngineContext) => Promise<ServeEngine>,
): Promise<ServeApp> {
  const health = new HealthRegistry();
  const engine = await makeEngine({ args, logger, health });
  const metrics = new EngineMetrics({
    controller: engine.controller,
    ...(engine.connector ? { connector: engine.connector } : {}),
    ...(engine.orchestrator ? { orchestrator: engine.orchestrator } : {}),
  });
  let server: RestServer;
  try {
    server = await startRestServer({
      host: args.host,
      port: args.port,
      ...(args.token ? { token: args.token } : {}),
      controller: engine.controller,
      ...(engine.scheduler ? { scheduler: engine.scheduler } : {}),
      ...(engine.resync ? { resync: engine.resync } : {}),
      metrics,
      health,
      logger: logger.child({ component: 'rest' }),
    });
  } catch (err) {
    // Without the REST server there is nothing to serve: close what was built and fail.
    metrics.close();
    await engine.close();
    throw err;
  }
  logger.info({ url: server.url, etcd: args.etcd, localDb: args.localDb, auth: args.token !== null }, `serving on ${server.url}`);

  let closing: Promise<void> | null = null;
  const shutdown = async (reason: string): Promise<void> => {
    logger.info({ reason }, 'shutting down');
    const t0 = Date.now();
    try {
      await server.close();
    } catch (err) {
      logger.warn({ err: toError(err) }, 'REST server did not close cleanly');
    }
    await engine.close();
    metrics.close();
    logger.info({ ms: Date.now() - t0 }, 'shutdown complete');
  };
  return {
    url: server.url,
    shutdown: (reason) => (closing ??= shutdown(reason)),
  };
}
