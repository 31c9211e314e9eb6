import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fastify, type FastifyError, type FastifyReply } from 'fastify';
import { RestError, UnauthorizedError } from './errors.js';
import { HealthRegistry } from './health-registry.js';
import { sendError, toJson } from './json.js';
import { resolveRestOptions, type RestServerOptions } from './options.js';
import { registerControllerRoutes } from './routes-controller.js';
import { registerOpsRoutes } from './routes-ops.js';
import { registerSchedulerRoutes } from './routes-scheduler.js';

/** A listening REST server. */
export interface RestServer {
  /** The base URL actually listened on, e.g. `http://127.0.0.1:9999` (the real port when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections; harmless when called twice. */
  close(): Promise<void>;
}

/** Starts the HTTP server of SPEC C20 on `host:port` (default 127.0.0.1:9999). */
export async function startRestServer(options?: RestServerOptions): Promise<RestServer> {
  const o = resolveRestOptions(options);
  const health = options?.health ?? new HealthRegistry();
  const app = fastify({
    logger: false,
    bodyLimit: o.bodyLimit,
    // Fastify's default (0) would let a client that sends its headers, then stalls, hold a connection
    // for ever. Node only tracks it when given at creation (fastify sets it after), and looks for
    // timed-out requests every 30 s by default: a short timeout needs a closer look.
    requestTimeout: o.requestTimeout,
    http: { requestTimeout: o.requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(1000, Math.ceil(o.requestTimeout / 2))) },
    forceCloseConnections: true,
    return503OnClosing: true,
    // Errors fastify meets before routing (a URL it cannot decode) get our error body too.
    frameworkErrors: (err, _request, reply) => void sendError(reply as FastifyReply, 400, 'ERR_REST_BAD_REQUEST', err.message),
    clientErrorHandler: answerClientError,
  });

  // Every body is JSON: fastify's built-in text/plain parser would accept a string body (415 instead).
  app.removeContentTypeParser('text/plain');

  if (o.token !== null) {
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    const expected = digest(o.token);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.url === '/health') return;
      const header = request.headers.authorization;
      // The scheme is case-insensitive (RFC 7235): "bearer" and "BEARER" are the same one.
      const given = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7) : null;
      if (given === null || !timingSafeEqual(digest(given), expected)) throw new UnauthorizedError();
    });
  }

  app.setNotFoundHandler((request, reply) => {
    sendError(reply, 404, 'ERR_REST_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  app.setErrorHandler((err: FastifyError | RestError | Error, request, reply) => {
    if (err instanceof RestError) {
      if (err.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
      return sendError(reply, err.statusCode, err.code, err.message);
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code = status === 413 ? 'ERR_REST_BODY_TOO_LARGE' : status === 415 ? 'ERR_REST_UNSUPPORTED_MEDIA_TYPE' : 'ERR_REST_BAD_REQUEST';
      return sendError(reply, status, code, err.message);
    }
    o.logger.error({ err, method: request.method, url: request.url }, 'REST handler failed');
    return sendError(reply, 500, 'ERR_REST_INTERNAL', `${err.name}: ${err.message}`);
  });

  registerControllerRoutes(app, options?.controller, options?.resync);
  registerSchedulerRoutes(app, options?.scheduler);
  registerOpsRoutes(app, options?.metrics, health);

  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  o.logger.info({ url }, 'REST server listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port: address.port,
    close: () => (closing ??= app.close()),
  };
}

/**
 * Requests Node's HTTP parser rejects (a malformed request line, headers over the size limit, a
 * request that timed out) never reach fastify: answered here with the same error body, then closed.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'ERR_REST_HEADERS_TOO_LARGE', 'request headers exceed the maximum size']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'ERR_REST_TIMEOUT', 'the request was not received in time']
        : [400, 'ERR_REST_BAD_REQUEST', `malformed HTTP request (${err.code ?? err.message})`];
  const body = toJson({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
