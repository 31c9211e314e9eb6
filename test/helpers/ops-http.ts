// HTTP helpers for the REST tests: requests against a real server listening on loopback.
import type { RestServer } from '../../src/rest/index.js';

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: any;
}

export async function http(server: RestServer, path: string, init: RequestInit = {}): Promise<HttpResult> {
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

export function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}
