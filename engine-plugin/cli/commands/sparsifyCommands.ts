// `sparsify <vm>` (or `sparsify --template <template>`): POST /vms/{id}/sparsify or
// /templates/{id}/sparsify, then the job followed like a sysprep; at the end the bytes
// it freed (the job's result.sparsify) are printed.
import { Command } from 'commander';
import { EXIT } from '../exitCodes';
import type { JobLike } from '../JobProgress';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;

type SparsifiedJob = JobLike & { result?: { sparsify?: { allocatedBefore: number; allocatedAfter: number; bytesSaved: number } } };

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function sparsifyCommands(ctx: CommandContext): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';
  ctx.program
    .command('sparsify <name>')
    .description("free a VM's (or a template's) unused disk space in place with virt-sparsify (down, idle, qcow2 or raw disks); prints the bytes saved")
    .option('--template', 'NAME is a template (refused while clones use it)')
    .option('--dry-run', 'measure only: nothing is written')
    .option('--no-wait', 'return once the job is accepted (print its id, or the job with --json)')
    .addHelpText('after', ctx.examples('ovirt-sysprep sparsify web-2', 'ovirt-sysprep sparsify --template golden --json'))
    .action(ctx.action(async (c: Command) => {
      const o = c.opts<{ template?: boolean; dryRun?: boolean; wait: boolean }>();
      const api = ctx.client(c);
      const { job } = await api.post<{ job: SparsifiedJob }>(`/${o.template ? 'templates' : 'vms'}/${enc(c.args[0])}/sparsify`, o.dryRun ? { dryRun: true } : {});
      if (!o.wait) {
        if (data()) ctx.printData(job);
        else io.out(`${job.id}\n`);
        return EXIT.ok;
      }
      const { job: ended, code } = await ctx.follow(api, job.id, data());
      const done = ended ? await api.get<SparsifiedJob>(`/jobs/${enc(ended.id)}`) : undefined;
      if (data()) {
        if (done) ctx.printData(done);
      } else if (done?.result?.sparsify) {
        const s = done.result.sparsify;
        io.out(`saved ${mib(s.bytesSaved)} (${s.bytesSaved} bytes): allocated ${mib(s.allocatedBefore)} -> ${mib(s.allocatedAfter)}\n`);
      }
      return code;
    }));
}
