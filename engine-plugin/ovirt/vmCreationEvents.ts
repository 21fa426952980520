// Which oVirt audit-log codes mean "a VM came to exist with an existing guest inside",
// and why. Read from ovirt-engine 0111fc63036 (backend/manager/modules/...):
//  * AddVmCommand.getAuditLogTypeValue logs USER_ADD_VM (34) or USER_ADD_VM_STARTED (37)
//    when its execute ends and USER_ADD_VM_FINISHED_SUCCESS (53) only at END_SUCCESS, which
//    a command reaches only through vdsm tasks or a child-command callback, i.e. only when
//    it made the new VM's disks from an existing image: a thin snapshot over a template's
//    volumes (AddVm: from a template, and each VM of a pool through CommonVmPoolCommand),
//    a copy of a template's disks (AddVmFromTemplate: "clone"), of a VM's (CloneVm) or of a
//    snapshot's (AddVmFromSnapshot). A VM made from Blank (AddVmFromScratchCommand, whose
//    addVmImages is a no-op) logs 34 only, and the disks added to it later are new and empty:
//    34 and 37 are therefore NOT watched (37 is always followed by 53 on success).
//  * ImportVmCommandBase.getAuditLogTypeValue logs IMPORTEXPORT_STARTING_IMPORT_VM (1165)
//    at execute and IMPORTEXPORT_IMPORT_VM (1152) at END_SUCCESS: import from an export
//    domain (ImportVmCommand), from an OVA (ImportVmFromOvaCommand) or an external provider,
//    VMware / KVM / Xen through virt-v2v (ImportVmFromExternalProviderCommand).
//  * ImportVmFromConfigurationCommand.executeVmCommand (a VM registered from a data domain,
//    its disks already there) logs VM_IMPORT_FROM_CONFIGURATION_EXECUTED_SUCCESSFULLY (174)
//    beside 1165, never 1152 (no task, so no END_SUCCESS). 1165 alone is not watched: it
//    starts imports that end with 1152.
// The VM's `template` and `original_template` links are vm_static's vmt_guid and
// original_template_id (restapi VmMapper.map); each command above sets them as noted in
// docs/ovirt.md 5.2.
import type { Trigger } from '../config';
import { attachedDisks, BLANK_TEMPLATE_ID, OvVm } from './ovirtModel';

export interface CreationCode {
  code: number;
  /** The constant in ovirt-engine's AuditLogType.java. */
  name: string;
  /** import: the VM comes from elsewhere; made: made in this oVirt from a template or VM. */
  kind: 'import' | 'made';
}

export const CREATION_CODES: readonly CreationCode[] = [
  { code: 53, name: 'USER_ADD_VM_FINISHED_SUCCESS', kind: 'made' },
  { code: 1152, name: 'IMPORTEXPORT_IMPORT_VM', kind: 'import' },
  { code: 174, name: 'VM_IMPORT_FROM_CONFIGURATION_EXECUTED_SUCCESSFULLY', kind: 'import' },
];

const BY_CODE = new Map(CREATION_CODES.map((c) => [c.code, c]));

/** The pending trigger of a watched code ('clone' is refined to 'pool' from the VM), else undefined. */
export function creationTrigger(code: number): 'import' | 'clone' | undefined {
  const c = BY_CODE.get(code);
  return c ? (c.kind === 'import' ? 'import' : 'clone') : undefined;
}

/** Why a new VM holds an inherited guest (the facts oVirt gives), or why it holds none. */
export type Inheritance =
  /** Imported (1152 / 174): its disks came with it. */
  | 'imported'
  /** `template` is not Blank: thin disks on the template's volumes (from a template, pool VM, CloneVmNoCollapse). */
  | 'template'
  /** `template` Blank, `original_template` not: copied from a template, or cloned from a VM or snapshot made from one. */
  | 'original_template'
  /** Both Blank, code 53: its disks were copied from a VM or snapshot made from scratch (Clone VM sets Blank). */
  | 'copied_disks'
  /** No active disk: nothing to reset. */
  | 'no_disk';

const notBlank = (id: string | undefined): boolean => !!id && id !== BLANK_TEMPLATE_ID;

export function inheritance(vm: OvVm, trigger: 'import' | 'clone' | 'pool'): Inheritance {
  if (attachedDisks(vm).length === 0) return 'no_disk';
  if (trigger === 'import') return 'imported';
  if (notBlank(vm.template?.id)) return 'template';
  if (notBlank(vm.original_template?.id)) return 'original_template';
  return 'copied_disks';
}

/** The reset's trigger: import stays import; a VM made in oVirt is pool when it belongs to one. */
export function refineTrigger(vm: OvVm, trigger: 'import' | 'clone' | 'pool'): Trigger {
  return trigger === 'import' ? 'import' : vm.vm_pool?.id ? 'pool' : 'clone';
}
