// ovirt-sysprep: the command-line client of the engine's REST API (docs/cli.md).
// run() parses argv, runs one command and returns its exit code (exitCodes.ts); it
// never calls process.exit, so tests drive it with their own io and fetch.
import { readFileSync, statSync } from 'node:fs';
import { CommanderError } from 'commander';
import { exitQuietlyOnBrokenPipe } from '../../shared/brokenPipe';
import { ApiError, ConnectionError, EXIT, UsageError } from './exitCodes';
import { buildProgram, CliIo } from './program';
import { flagForField } from './sysprepRequest';

export function processIo(): CliIo {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    env: process.env,
    stdout: process.stdout,
    files: { read: (f) => readFileSync(f, 'utf8'), mode: (f) => statSync(f).mode },
    // Only a watch catches Ctrl-C (to restore the terminal and say the job goes on);
    // a second Ctrl-C, or one during any other command, ends the process as usual.
    onInterrupt(handler) {
      const onSigint = () => {
        process.off('SIGINT', onSigint);
        process.once('SIGINT', () => process.exit(EXIT.interrupted));
        handler();
      };
      process.on('SIGINT', onSigint);
      return () => process.off('SIGINT', onSigint);
    },
  };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    return reportError(err, io);
  }
}

/** Prints an error the way an administrator can act on it and returns the exit code. */
export function reportError(err: unknown, io: Pick<CliIo, 'err'>): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help).
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof ApiError) {
    const flag = flagForField(err.field);
    io.err(`ovirt-sysprep: ${err.message} [${err.code}]${flag ? ` (option ${flag})` : ''}\n`);
    const jobId = err.details.jobId;
    if (typeof jobId === 'string') io.err(`ovirt-sysprep: see: ovirt-sysprep job show ${jobId}\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError || err instanceof ConnectionError) {
    io.err(`ovirt-sysprep: ${err.message}\n`);
    return err.exitCode;
  }
  io.err(`ovirt-sysprep: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.failed;
}

export function main(argv: string[] = process.argv): Promise<number> {
  exitQuietlyOnBrokenPipe();
  return run(argv, processIo());
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
