export { VppConnector } from './connector.js';
export type { BatchItem, ConnectorState, ConnectorStats, ProducerRing, Reply } from './connector.js';
export type { ConnectorLogger, ConnectorOptions } from './options.js';
export {
  ConnectorClosedError,
  FrameTooLargeError,
  InvalidMessageError,
  ProtocolError,
  ReplyTimeoutError,
  UnknownMessageError,
  UnsupportedTransportError,
  VppApiError,
} from './errors.js';
// Ring and frame API, importable from worker threads.
export { RingReader, RingWriter, createDoorbell, createRing, ringCapacity, ringUsedBytes, writeRawFrame } from './ring.js';
export type { RingCorruption } from './ring.js';
export { FrameCodec } from './frame-codec.js';
export { requestMessage } from './request-message.js';
export { RequestRingProducer } from './request-ring-producer.js';
export { REQUEST_FIELDS, catalogStructures } from './catalog-structures.js';
export { channelOf, makeContext, sequenceBefore, sequenceOf } from './context.js';
export * as RingLayout from './ring-layout.js';
