import type { FastifyInstance } from 'fastify';
import { NotConfiguredError } from './errors.js';
import type { HealthRegistry } from './health-registry.js';
import { sendJson } from './json.js';
import { parseQuery } from './query.js';
import type { RestMetricsSource } from './sources.js';

/** `GET /metrics` (Prometheus text) and `GET /health` (liveness + component states). */
export function registerOpsRoutes(app: FastifyInstance, metrics: RestMetricsSource | undefined, health: HealthRegistry): void {
  const startedAt = Date.now();

  app.get('/metrics', async (request, reply) => {
    parseQuery(request.query, {});
    if (!metrics) throw new NotConfiguredError('metrics registry', '/metrics');
    const text = await metrics.metrics();
    return reply.code(200).type(metrics.contentType).send(text);
  });

  app.get('/health', async (_request, reply) => {
    const report = health.report();
    return sendJson(reply, report.status === 'ok' ? 200 : 503, {
      ...report,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    });
  });
}
