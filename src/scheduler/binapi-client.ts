import type { Reply } from '../connector/connector.js';

/** A binary-API reply (the connector's): its fields, including `retval`. */
export type { Reply };

/** One binary-API request: message name and fields. */
export interface BinapiRequest {
  readonly name: string;
  readonly fields?: Record<string, unknown>;
}

/** The dataplane client the scheduler programs against (`VppConnector` implements it). */
export interface BinapiClient {
  request(name: string, fields?: Record<string, unknown>): Promise<Reply>;
  /** One promise per batch; a failed item is an `Error` in its slot. */
  requestBatch(msgs: ReadonlyArray<{ name: string; fields?: Record<string, unknown> }>): Promise<Array<Reply | Error>>;
  /** The details messages answering a dump. */
  dump(name: string, fields?: Record<string, unknown>): Promise<Reply[]>;
  onRestart(listener: (epoch: number) => void): () => void;
}
