// Which VMs a template's disks back: a seal (POST /templates/{id}/sysprep) writes the
// template's disks, and a VM whose overlay has one of them as its backing file would be
// corrupted, so the job service refuses the seal while this answers any VM. The embedded
// inventory asks its rows, the libvirt one the clone metadata of every domain; oVirt
// registers none here (OvirtAuthorizer asks oVirt's search, under the caller's rights).
import type { Vm } from './Inventory';

export interface TemplateClones {
  /** VMs whose disks are backed by this template (a seal would corrupt them). */
  vmsOfTemplate(templateId: string): Promise<Vm[]>;
}

export const TemplateClones = Symbol('TemplateClones');
