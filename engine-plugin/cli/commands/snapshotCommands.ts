// `vm snapshots VM` and `vm snapshot create | revert | delete`: a VM's snapshots through
// the API (GET/POST /vms/{id}/snapshots, POST .../{sid}/revert, DELETE .../{sid}).
// libvirt takes internal qcow2 snapshots of a shut-off domain; the other inventories
// refuse (NOT_SUPPORTED). A change is refused while the VM is up or a job holds it.
import type { Command } from 'commander';
import { EXIT } from '../exitCodes';
import { renderTable } from '../output';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;

interface SnapshotAnswer { id: string; name: string; description: string; date?: string; vmState?: string; parent?: string; current: boolean }

export function snapshotCommands(ctx: CommandContext, vm: Command): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';
  const path = (c: Command, ...rest: string[]) => [`/vms/${enc(c.args[0])}/snapshots`, ...rest.map(enc)].join('/');

  vm.command('snapshots <vm>')
    .description("a VM's snapshots, parents first (libvirt: internal qcow2 snapshots); * marks the current one")
    .addHelpText('after', ctx.examples('ovirt-sysprep vm snapshots web-2', "ovirt-sysprep vm snapshots web-2 -o json | jq -r '.[].name'"))
    .action(ctx.action(async (c) => {
      const { items } = await ctx.client(c).get<{ items: SnapshotAnswer[] }>(path(c));
      if (data()) ctx.printData(items);
      else io.out(items.length ? renderTable(ctx.format(), items, [
        { header: 'NAME', value: (s) => `${s.name}${s.current ? ' *' : ''}` },
        { header: 'DATE', value: (s) => s.date },
        { header: 'VM STATE', value: (s) => s.vmState, wide: true },
        { header: 'PARENT', value: (s) => s.parent, wide: true },
        { header: 'DESCRIPTION', value: (s) => s.description || undefined },
      ]) : `VM ${c.args[0]} has no snapshots\n`);
      return EXIT.ok;
    }));

  const snapshot = vm.command('snapshot').description("change a VM's snapshots: create, revert, delete (the VM must be down)");
  snapshot.command('create <vm> <name>')
    .description('snapshot the disks of a VM that is down')
    .option('--description <text>', 'what the snapshot keeps')
    .addHelpText('after', ctx.examples("ovirt-sysprep vm snapshot create web-2 before-lab --description 'clean install'"))
    .action(ctx.action(async (c) => {
      const description = c.opts<{ description?: string }>().description;
      const s = await ctx.client(c).post<SnapshotAnswer>(path(c), { name: c.args[1], ...(description !== undefined && { description }) });
      if (data()) ctx.printData(s);
      else io.out(`snapshot ${s.name} of VM ${c.args[0]} created\n`);
      return EXIT.ok;
    }));
  snapshot.command('revert <vm> <snapshot>')
    .description("put the VM's disks back as they were in the snapshot (what was written since is lost); the VM stays down")
    .addHelpText('after', ctx.examples('ovirt-sysprep vm snapshot revert web-2 before-lab'))
    .action(ctx.action(async (c) => {
      const s = await ctx.client(c).post<SnapshotAnswer>(path(c, c.args[1], 'revert'));
      if (data()) ctx.printData(s);
      else io.out(`VM ${c.args[0]} reverted to snapshot ${s.name}\n`);
      return EXIT.ok;
    }));
  snapshot.command('delete <vm> <snapshot>')
    .description('delete a snapshot; the disks keep their current content')
    .addHelpText('after', ctx.examples('ovirt-sysprep vm snapshot delete web-2 before-lab'))
    .action(ctx.action(async (c) => {
      await ctx.client(c).delete(path(c, c.args[1]));
      if (data()) ctx.printData({ deleted: c.args[1] });
      else io.out(`snapshot ${c.args[1]} of VM ${c.args[0]} deleted\n`);
      return EXIT.ok;
    }));
}
