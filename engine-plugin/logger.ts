// The engine's logger token; the logger itself is shared/logger.ts (JSON lines), with an
// optional file instead of stderr.
import * as winston from 'winston';
import { createLogger as createSharedLogger, Logger as SharedLogger } from '../shared/logger';

export type Logger = SharedLogger;
export const Logger = Symbol('Logger');

export function createLogger(level: string, file: string): Logger {
  const log = createSharedLogger({ level, service: 'engine' });
  if (file) {
    log.clear();
    log.add(new winston.transports.File({ filename: file }));
  }
  return log;
}
