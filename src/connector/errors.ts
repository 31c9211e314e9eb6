import { EngineError } from '../api/errors.js';
import { retvalName } from '../binapi/retval.js';

/** The connector was closed: in-flight and later operations fail with this. */
export class ConnectorClosedError extends EngineError {
  constructor(message = 'VPP connector is closed') {
    super('ERR_CONNECTOR_CLOSED', message);
  }
}

/** No reply within `replyTimeout` (V3); a late reply is discarded. */
export class ReplyTimeoutError extends EngineError {
  readonly messageName: string;
  readonly context: number;
  constructor(messageName: string, context: number, timeoutMs: number) {
    super('ERR_REPLY_TIMEOUT', `no reply to ${messageName} (context 0x${context.toString(16)}) within ${timeoutMs} ms`);
    this.messageName = messageName;
    this.context = context;
  }
}

/** The dataplane answered with a non-zero retval (V4). */
export class VppApiError extends EngineError {
  readonly retval: number;
  readonly retvalName: string;
  readonly messageName: string;
  constructor(messageName: string, retval: number) {
    const name = retvalName(retval);
    super('ERR_VPP_API', `${messageName} failed: retval ${retval} (${name})`);
    this.retval = retval;
    this.retvalName = name;
    this.messageName = messageName;
  }
}

/** A frame does not fit the ring at all (it is larger than half its capacity). */
export class FrameTooLargeError extends EngineError {
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(bytes: number, maxBytes: number) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${bytes} bytes exceeds the ring's limit of ${maxBytes} bytes`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** The message name is not in the binary-API catalog (src/binapi). */
export class UnknownMessageError extends EngineError {
  readonly messageName: string;
  constructor(messageName: string) {
    super('ERR_UNKNOWN_MESSAGE', `unknown binary-API message "${messageName}"`);
    this.messageName = messageName;
  }
}

/** A request that cannot be encoded (fields not a plain object, values msgpack cannot carry...). */
export class InvalidMessageError extends EngineError {
  constructor(message: string, cause?: unknown) {
    super('ERR_INVALID_MESSAGE', message, cause === undefined ? undefined : { cause });
  }
}

/** A malformed frame or message was received (V6). Counted; surfaced to test hooks and logs. */
export class ProtocolError extends EngineError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message);
  }
}

/** The operation needs the other transport (e.g. producer rings need transport 'ring'). */
export class UnsupportedTransportError extends EngineError {
  constructor(operation: string, transport: string) {
    super('ERR_UNSUPPORTED_TRANSPORT', `${operation} is not available with transport '${transport}'`);
  }
}
