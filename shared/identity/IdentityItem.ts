// The shape of one identity item: a file (or a part of one) that a clone carries from its
// golden image and that must differ between VMs. Declarative like the customisation
// catalog (shared/catalog/Customization.ts): the guest script (identityScript.ts), the
// REST listing (GET /identity-items), the generated docs (docs/identity.md) and the
// fixtures that plant every item all follow from IDENTITY_ITEMS (items.ts).
import type { LinuxFamily } from '../guestOs';

/**
 * What is done to the item's paths:
 *  * `remove`: deleted; nothing recreates it (or something recreates it on demand);
 *  * `empty`: truncated to 0 bytes, kept with its owner and mode;
 *  * `edit`: only the lines given by `edit` change, the rest of the file is kept;
 *  * `regenerate`: deleted now, recreated at first boot by the guest's own service (`firstBoot`).
 */
export type IdentityAction = 'remove' | 'empty' | 'edit' | 'regenerate';

/**
 * A change inside a file, as data (the script turns it into shell):
 *  * `dropKeys`: lines `KEY=...` (leading blanks allowed, `KEY` one of these) are removed;
 *  * `replaceWith`: the whole content becomes this text, owner and mode kept.
 * Files that do not exist are left alone: an edit never creates a file.
 */
export type IdentityEdit = { dropKeys: readonly string[] } | { replaceWith: string };

/** What virt-sysprep itself does about an item. */
export interface ToolCoverage {
  /** The virt-sysprep operation (`--list-operations`), or `customize` for its built-in steps. */
  operation: string;
  /** The families it acts on (its source matches on libguestfs's distro names). */
  families: readonly LinuxFamily[];
  /** The first stable libguestfs (guestfs-tools) version with it: "1.48" = in every version we support. */
  since: string;
  /** What it leaves or does differently, when it does not do all of the item. */
  partial?: string;
}

/**
 * Who does the item in ovirt-sysprep's profiles:
 *  * `script`: the `identity` customisation's guest script, on every tool version;
 *  * `tool`: the virt-sysprep operation in `coveredBy`, present in every supported version
 *    for every family of the item (the script leaves it alone: several of them are rewritten
 *    by virt-customize in the same pass, machine-id, hostname, random seed, and the script
 *    would undo that).
 */
export type IdentityDoer = 'script' | 'tool';

export interface IdentityItem {
  /** Kebab-case, unique: the value in `params.identity` and the row of the docs. */
  name: string;
  /** Short title (no final period). */
  title: string;
  /** The Linux families that carry it (shared/guestOs.ts). */
  families: readonly LinuxFamily[];
  /** Absolute paths in the guest; `*` globs allowed (no other pattern characters, no blanks). */
  paths: readonly string[];
  action: IdentityAction;
  /** For `edit` only: the change. */
  edit?: IdentityEdit;
  /** For `regenerate` only: which guest service recreates it, and when. */
  firstBoot?: string;
  /** One line: why two VMs must not share it (no final period). */
  reason: string;
  /** Where that comes from: a URL or a man page. */
  source: string;
  /** What virt-sysprep does about it, or null when no operation handles it. */
  coveredBy: ToolCoverage | null;
  by: IdentityDoer;
}
