// What a CLI run may touch of the outside world: output, environment, terminal, files,
// fetch, Ctrl-C. main.ts gives the process's; tests give their own.
import type { FileReader } from './sysprepRequest';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Where bars go when it is a terminal. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  files: FileReader;
  fetch?: typeof fetch;
  /** Subscribes to Ctrl-C while a watch runs (it stops watching; the job goes on); returns the unsubscribe. */
  onInterrupt?(handler: () => void): () => void;
}
