// A VM whose disk another host holds leased (a second lease manager in this process, as
// another host's agent would): the agent accepts its job and fails it with LEASE_HELD
// before any virt-sysprep run, so a real failed job, with its log file, costs no
// appliance boot.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LeaseManager } from '../../../host-agent/storage/leases';
import { createLogger } from '../../../shared/logger';
import type { Stack } from '../engine/stack';

const run = promisify(execFile);

export interface HeldDiskVm {
  vm: { id: string; name: string; disks: { path: string }[] };
  /** Gives the lease back (afterAll). */
  release(): Promise<void>;
}

export async function importHeldDiskVm(s: Stack, name: string): Promise<HeldDiskVm> {
  const disk = path.join(s.storage, `${name}.qcow2`);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  const imported = await s.api('POST', '/vms', { name, disks: [{ path: disk, format: 'qcow2' }] });
  if (imported.status !== 201) throw new Error(`import of ${name}: ${imported.status} ${JSON.stringify(imported.body)}`);
  const otherHost = new LeaseManager('other-host', 20_000, createLogger({ level: 'error', service: 'other-host' }));
  const leases = await otherHost.acquireAll([{ real: await fs.realpath(disk), root: await fs.realpath(s.storage) }], `other-host-${name}`, () => undefined);
  return { vm: imported.body.vm, release: () => otherHost.releaseAll(leases) };
}
