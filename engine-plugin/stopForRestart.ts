// How the engine stops so that its service manager starts it again (exit 75, EX_TEMPFAIL;
// the unit says Restart=on-failure): a leader that lost its lock, an engine that lost its
// database connection (docs/postgresql.md). Used by the composition root (engine.ts).
//
// The line is logged; when the log goes to a file, whose writes land after process.exit
// has ended the process, it is also written to stderr at once (the journal under systemd).
import type { Logger } from './logger';

const EXIT_RESTART = 75;

export type StopForRestart = (message: string, meta: Record<string, unknown>) => never;

export function stopForRestart(log: Logger, logFile: string): StopForRestart {
  return (message, meta) => {
    log.error(message, meta);
    if (logFile) process.stderr.write(`ovirt-sysprep-engine: ${message} ${JSON.stringify(meta)}\n`);
    return process.exit(EXIT_RESTART);
  };
}
