// Cloning on oVirt (VmCloning): a new VM from a template through the REST API.
//
// Protocol (api-model services/VmsService.java Add; ovirt-engine AddVmCommand):
//  1. the template by id or name (versions share a name: the newest version); Blank
//     (no disks, nothing to reset) is refused, an unknown one is 404 on `template`;
//  2. the name must be free (409 NAME_IN_USE on `name`: asked first, so the answer names
//     the field; oVirt refuses a taken name too);
//  3. POST /vms?clone=false {name, template, cluster of the template, comment with our
//     marks}: a THIN VM, its disks copy-on-write layers over the template's volumes, as
//     the embedded and libvirt clones are overlays. The marks are in the same request, so
//     the event watcher, which sees the VM's creation events like any other, can tell it
//     is ours (OvirtEventWatcher skips it: whoever clones runs its own sysprep);
//  4. oVirt answers at once with the VM image_locked while it makes the disk layers; the
//     clone waits (ovirtWait.ts, bounded by ready_timeout_sec) until the VM is down with
//     every disk ok, and answers it as the inventory reads it (marks included).
// `status` of the input is not used: oVirt decides the new VM's status itself.
import { inject, injectable } from 'tsyringe';
import { ConflictError, InputError, NotFoundError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import type { CloneInput, VmCloning } from '../inventory/VmCloning';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { OvirtInventory } from './OvirtInventory';
import { commentWithMarks } from './ovirtMarks';
import { asNum, attachedDisks, BLANK_TEMPLATE_ID, isUuid, items, OvTemplate, OvVm, searchValue } from './ovirtModel';
import { waitFor } from './ovirtWait';

/** Down with every disk ok: what a made VM looks like once oVirt has unlocked it. */
export const isReady = (vm: OvVm | undefined): boolean => !!vm && vm.status === 'down' && attachedDisks(vm).every((d) => d.status === undefined || d.status === 'ok');

@injectable()
export class OvirtCloning implements VmCloning {
  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtInventory) private readonly inventory: OvirtInventory,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async cloneVm(input: CloneInput): Promise<Vm> {
    const name = searchValue(input.name, 'name');
    const template = await this.template(input.template);
    const taken = items<OvVm>(await this.client.get('/vms', { query: { search: `name=${name}` } }), 'vm').some((v) => v.name === name);
    if (taken) throw new ConflictError('NAME_IN_USE', `VM "${name}" already exists`, { field: 'name' });
    const body = {
      name,
      template: { id: template.id },
      cluster: { id: template.cluster!.id },
      comment: commentWithMarks(name, input.marks ?? {}),
    };
    const created = await this.client.post<OvVm>('/vms', body, { query: { clone: 'false' } });
    this.log.info('oVirt VM created from template', { vmId: created.id, name, template: template.name ?? template.id });
    this.inventory.invalidate();
    const made = await waitFor({
      what: `VM "${name}" to be made from template "${template.name ?? template.id}" (down, disks ok)`,
      timeoutMs: this.config.readyTimeoutSec * 1000,
      read: () => this.inventory.rawVm(created.id),
      done: (v) => v === undefined || isReady(v),
      describe: (v) => (v ? `status ${v.status}` : 'no VM'),
    });
    if (!made) throw new NotFoundError('VM_NOT_FOUND', `VM "${name}" vanished from oVirt while it was being made (its creation failed there)`, { field: 'name' });
    this.inventory.invalidate(); // listings read while it was locked
    const vm = await this.inventory.getVm(created.id);
    if (!vm) throw new NotFoundError('VM_NOT_FOUND', `VM "${name}" vanished from oVirt right after it was made`, { field: 'name' });
    return vm;
  }

  /** The template to clone (newest version of a name), with its cluster; 404 / 400 on `template`. */
  private async template(ref: string): Promise<OvTemplate> {
    let t: OvTemplate | undefined;
    if (isUuid(ref)) t = await this.client.find<OvTemplate>(`/templates/${ref}`);
    if (!t) {
      const named = items<OvTemplate>(await this.client.get('/templates', { query: { search: `name=${searchValue(ref, 'template')}` } }), 'template').filter((x) => x.name === ref);
      t = named.sort((a, b) => asNum(b.version?.version_number ?? 1) - asNum(a.version?.version_number ?? 1))[0];
    }
    if (!t) throw new NotFoundError('TEMPLATE_NOT_FOUND', `template: no template "${ref}"`, { field: 'template' });
    if (t.id === BLANK_TEMPLATE_ID) throw new InputError('template', 'Blank has no disks: clone from a template with a guest');
    if (!t.cluster?.id) throw new InputError('template', `template "${t.name ?? t.id}" belongs to no cluster in oVirt: a VM made from it would have none`);
    return t;
  }
}
