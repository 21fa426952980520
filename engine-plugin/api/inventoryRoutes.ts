// VMs, pools and templates: read from the inventory port; the inventory's actions
// (register, import, pool: InventoryActions, embedded or libvirt; clone: VmCloning, oVirt
// too) produce the clone and import events that trigger the automatic reset; start,
// shutdown and stop go through the power port (VmPower: libvirt acts on the domain, oVirt
// through its API, the embedded inventory marks the VM). Before a clone, a power action or
// a delete, the caller's rights on the VM (a clone: on its template) are asked of the
// authorizer, as before a job (oVirt users: oVirt's permissions; the calls themselves run
// with the plugin's account).
import { z } from 'zod';
import { DISK_FORMATS } from '../../shared/diskFormats';
import { SysprepError } from '../../shared/errors';
import type { ActiveJobOf, InventoryActions } from '../inventory/InventoryActions';
import type { InventoryDeletion } from '../inventory/InventoryDeletion';
import type { Vm } from '../inventory/Inventory';
import type { Caller } from '../jobs/Caller';
import type { VmPower } from '../inventory/VmPower';
import { requirePool, requireTemplate, requireVm } from '../inventory/requireEntity';
import { renderString } from '../../shared/catalog/patterns';
import { sysprepBodySchema } from '../jobs/requestSchema';
import type { ApiDeps } from './deps';
import { LIST_QUERY, listQuery } from './listQuery';
import type { RouteTable } from './RouteTable';

const diskSchema = z.object({ path: z.string().min(1), format: z.enum(DISK_FORMATS).optional() }).strict();
export const templateBodySchema = z.object({ name: z.string(), disks: z.array(diskSchema).min(1) }).strict();
/** Clone ({name, template}) or import ({name, disks, host?}): one object, so every refusal names its field. */
export const vmBodySchema = z
  .object({
    name: z.string(), template: z.string().min(1).optional(), disks: z.array(diskSchema).min(1).optional(), host: z.string().min(1).optional(),
    /** The guest OS of an import, for the OS guard and the automatic reset's profile (default: unknown until inspected). */
    os: z.enum(['linux', 'windows']).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.template !== undefined && b.disks !== undefined) ctx.addIssue({ code: 'custom', path: ['disks'], message: 'cannot be combined with "template": clone from a template or import disks, not both' });
    else if (b.template === undefined && b.disks === undefined) ctx.addIssue({ code: 'custom', path: ['template'], message: 'is required to clone ({"name", "template"}); to import, send "disks" instead' });
    else if (b.template !== undefined && b.host !== undefined) ctx.addIssue({ code: 'custom', path: ['host'], message: 'applies only to an import ({"name", "disks", "host"})' });
    else if (b.template !== undefined && b.os !== undefined) ctx.addIssue({ code: 'custom', path: ['os'], message: "applies only to an import (a clone's OS is its template's)" });
  });
/** POST /vms/{id}/sparsify, /templates/{id}/sparsify: no operation or customisation applies. */
export const sparsifyBodySchema = z.object({ dryRun: z.boolean().optional() }).strict();
/** Default wait of a shutdown for the guest to power off (a request is held that long). */
export const SHUTDOWN_TIMEOUT_SEC = 60;
export const shutdownBodySchema = z.object({ timeoutSec: z.number().int().min(0).max(600).optional() }).strict();
/** The most VMs one POST /pools makes: the engine holds none of a pool's VMs in memory while it runs (its children wait in the store). */
export const MAX_POOL_SIZE = 100_000;
export const poolBodySchema = z
  .object({
    name: z.string(),
    template: z.string().min(1),
    size: z.number().int().min(1).max(MAX_POOL_SIZE),
    vmNamePattern: z.string().min(1).default('${pool}-${index}'),
  })
  .strict();

/** Why an inventory without actions refuses them, by [engine] inventory. */
const MANAGED_ELSEWHERE: Partial<Record<string, string>> = {
  ovirt: 'this inventory is managed by oVirt: import VMs and create or delete templates and pools there',
};

const actionsOf = (d: ApiDeps): InventoryActions => portOf(d, d.actions);
const powerOf = (d: ApiDeps): VmPower => portOf(d, d.power);
const deletionOf = (d: ApiDeps): InventoryDeletion => portOf(d, d.deletion);

/** The port of an action, or 400 NOT_SUPPORTED (saying `why`, else the inventory's reason) where the inventory registered none. */
export function portOf<T>(d: ApiDeps, port: T | null, why?: string): T {
  if (!port) throw new SysprepError('invalid', 'NOT_SUPPORTED', why ?? MANAGED_ELSEWHERE[d.config.inventory] ?? `the ${d.config.inventory} inventory has no such action`, { field: 'inventory' });
  return port;
}

/** The caller may act on the VM (oVirt: his permissions there), else 403. */
export const authorizeVm = (d: ApiDeps, caller: Caller, vm: Vm): Promise<void> => d.authorizer.authorize(caller, [{ type: 'vm', id: vm.id, name: vm.name }]);

