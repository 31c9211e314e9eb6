/**
 * Serializes engine values for HTTP: errors as `{ name, code, message }`, Maps as objects, Sets as
 * arrays, bigints as strings.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer) ?? 'null';
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, ...(typeof code === 'string' ? { code } : {}), message: value.message };
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = v;
    return out;
  }
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** The reply side of a fastify handler, reduced to what `sendJson` needs. */
interface JsonReply {
  code(statusCode: number): JsonReply;
  type(contentType: string): JsonReply;
  send(payload: string): unknown;
}

/** Sends `value` serialized by `toJson` with the given status. */
export function sendJson(reply: JsonReply, statusCode: number, value: unknown): unknown {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(toJson(value));
}

/** Sends the error body every failing endpoint uses: `{ error: { code, message } }`. */
export function sendError(reply: JsonReply, statusCode: number, code: string, message: string): unknown {
  return sendJson(reply, statusCode, { error: { code, message } });
}
