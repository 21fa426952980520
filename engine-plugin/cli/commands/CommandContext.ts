// What a command file (cli/commands/*.ts) gets from the program (program.ts builds it
// once): the API client of the invocation, the action wrapper that turns a return value
// into the exit code, the output format, and the job follower shared with sysprep.
import type { Command } from 'commander';
import type { ApiClient } from '../ApiClient';
import type { OutputFormat } from '../output';
import type { CliIo } from '../CliIo';
import type { JobLike } from '../JobProgress';

export interface CommandContext {
  io: CliIo;
  program: Command;
  client(cmd: Command): ApiClient;
  /** Wraps an action: its result is the exit code. */
  action(fn: (cmd: Command) => Promise<number>): (this: Command) => Promise<void>;
  /** "Examples:" help text. */
  examples(...lines: string[]): string;
  /** The format of -o / --json, known once the command runs. */
  format(): OutputFormat;
  /** Prints data as JSON or YAML (the format asked). */
  printData(value: unknown): void;
  /** Follows a job to its end with bars or lines (data: only the final job); the exit code of its state. */
  watchAndReport(api: ApiClient, id: string, data: boolean): Promise<number>;
  /** The same, printing nothing at the end: the final job (none when interrupted) and the exit code of its state. */
  follow(api: ApiClient, id: string, data: boolean): Promise<{ job?: JobLike; code: number }>;
}