/** The job store's answer to "who works on it", in the inventory's terms. */
const activeJobOf = (d: ApiDeps): ActiveJobOf => (target) => d.store.activeJobFor(`${target.type}:${target.id}`);

export function inventoryRoutes(t: RouteTable, d: ApiDeps): void {
  // ---- VMs ----
  t.add({ method: 'get', path: '/vms', tag: 'vms', summary: 'VMs (filter by name with search)', role: 'viewer', status: 200, query: LIST_QUERY }, async ({ req }) => {
    const page = await d.inventory.listVms(listQuery(req));
    return { ...page, items: d.lastSysprep.addTo(page.items) };
  });
  t.add({ method: 'get', path: '/vms/:id', tag: 'vms', summary: 'One VM (id or name)', role: 'viewer', status: 200 }, async ({ params }) =>
    d.lastSysprep.addToOne(await requireVm(d.inventory, params.id)),
  );
  inspectionRoutes(t, d, 'vm');
  t.add({ method: 'post', path: '/vms/:id/sysprep', tag: 'sysprep', summary: 'Sysprep one VM (must be down)', role: 'operator', status: 202, body: sysprepBodySchema, emptyBody: true }, async ({ params, body, caller }) => ({
    job: await d.jobs.sysprepVm(params.id, body, caller),
  }));
  t.add({ method: 'post', path: '/vms/:id/sparsify', tag: 'sysprep', summary: "Free the VM's unused disk space (virt-sparsify --in-place; must be down; qcow2 and raw disks): a job of kind sparsify whose result.sparsify has the bytes saved", role: 'operator', status: 202, body: sparsifyBodySchema, emptyBody: true }, async ({ params, body, caller }) => ({
    job: await d.jobs.sparsify('vm', params.id, body, caller),
  }));
  t.add({ method: 'post', path: '/vms', tag: 'vms', summary: 'Clone a VM from a template ({name, template}) or import one ({name, disks, host?}); starts its automatic reset (libvirt: a new domain; oVirt: clone only, a thin VM made through its API)', role: 'admin', body: vmBodySchema, status: 201 }, async ({ body, caller }) => {
    const trigger = body.template !== undefined ? 'clone' : 'import';
    const status = d.autoReset.initialStatus(trigger);
    let vm: Vm;
    if (body.template !== undefined) {
      const cloning = portOf(d, d.cloning);
      // An unknown template is the clone's own 404 (each inventory words it).
      const t = await d.inventory.getTemplate(body.template);
      if (t) await d.authorizer.authorize(caller, [{ type: 'template', id: t.id, name: t.name, readOnly: true }]);
      vm = await cloning.cloneVm({ name: body.name, template: body.template, status });
    } else {
      vm = await actionsOf(d).importVm({ name: body.name, disks: body.disks!, hostId: body.host, status, os: body.os });
    }
    const reset = await d.autoReset.onVmAdded(vm, trigger, caller.name);
    return { vm: (await d.inventory.getVm(vm.id)) ?? vm, job: reset.job, resetError: reset.error };
  });
  t.add({ method: 'delete', path: '/vms/:id', tag: 'vms', summary: "Delete a VM (refused while a job works on it or it is up); a clone's overlays are removed, other disks stay (libvirt: the domain is undefined; oVirt: the VM and its disks are removed)", role: 'admin', status: 204 }, async ({ params, caller }) => {
    const deletion = deletionOf(d);
    const vm = await requireVm(d.inventory, params.id);
    await authorizeVm(d, caller, vm);
    await deletion.deleteVm(vm.id, activeJobOf(d));
  });
  /** The VM a power action may act on: known, the caller's, and no job holding it. */
  const powerTarget = async (id: string, caller: Caller) => {
    const vm = await requireVm(d.inventory, id);
    await authorizeVm(d, caller, vm);
    d.locks.checkFree(vm);
    return vm;
  };
  t.add({ method: 'post', path: '/vms/:id/start', tag: 'vms', summary: 'Start the VM (libvirt: virsh start; oVirt: start, waits until up; embedded: mark it up); refused while a job holds it', role: 'operator', status: 200 }, async ({ params, caller }) => {
    const power = powerOf(d);
    return power.start(await powerTarget(params.id, caller));
  });
  t.add({ method: 'post', path: '/vms/:id/shutdown', tag: 'vms', summary: `Shut the VM down (libvirt: ACPI power button, oVirt: shutdown, then wait up to timeoutSec, default ${SHUTDOWN_TIMEOUT_SEC}, and answer the VM as it then is; embedded: mark it down)`, role: 'operator', status: 200, body: shutdownBodySchema, emptyBody: true }, async ({ params, body, caller }) => {
    const power = powerOf(d);
    return power.shutdown(await powerTarget(params.id, caller), (body.timeoutSec ?? SHUTDOWN_TIMEOUT_SEC) * 1000);
  });
  t.add({ method: 'post', path: '/vms/:id/stop', tag: 'vms', summary: 'Stop the VM at once (libvirt: virsh destroy; oVirt: stop; embedded: mark it down)', role: 'operator', status: 200 }, async ({ params, caller }) => {
    const power = powerOf(d);
    return power.stop(await powerTarget(params.id, caller));
  });

  // ---- pools ----
  t.add({ method: 'get', path: '/pools', tag: 'pools', summary: 'VM pools', role: 'viewer', status: 200, query: LIST_QUERY }, ({ req }) => d.inventory.listPools(listQuery(req)));
  t.add({ method: 'get', path: '/pools/:id', tag: 'pools', summary: 'One pool (id or name) with its VM ids', role: 'viewer', status: 200 }, ({ params }) => requirePool(d.inventory, params.id));
  t.add({ method: 'post', path: '/pools/:id/sysprep', tag: 'sysprep', summary: 'Sysprep every VM of the pool: one child job per VM, per-VM values from ${vm} ${pool} ${index} ${template}', role: 'operator', status: 202, body: sysprepBodySchema, emptyBody: true }, async ({ params, body, caller }) => ({
    job: await d.jobs.sysprepPool(params.id, body, caller),
  }));
  t.add({ method: 'post', path: '/pools', tag: 'pools', summary: 'Create a pool of N copy-on-write clones of a template, named by vmNamePattern', role: 'admin', body: poolBodySchema, status: 201 }, async ({ body, caller }) => {
    const actions = actionsOf(d);
    const { pool, vms } = await actions.createPool({
      name: body.name,
      template: body.template,
      size: body.size,
      vmName: (index) => renderString(body.vmNamePattern, { vm: '', index, pool: body.name, template: body.template }, 'vmNamePattern'),
      status: d.autoReset.initialStatus('pool'),
    });
    return { pool, ...(await d.autoReset.onVmsAdded(vms, 'pool', caller.name)) };
  });
  t.add({ method: 'delete', path: '/pools/:id', tag: 'pools', summary: 'Delete a pool and its VMs (refused while one of them is busy or up)', role: 'admin', status: 204 }, async ({ params }) => {
    await deletionOf(d).deletePool(params.id, activeJobOf(d));
  });

  // ---- templates ----
  t.add({ method: 'get', path: '/templates', tag: 'templates', summary: 'Templates', role: 'viewer', status: 200, query: LIST_QUERY }, ({ req }) => d.inventory.listTemplates(listQuery(req)));
  inspectionRoutes(t, d, 'template');
  t.add({ method: 'get', path: '/templates/:id', tag: 'templates', summary: 'One template (id or name)', role: 'viewer', status: 200 }, ({ params }) => requireTemplate(d.inventory, params.id));
  t.add({ method: 'post', path: '/templates/:id/sysprep', tag: 'sysprep', summary: 'Seal a template (default profile template-seal: machine-id left empty); refused while clones use it', role: 'operator', status: 202, body: sysprepBodySchema, emptyBody: true }, async ({ params, body, caller }) => ({
    job: await d.jobs.sealTemplate(params.id, body, caller),
  }));
  t.add({ method: 'post', path: '/templates/:id/sparsify', tag: 'sysprep', summary: "Free the template's unused disk space (virt-sparsify --in-place; qcow2 and raw disks); refused while clones use it", role: 'operator', status: 202, body: sparsifyBodySchema, emptyBody: true }, async ({ params, body, caller }) => ({
    job: await d.jobs.sparsify('template', params.id, body, caller),
  }));
  t.add({ method: 'post', path: '/templates', tag: 'templates', summary: 'Register disk images as a template (libvirt: a new domain marked as template)', role: 'admin', body: templateBodySchema, status: 201 }, ({ body }) => actionsOf(d).registerTemplate(body));
  t.add({ method: 'delete', path: '/templates/:id', tag: 'templates', summary: 'Forget a template (refused while a clone, a pool or a job uses it); its disk files stay (libvirt: the domain is undefined)', role: 'admin', status: 204 }, async ({ params }) => {
    await deletionOf(d).deleteTemplate(params.id, activeJobOf(d));
  });
}

/** POST starts an inspection (a job, 202); GET answers the cached one while the disks are unchanged (docs/inspection.md). */
function inspectionRoutes(t: RouteTable, d: ApiDeps, type: 'vm' | 'template'): void {
  const base = type === 'vm' ? '/vms/:id/inspection' : '/templates/:id/inspection';
  const tag = type === 'vm' ? 'vms' : 'templates';
  t.add({ method: 'post', path: base, tag, summary: `Inspect the ${type}'s disks (read-only): a job of kind inspect; the same job while one runs`, role: 'operator', status: 202 }, async ({ params, caller }) => ({
    job: await d.inspection.start(type, params.id, caller),
  }));
  t.add({ method: 'get', path: base, tag, summary: `The ${type}'s last inspection while its disks are unchanged (404 INSPECTION_NOT_FOUND / INSPECTION_STALE: POST to inspect)`, role: 'viewer', status: 200 }, ({ params }) =>
    d.inspection.cached(type, params.id),
  );
}
