// `ovirt-sysprep job log ID`: a job's log on its host (GET /jobs/{id}/log: virt-sysprep's
// -v -x trace, secrets cut out by the agent before it was written), copied to stdout as it
// arrives, so a long trace starts at once and `| less` or `| grep` work on it.
import type { Command } from 'commander';
import type { ApiClient } from '../ApiClient';
import { EXIT } from '../exitCodes';

export interface JobLogDeps {
  client(cmd: Command): ApiClient;
  /** Wraps an action so that its return value becomes the exit code. */
  action(fn: (cmd: Command) => Promise<number>): (this: Command) => Promise<void>;
  out(text: string): void;
}

export function addJobLogCommand(job: Command, d: JobLogDeps): Command {
  return job
    .command('log <id>')
    .description("a VM or template job's log on its host (the virt-sysprep trace, secrets cut out); a pool's VMs each have their own: see job show")
    .addHelpText('after', `
A job that is still running shows its log so far. A pool or list of VMs has no log of its
own (exit 1, NO_LOG): give the job id of one of its VMs (ovirt-sysprep job show ID).

Examples:
  ovirt-sysprep job log 6f1c0e2a-...
  ovirt-sysprep job log 6f1c0e2a-... | grep -n 'virt-sysprep: error'
`)
    .action(d.action(async (c) => {
      const decoder = new TextDecoder();
      for await (const chunk of d.client(c).text(`/jobs/${encodeURIComponent(c.args[0])}/log`)) d.out(decoder.decode(chunk, { stream: true }));
      const rest = decoder.decode();
      if (rest) d.out(rest);
      return EXIT.ok;
    }));
}
