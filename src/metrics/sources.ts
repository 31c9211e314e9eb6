/** What the controller tells listeners about each processed event. */
export interface ProcessedEventInfo {
  readonly seqNum: number;
  readonly name: string;
  readonly method: number;
  readonly isFollowUp: boolean;
  readonly result: 'ok' | 'error';
  readonly error: Error | null;
  readonly durationMs: number;
  readonly handlerMs: ReadonlyArray<{ readonly handler: string; readonly ms: number }>;
  /** Null when nothing was committed. */
  readonly commitMs: number | null;
  /** The event was a healing resync. */
  readonly healing: boolean;
}

/** The part of the Controller the metrics read (structural: any object with these members works). */
export interface MetricsControllerSource {
  onEvent(listener: (info: ProcessedEventInfo) => void): () => void;
  readonly queueDepth: number;
}

/** The connector's cumulative statistics. */
export interface ConnectorStats {
  readonly errorsByRetval: Readonly<Record<string, number>>;
  readonly requestRingUsedBytes: number;
  readonly requestRingBytes: number;
  readonly replyRingUsedBytes: number;
  readonly replyRingBytes: number;
  readonly timeouts: number;
  readonly protocolErrors: number;
  readonly inFlight: number;
}

/** The part of the VppConnector the metrics read on scrape. */
export interface MetricsConnectorSource {
  stats(): ConnectorStats;
  /** `'up'` when the dataplane answers its health pings (optional). */
  readonly state?: string;
}

/** The part of the ResyncOrchestrator the metrics count. */
export interface MetricsOrchestratorSource {
  onResync(listener: (info: { readonly completed: boolean }) => void): () => void;
}
