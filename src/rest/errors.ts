import { EngineError } from '../api/errors.js';

/** An error the REST server answers with its own HTTP status and `{ error: { code, message } }`. */
export class RestError extends EngineError {
  readonly statusCode: number;

  constructor(statusCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.statusCode = statusCode;
  }
}

/** A malformed, negative or unknown query parameter (400). */
export class BadQueryError extends RestError {
  constructor(message: string) {
    super(400, 'ERR_REST_BAD_QUERY', message);
  }
}

/** A missing or wrong bearer token (401). */
export class UnauthorizedError extends RestError {
  constructor() {
    super(401, 'ERR_REST_UNAUTHORIZED', 'missing or invalid bearer token');
  }
}

/** A route, a recorded transaction or a key that does not exist (404). */
export class NotFoundError extends RestError {
  constructor(message: string) {
    super(404, 'ERR_REST_NOT_FOUND', message);
  }
}

/** The server was started without the part that serves this endpoint (404). */
export class NotConfiguredError extends RestError {
  constructor(part: string, path: string) {
    super(404, 'ERR_REST_NOT_CONFIGURED', `${path} is not available: the server was started without a ${part}`);
  }
}

/** The engine could not take the request now (queue full, closing): 503, carrying the engine's code. */
export class UnavailableError extends RestError {
  constructor(cause: EngineError) {
    super(503, cause.code, cause.message, { cause });
  }
}
