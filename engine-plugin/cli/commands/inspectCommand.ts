// `ovirt-sysprep inspect VM` (and `--template T`): starts an inspection (a job, POST
// .../inspection), follows it like a sysprep, then prints the cached result (GET). With
// --cached no job is started: the cached inspection or the engine's 404 saying why.
import type { Command } from 'commander';
import { EXIT } from '../exitCodes';
import { describeError } from '../format';
import type { JobLike } from '../JobProgress';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;

/** The fields of GET .../inspection this command prints (engine-plugin/inspection/Inspection.ts). */
export interface InspectionView {
  target: { type: string; name: string };
  osType: string; distro: string; productName: string; productVariant: string; version: string; arch: string;
  hostname: string; osinfo: string; packageFormat: string; packageManagement: string;
  os: { family?: string };
  users: { name: string; uid: number; home: string; shell: string }[];
  mountpoints: { path: string; device: string }[];
  filesystems: { device: string; type: string; mountpoint: string; totalBytes: number; freeBytes: number }[];
  kernels: string[]; cloudInit: boolean; networkManager: boolean; lvm: boolean;
  inspectedAt: string; jobId: string; elapsedMs: number;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The metadata as virt-inspector-like lines, one fact per line. */
export function formatInspection(i: InspectionView): string {
  const rows: [string, string][] = [
    ['Type', i.osType || 'unknown'],
    ['Distro', i.distro + (i.os.family ? ` (family ${i.os.family})` : '')],
    ['Product', i.productName + (i.productVariant ? ` (${i.productVariant})` : '')],
    ['Version', i.version],
    ['Arch', i.arch],
    ['Hostname', i.hostname],
    ['osinfo', i.osinfo],
  ];
  if (i.osType !== 'windows') {
    rows.push(
      ['Packages', [i.packageFormat, i.packageManagement].filter(Boolean).join(' / ')],
      ['Kernels', i.kernels.join(', ') || 'none found'],
      ['cloud-init', yesNo(i.cloudInit)],
      ['NetworkManager', yesNo(i.networkManager)],
      ['LVM', yesNo(i.lvm)],
      ['Users', i.users.map((u) => `${u.name}(${u.uid})`).join(', ')],
    );
  }
  rows.push(['Mountpoints', i.mountpoints.map((m) => `${m.path} ${m.device}`).join(', ')]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const fs = i.filesystems.map((f) => `  ${f.device} ${f.type} ${f.mountpoint || '-'} ${f.mountpoint ? `${mib(f.freeBytes)} free of ${mib(f.totalBytes)}` : ''}`.trimEnd());
  return [
    `${i.target.type} ${i.target.name}: inspected ${i.inspectedAt} (job ${i.jobId}, ${(i.elapsedMs / 1000).toFixed(0)} s)`,
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v || '-'}`),
    'Filesystems:',
    ...fs,
    '',
  ].join('\n');
}

export function inspectCommand(ctx: CommandContext): void {
  const { io } = ctx;
  ctx.program
    .command('inspect <name>')
    .description("inspect a VM's (or with --template a template's) disks: OS, distro, version, arch, hostname, packages, users, filesystems and free space, kernels, cloud-init / NetworkManager / LVM; an inspection is a job, its result is cached while the disks are unchanged")
    .option('--template', 'NAME is a template')
    .option('--cached', 'start no job: print the cached inspection (fails when none is valid)')
    .addHelpText('after', ctx.examples('ovirt-sysprep inspect web1', 'ovirt-sysprep inspect golden --template --json', 'ovirt-sysprep inspect web1 --cached'))
    .action(ctx.action(async (c) => {
      const o = c.opts<{ template?: boolean; cached?: boolean }>();
      const data = ctx.format() === 'json' || ctx.format() === 'yaml';
      const path = `/${o.template ? 'templates' : 'vms'}/${enc(c.args[0])}/inspection`;
      const api = ctx.client(c);
      if (!o.cached) {
        const { job } = await api.post<{ job: JobLike }>(path, {});
        const { job: ended, code } = await ctx.follow(api, job.id, data);
        if (code !== EXIT.ok) {
          if (ended?.error) io.err(`ovirt-sysprep: inspection job ${job.id} ${ended.state}: ${describeError(ended.error)}\n`);
          return code;
        }
      }
      const inspection = await api.get<InspectionView>(path);
      if (data) ctx.printData(inspection);
      else io.out(formatInspection(inspection));
      return EXIT.ok;
    }));
}
