// `vm start | shutdown | stop`: the power actions of the API (POST /vms/{id}/start,
// /shutdown, /stop). libvirt boots, shuts down (ACPI, with a wait) and destroys the
// domain; the embedded inventory marks the VM up or down; oVirt refuses (NOT_SUPPORTED).
// A shutdown the guest did not complete in time exits 1 with a hint: `vm stop` forces it.
import { Command, InvalidArgumentError } from 'commander';
import { EXIT } from '../exitCodes';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;

function secondsArg(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 600) throw new InvalidArgumentError('--timeout must be a number of seconds from 0 to 600');
  return n;
}

interface VmAnswer { id: string; name: string; status: string }

export function powerCommands(ctx: CommandContext, vm: Command): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';
  const report = (v: VmAnswer) => {
    if (data()) ctx.printData(v);
    else io.out(`VM ${v.name} is ${v.status}\n`);
  };

  vm.command('shutdown <vm>')
    .description('ask the guest to power off (libvirt: ACPI) and wait for it; exit 1 if it is still up after --timeout')
    .option('--timeout <seconds>', 'longest wait for the guest to power off (0 to 600)', secondsArg, 60)
    .addHelpText('after', ctx.examples('ovirt-sysprep vm shutdown web-2', 'ovirt-sysprep vm shutdown web-2 --timeout 120 || ovirt-sysprep vm stop web-2'))
    .action(ctx.action(async (c) => {
      const timeoutSec = c.opts<{ timeout: number }>().timeout;
      const v = await ctx.client(c).post<VmAnswer>(`/vms/${enc(c.args[0])}/shutdown`, { timeoutSec });
      report(v);
      if (v.status === 'down') return EXIT.ok;
      io.err(`ovirt-sysprep: VM ${v.name} did not power off within ${timeoutSec} s (is an OS with ACPI running?): "ovirt-sysprep vm stop ${v.name}" stops it at once\n`);
      return EXIT.failed;
    }));

  const immediate: Record<'start' | 'stop', string> = {
    start: 'start a VM (libvirt: virsh start; embedded inventory: mark it up); refused while a job holds it',
    stop: 'stop a VM at once (libvirt: virsh destroy, as pulling the plug; embedded inventory: mark it down)',
  };
  for (const [action, description] of Object.entries(immediate)) {
    vm.command(`${action} <vm>`)
      .description(description)
      .addHelpText('after', ctx.examples(`ovirt-sysprep vm ${action} web-2`))
      .action(ctx.action(async (c) => {
        report(await ctx.client(c).post<VmAnswer>(`/vms/${enc(c.args[0])}/${action}`));
        return EXIT.ok;
      }));
  }
}
