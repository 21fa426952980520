// The embedded inventory from the CLI (issue 11): template register / delete, vm clone /
// import / delete, pool create / delete. Each is one API call (docs/api.md); a clone or
// an import starts the VM's automatic reset, which the command follows like a sysprep
// unless --no-wait. With inventory = ovirt the engine refuses them (NOT_SUPPORTED).
import { Command, InvalidArgumentError, Option } from 'commander';
import { DISK_FORMATS } from '../../../shared/diskFormats';
import { EXIT } from '../exitCodes';
import { describeError } from '../format';
import type { JobLike } from '../JobProgress';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;
const collect = (value: string, prev?: string[]) => [...(prev ?? []), value];

interface ResetAnswer { job?: JobLike; resetError?: { code: string; message: string } }

function sizeArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--size must be a positive integer');
  return n;
}

/** `--disk PATH` (repeatable) and `--format`: the API's disks. */
const disksOption = (cmd: Command) =>
  cmd
    .requiredOption('--disk <path>', 'disk image path as the host agent sees it (repeat for several disks, in order)', collect)
    .addOption(new Option('--format <format>', 'format of the disks (default: probed by the agent)').choices(DISK_FORMATS));
const disksOf = (o: { disk: string[]; format?: string }) => o.disk.map((path) => (o.format ? { path, format: o.format } : { path }));

export function inventoryCommands(ctx: CommandContext, groups: { vm: Command; pool: Command; template: Command }): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';

  /** A new VM's answer: say what was made, then follow its reset unless --no-wait. */
  const afterVmAdded = async (c: Command, answer: { vm: { id: string; name: string } } & ResetAnswer): Promise<number> => {
    const wait = c.opts<{ wait: boolean }>().wait;
    if (answer.resetError) io.err(`ovirt-sysprep: the automatic reset of VM ${answer.vm.name} could not start: ${describeError(answer.resetError as JobLike['error'])}\n`);
    if (!answer.job || !wait) {
      if (data()) ctx.printData(answer);
      else io.out(`VM ${answer.vm.name} created (${answer.vm.id})${answer.job ? `; automatic reset job ${answer.job.id} (ovirt-sysprep job watch ${answer.job.id})` : ''}\n`);
      return answer.resetError ? EXIT.failed : EXIT.ok;
    }
    if (!data()) io.out(`VM ${answer.vm.name} created (${answer.vm.id}); automatic reset job ${answer.job.id}\n`);
    return ctx.watchAndReport(ctx.client(c), answer.job.id, data());
  };

  const deleteCommand = (group: Command, what: string, path: string, description: string) =>
    group
      .command(`delete <${what}>`)
      .description(description)
      .addHelpText('after', ctx.examples(`ovirt-sysprep ${group.name()} delete NAME`))
      .action(ctx.action(async (c) => {
        await ctx.client(c).delete(`${path}/${enc(c.args[0])}`);
        if (data()) ctx.printData({ deleted: c.args[0] });
        else io.out(`${what} ${c.args[0]} deleted\n`);
        return EXIT.ok;
      }));

  // ---- template ----
  disksOption(groups.template.command('register <name>'))
    .description('embedded inventory: register disk images (under an agent\'s storage root) as a template')
    .addHelpText('after', ctx.examples('ovirt-sysprep template register golden --disk /var/lib/libvirt/images/golden.qcow2'))
    .action(ctx.action(async (c) => {
      const t = await ctx.client(c).post<{ id: string; name: string }>('/templates', { name: c.args[0], disks: disksOf(c.opts()) });
      if (data()) ctx.printData(t);
      else io.out(`template ${t.name} registered (${t.id})\n`);
      return EXIT.ok;
    }));
  deleteCommand(groups.template, 'template', '/templates', 'forget a template (refused while clones, a pool or a job use it); its disk files stay (libvirt: undefines the template domain)');

  // ---- vm ----
  groups.vm
    .command('clone <name>')
    .description('embedded inventory: a new VM whose disks are copy-on-write overlays on a template; then its automatic reset')
    .requiredOption('--template <template>', 'template name or id')
    .option('--no-wait', 'do not follow the automatic reset')
    .addHelpText('after', ctx.examples('ovirt-sysprep vm clone web-2 --template golden', 'ovirt-sysprep vm clone web-3 --template golden --no-wait -o json'))
    .action(ctx.action(async (c) => afterVmAdded(c, await ctx.client(c).post('/vms', { name: c.args[0], template: c.opts<{ template: string }>().template }))));
  disksOption(groups.vm.command('import <name>'))
    .description('embedded inventory: record existing disk images as a VM; then its automatic reset')
    .option('--host <host>', 'the host whose agent sees the disks (default: any that serves their storage root)')
    .addOption(new Option('--os <os>', 'the guest OS, for the OS guard and the automatic reset (windows: windows-reset)').choices(['linux', 'windows']))
    .option('--no-wait', 'do not follow the automatic reset')
    .addHelpText('after', ctx.examples('ovirt-sysprep vm import legacy-1 --disk /var/lib/libvirt/images/legacy-1.qcow2', 'ovirt-sysprep vm import win-1 --disk /srv/images/win-1.qcow2 --os windows'))
    .action(ctx.action(async (c) => {
      const o = c.opts<{ disk: string[]; format?: string; host?: string; os?: string }>();
      return afterVmAdded(c, await ctx.client(c).post('/vms', { name: c.args[0], disks: disksOf(o), ...(o.host ? { host: o.host } : {}), ...(o.os ? { os: o.os } : {}) }));
    }));
  deleteCommand(groups.vm, 'vm', '/vms', "delete a VM (refused while a job works on it or it is up); a clone's overlays are removed, other disks stay (libvirt: undefines the domain)");

  // ---- pool ----
  groups.pool
    .command('create <name>')
    .description('embedded inventory: a pool of SIZE copy-on-write clones of a template, named by --vm-name-pattern')
    .requiredOption('--template <template>', 'template name or id')
    .requiredOption('--size <n>', 'number of VMs', sizeArg)
    .option('--vm-name-pattern <pattern>', 'VM names, with ${pool} and ${index} (default ${pool}-${index})')
    .addHelpText('after', ctx.examples("ovirt-sysprep pool create lab --template golden --size 3 --vm-name-pattern 'lab-${index}'"))
    .action(ctx.action(async (c) => {
      const o = c.opts<{ template: string; size: number; vmNamePattern?: string }>();
      const r = await ctx.client(c).post<{ pool: { id: string; name: string; vmIds: string[] }; jobs: string[]; resetErrors?: Record<string, { code: string; message: string }> }>('/pools', {
        name: c.args[0], template: o.template, size: o.size, ...(o.vmNamePattern ? { vmNamePattern: o.vmNamePattern } : {}),
      });
      for (const [vm, e] of Object.entries(r.resetErrors ?? {})) io.err(`ovirt-sysprep: the automatic reset of VM ${vm} could not start: ${describeError(e as JobLike['error'])}\n`);
      if (data()) ctx.printData(r);
      else {
        io.out(`pool ${r.pool.name} created (${r.pool.id}) with ${r.pool.vmIds.length} VMs\n`);
        for (const id of r.jobs) io.out(`automatic reset job ${id} (ovirt-sysprep job watch ${id})\n`);
      }
      return r.resetErrors ? EXIT.failed : EXIT.ok;
    }));
  deleteCommand(groups.pool, 'pool', '/pools', 'embedded inventory: delete a pool and its VMs with their overlays (refused while one of them is busy)');
}
