// The identity catalogue as the REST listing (GET /identity-items) and the generated docs
// show it: each item with what virt-sysprep does about it per tool version, and whether
// the operation that covers it exists in the agents' installed tool.
import type { LinuxFamily } from '../guestOs';
import type { IdentityItem } from './IdentityItem';
import { IDENTITY_ITEMS } from './items';

/** The tool versions the docs and the listing compare (Debian 12's, LVM devices file, zsh history). */
export const COMPARED_TOOL_VERSIONS = ['1.48', '1.50', '1.56'] as const;

const versionNumber = (v: string): number => {
  const [major, minor] = v.split('.').map(Number);
  return major * 1000 + minor;
};

/** The families on which virt-sysprep VERSION handles ITEM (empty: it does not). */
export function toolFamiliesAt(item: IdentityItem, version: string): LinuxFamily[] {
  const c = item.coveredBy;
  if (!c || versionNumber(version) < versionNumber(c.since)) return [];
  return item.families.filter((f) => c.families.includes(f));
}

/** Whether the covering operation is in the installed tool: null when no agent told us its operations. */
export function installedToolCovers(item: IdentityItem, installedOperations: readonly string[] | undefined): boolean | null {
  if (!installedOperations) return null;
  return !!item.coveredBy && installedOperations.includes(item.coveredBy.operation);
}

export function describeIdentityItems(installedOperations: readonly string[] | undefined) {
  return IDENTITY_ITEMS.map((i) => ({
    name: i.name,
    title: i.title,
    families: [...i.families],
    action: i.action,
    ...(i.edit ? { edit: i.edit } : {}),
    ...(i.firstBoot ? { firstBoot: i.firstBoot } : {}),
    paths: [...i.paths],
    reason: i.reason,
    source: i.source,
    coveredBy: i.coveredBy,
    /** Families virt-sysprep handles it on, per compared version. */
    toolVersions: Object.fromEntries(COMPARED_TOOL_VERSIONS.map((v) => [v, toolFamiliesAt(i, v)])),
    installedToolCovers: installedToolCovers(i, installedOperations),
    /** Who does it in the built-in profiles: the identity script, or the tool's operation. */
    doneBy: i.by,
  }));
}
