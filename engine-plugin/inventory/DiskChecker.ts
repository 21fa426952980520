// What the embedded inventory asks of the host agents before a disk enters it (register a
// template, import a VM) and before it builds on a recorded one (clone, pool): the agent
// that owns the disk's storage root resolves the path, confines it to its roots and
// probes the image (CheckDisks in proto/agent.proto). The engine itself never opens a
// caller's path: the agents are the ones that confine paths on the hosts that hold them.
// A port (interface + token), so the inventory does not depend on the dispatcher;
// dispatch/AgentDiskChecker.ts implements it.
import type { DiskFormat } from '../../shared/diskFormats';
import { ConflictError, SysprepError } from '../../shared/errors';
import { DiskInUseError } from '../../shared/tools/qemuImg';
import { assertDistinctDisks } from './diskInputs';
import type { DiskRef } from './Inventory';
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
  format: DiskFormat;
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

/**
 * Disks as an agent found them (after validateDiskInputs): each real path once; `idle`:
 * none may be open read-write elsewhere (a template's disk backs clones). Shared by the
 * inventories that create domains or rows from disks (embedded, libvirt).
 */
export async function checkedDisks(checker: DiskChecker, disks: DiskInput[], opts: { hostId?: string; idle?: boolean } = {}): Promise<DiskRef[]> {
  return (await checkedDisksOn(checker, disks, opts)).disks;
}

/** checkedDisks, and the host whose agent checked them (its storage holds them all). */
export async function checkedDisksOn(checker: DiskChecker, disks: DiskInput[], opts: { hostId?: string; idle?: boolean } = {}): Promise<{ disks: DiskRef[]; hostId: string }> {
  const checked = await checker.check(disks, { hostId: opts.hostId });
  assertDistinctDisks(checked.map((c) => c.realPath));
  const busy = opts.idle ? checked.findIndex((c) => c.inUse) : -1;
  if (busy >= 0) throw new DiskInUseError(checked[busy].realPath, 'a running VM or tool holds its write lock', `disks[${busy}].path`);
  return { disks: checked.map((c) => ({ path: c.realPath, format: c.format, storageDomain: c.storageRoot })), hostId: checked[0].hostId };
}

/**
 * A refusal of a template's recorded disks before a clone builds on them is the
 * template's (409 naming `template`, with the agent's code), not the caller's input.
 */
export function asTemplateRefusal(err: unknown, templateName: string): unknown {
  if (!(err instanceof SysprepError) || !['invalid', 'not-found', 'denied', 'conflict'].includes(err.kind)) return err;
  return new ConflictError(err.code, `template "${templateName}" cannot be cloned: ${err.message}`, { ...err.details, field: 'template', templateDisk: err.details.field });
}
