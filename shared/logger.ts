// Structured JSON-lines logging (winston). Components take child loggers that carry
// their context ({ jobId, vmId, operation }) on every line.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(opts: { level?: string; service: string; silent?: boolean }): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent,
    defaultMeta: { service: opts.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
