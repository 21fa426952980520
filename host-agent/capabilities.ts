// What this agent can do: tool versions, hypervisor mode, storage roots and their free
// space. Versions and the operation list are read once at start from the installed tools.
import { statfs } from 'node:fs/promises';
import { OperationInfo } from '../shared/catalog/operations';
import type { Capabilities } from '../shared/wireTypes';
import { HypervisorMode } from './hypervisor';
import { VERSION } from '../shared/version';

export const AGENT_VERSION = VERSION;

export interface ToolFacts {
  virtSysprepVersion: string;
  qemuImgVersion: string;
  operations: OperationInfo[];
}

export async function describeCapabilities(
  facts: ToolFacts,
  opts: { hostId: string; roots: readonly string[]; maxJobs: number; runningJobs: number; allowBlockDevices: boolean; hypervisor: HypervisorMode | 'probing'; minFreeBytesForPackages: number; maxBatchSize: number },
): Promise<Capabilities> {
  const storageRoots = await Promise.all(
    opts.roots.map(async (root) => {
      const s = await statfs(root);
      return { path: root, freeBytes: String(s.bavail * s.bsize), totalBytes: String(s.blocks * s.bsize) };
    }),
  );
  return {
    hostId: opts.hostId,
    agentVersion: AGENT_VERSION,
    virtSysprepVersion: facts.virtSysprepVersion,
    qemuImgVersion: facts.qemuImgVersion,
    hypervisor: opts.hypervisor,
    storageRoots,
    maxConcurrentJobs: opts.maxJobs,
    runningJobs: opts.runningJobs,
    maxBatchSize: opts.maxBatchSize,
    blockDevicesAllowed: opts.allowBlockDevices,
    minFreeBytesForPackages: String(opts.minFreeBytesForPackages),
  };
}
