// What the libvirt e2e files share: virsh on the tests' daemon, a stack QEMU can reach, an
// engine with inventory = libvirt on its agent, the real CLI against it, and the removal
// of every domain a file made.
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { run } from '../../../engine-plugin/cli/main';
import { startEngine } from '../../../engine-plugin/engine';
import { libvirtWithDefaults } from '../../../engine-plugin/libvirt/LibvirtConfig';
import { ensureLibvirtd, LIBVIRT_URI } from '../../helpers/libvirtd';
import { OPERATOR, Stack, startStack } from '../engine/stack';

const execFileAsync = promisify(execFile);

/** virsh on the tests' daemon (read-write), its stdout. */
export const virsh = (...args: string[]): Promise<string> =>
  execFileAsync('virsh', ['-q', '-c', LIBVIRT_URI, ...args], { timeout: 60_000 }).then((r) => r.stdout);

/** libvirtd up, then a stack (agent, storage root; no engine yet) whose files QEMU can reach. */
export async function startLibvirtStack(opts: { autoResetClone?: boolean; maxJobs?: number } = {}): Promise<Stack> {
  await ensureLibvirtd();
  const s = await startStack({ engine: false, maxJobs: 1, ...opts });
  // QEMU runs as libvirt-qemu: it must reach a started domain's disk in the storage root.
  chmodSync(s.dir, 0o755);
  chmodSync(s.storage, 0o755);
  return s;
}

/** Starts the stack's engine with inventory = libvirt, its one host being the stack's agent. */
export async function startLibvirtEngine(s: Stack): Promise<void> {
  s.engine = await startEngine({
    ...s.engineConfig,
    inventory: 'libvirt',
    libvirt: libvirtWithDefaults({ uri: LIBVIRT_URI }),
    hosts: [{ id: s.agent.hostId, address: s.agent.address, storageRoots: [s.storage] }],
  });
  s.url = s.engine.url;
}

/** Destroys and undefines every domain whose name starts with `prefix`, whatever happened before. */
export async function removeDomains(prefix: string): Promise<void> {
  const names = (await virsh('list', '--all', '--name').catch(() => '')).split('\n').map((n) => n.trim()).filter((n) => n.startsWith(prefix));
  for (const n of names) {
    await virsh('destroy', '--domain', n).catch(() => undefined);
    // A domain with snapshots (a room's rollout takes one) is undefined with their metadata.
    await virsh('undefine', '--snapshots-metadata', '--domain', n).catch(() => undefined);
  }
}

/** The real CLI against the stack's engine as an operator: its exit code, stdout and stderr; it reads no file unless given `files`. */
export async function cli(s: Stack, args: string[], files?: CliIo['files']): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { OVIRT_SYSPREP_URL: s.url, OVIRT_SYSPREP_TOKEN: OPERATOR, HOME: '/nonexistent' },
    stdout: new PassThrough() as unknown as CliIo['stdout'],
    files: files ?? { read: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); }, mode: () => 0o100600 },
  };
  const code = await run(['node', 'ovirt-sysprep', ...args], io);
  return { code, out, err };
}

/** A domain of type qemu (TCG, no OS), NO network interface, with these <disk> elements. */
export const domainXml = (name: string, disks: string): string => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>${disks}</devices>
</domain>`;

/** A qcow2 file disk. */
export const fileDisk = (file: string, dev = 'vda'): string =>
  `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='${dev}' bus='virtio'/></disk>`;
