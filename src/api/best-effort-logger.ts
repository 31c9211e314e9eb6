type LogMethod = (obj: object, msg?: string) => void;

/**
 * Logging is best effort: a logger that throws (a closed sink) must never stop an event or a
 * resync halfway, nor crash the process from a timer. Wraps `levels` of `logger` so that a throw
 * is dropped; `isLevelEnabled`, when there, answers false instead of throwing.
 */
export function bestEffortLogger<L extends object>(logger: L, levels: ReadonlyArray<keyof L & string>): L {
  const out: Record<string, unknown> = {};
  for (const level of levels) {
    const method = logger[level] as unknown as LogMethod;
    out[level] = (obj: object, msg?: string): void => {
      try {
        method.call(logger, obj, msg);
      } catch {
        // Nothing to report it to.
      }
    };
  }
  const isLevelEnabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  if (isLevelEnabled !== undefined) {
    out['isLevelEnabled'] = (level: string): boolean => {
      try {
        return isLevelEnabled.call(logger, level);
      } catch {
        return false;
      }
    };
  }
  return out as L;
}
