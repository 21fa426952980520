// `cmd --help | head -1`: the reader closes the pipe early, the next write fails with
// EPIPE, and Node, which ignores SIGPIPE, throws it as an unhandled 'error' event (a
// stack trace, exit 1, and only when the write came after the close: "2 of 6 runs").
// A Unix tool would die quietly of SIGPIPE; we do what it does: exit at once, status
// 128 + SIGPIPE (13) = 141, as a shell reports it. Used by every executable's main.
import { constants } from 'node:os';

export const EXIT_BROKEN_PIPE = 128 + constants.signals.SIGPIPE;

/** Makes EPIPE on stdout or stderr end the process quietly; other stream errors still surface. */
export function exitQuietlyOnBrokenPipe(proc: NodeJS.Process = process): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      proc.exit(EXIT_BROKEN_PIPE);
    });
  }
}
