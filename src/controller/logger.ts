/** The part of a pino logger the controller uses; any pino logger (or child) fits. */
export interface ControllerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

function noop(): void {}

/** The default: logs nothing and says so, so that no log line is ever built. */
export const silentLogger: ControllerLogger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
});

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function levelEnabled(logger: ControllerLogger, level: LogLevel): boolean {
  return logger.isLevelEnabled === undefined ? true : logger.isLevelEnabled(level);
}

