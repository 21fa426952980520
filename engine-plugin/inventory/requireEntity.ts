// Lookups that throw the typed not-found error (404 naming the field) instead of
// answering undefined: every route and service that needs a VM, a pool or a template
// by id or name goes through these, so the codes and messages are written once.
import { NotFoundError } from '../../shared/errors';
import type { Inventory, Pool, Template, Vm } from './Inventory';

type Kind = { what: string; code: string };
const VM: Kind = { what: 'VM', code: 'VM_NOT_FOUND' };
const POOL: Kind = { what: 'pool', code: 'POOL_NOT_FOUND' };
const TEMPLATE: Kind = { what: 'template', code: 'TEMPLATE_NOT_FOUND' };

/** The entity, or 404 `code` on `field` ("id" for a path parameter, e.g. "vms[2]" in a body). */
export async function requireEntity<T>(found: Promise<T | undefined>, kind: Kind, ref: string, field: string): Promise<T> {
  const entity = await found;
  if (entity) return entity;
  const message = `no ${kind.what} "${ref}"`;
  throw new NotFoundError(kind.code, field === 'id' ? message : `${field}: ${message}`, { field });
}

export const requireVm = (inventory: Pick<Inventory, 'getVm'>, ref: string, field = 'id'): Promise<Vm> => requireEntity(inventory.getVm(ref), VM, ref, field);
export const requirePool = (inventory: Pick<Inventory, 'getPool'>, ref: string, field = 'id'): Promise<Pool> => requireEntity(inventory.getPool(ref), POOL, ref, field);
export const requireTemplate = (inventory: Pick<Inventory, 'getTemplate'>, ref: string, field = 'id'): Promise<Template> => requireEntity(inventory.getTemplate(ref), TEMPLATE, ref, field);
