// What the embedded inventory asks of the host agents before a disk enters it (register a
// template, import a VM) and before it builds on a recorded one (clone, pool): the agent
// that owns the disk's storage root resolves the path, confines it to its roots and
// probes the image (CheckDisks in proto/agent.proto). The engine itself never opens a
// caller's path: the agents are the ones that confine paths on the hosts that hold them.
// A port (interface + token), so the inventory does not depend on the dispatcher;
// dispatch/AgentDiskChecker.ts implements it.
import type { DiskInput } from './InventoryActions';

/** A disk as the agent found it. */
export interface CheckedDisk {
  /** As asked. */
  path: string;
  /** After realpath, inside `storageRoot`: the path the inventory records and owns. */
  realPath: string;
  /** The agent's storage root that holds realPath. */
  storageRoot: string;
  /** Probed by the agent (equal to the declared format, if any). */
  format: 'qcow2' | 'raw';
  /** Host whose agent checked it. */
  hostId: string;
  /** A running QEMU (or another tool) holds the image's write lock. */
  inUse: boolean;
  /** The image's backing file (real path, confined like the image), '' or absent for none. */
  backingFile?: string;
}

export interface DiskChecker {
  /**
   * Checks `disks` (already through validateDiskInputs) on one reachable agent whose
   * configured storage roots hold all of them (only `hostId`'s, when given). Refusals
   * are typed errors naming `disks[i].path` (a bad path is bad input: 400, or 404 for a
   * missing disk); 503 when no agent that sees them answers.
   */
  check(disks: DiskInput[], opts?: { hostId?: string }): Promise<CheckedDisk[]>;
}

export const DiskChecker = Symbol('DiskChecker');
