// What the libvirt e2e files share: virsh on the tests' daemon, an engine with
// inventory = libvirt on a stack's agent, and the removal of every domain a file made.
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { promisify } from 'node:util';
import { startEngine } from '../../../engine-plugin/engine';
import { libvirtWithDefaults } from '../../../engine-plugin/libvirt/LibvirtConfig';
import { ensureLibvirtd, LIBVIRT_URI } from '../../helpers/libvirtd';
import { Stack, startStack } from '../engine/stack';

const execFileAsync = promisify(execFile);

/** virsh on the tests' daemon (read-write), its stdout. */
export const virsh = (...args: string[]): Promise<string> =>
  execFileAsync('virsh', ['-q', '-c', LIBVIRT_URI, ...args], { timeout: 60_000 }).then((r) => r.stdout);

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
    await virsh('undefine', '--domain', n).catch(() => undefined);
  }
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

/** A running libvirtd and a stack (no engine yet) whose dirs QEMU (user libvirt-qemu) can reach. */
export async function startLibvirtStack(): Promise<Stack> {
  await ensureLibvirtd();
  const s = await startStack({ engine: false, maxJobs: 1 });
  chmodSync(s.dir, 0o755);
  chmodSync(s.storage, 0o755);
  return s;
}
