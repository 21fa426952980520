// Structured JSON-lines logging (winston). Components take child loggers that carry
// their context ({ jobId, vmId, operation }) on every line.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(opts: { level?: string; service: string; silent?: boolean }): Logger {
  const logger = winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent,
    defaultMeta: { service: opts.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  return dropBelowLevel(logger);
}

/**
 * winston formats every line (timestamp, JSON) and streams it before its transports
 * drop what is below their level: tens of microseconds per debug or info line nobody
 * reads, on the dispatcher's hot path. Lines below the level end here instead (child
 * loggers inherit these methods; a later change of `level` is honoured).
 */
function dropBelowLevel(logger: Logger): Logger {
  for (const level of Object.keys(logger.levels)) {
    const write = (logger as unknown as Record<string, (...args: unknown[]) => Logger>)[level];
    Object.defineProperty(logger, level, {
      value(this: Logger, ...args: unknown[]) {
        return this.isLevelEnabled(level) ? write.apply(this, args) : this;
      },
    });
  }
  return logger;
}
