// Paging of an in-memory listing, in the port's terms (ListQuery -> Page): libvirt has no
// paging of its own, so the adapter reads every domain and pages here.
import { InputError } from '../../shared/errors';
import type { ListQuery, Page } from '../inventory/Inventory';

/** One page of `items` (already in listing order): name filter, offset cursor, limit 1..1000 (100). */
export function pageOf<T extends { name: string }>(items: T[], query: ListQuery = {}): Page<T> {
  const search = query.search?.toLowerCase();
  const matching = search ? items.filter((i) => i.name.toLowerCase().includes(search)) : items;
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
  let offset = 0;
  if (query.cursor !== undefined) {
    if (!/^\d{1,9}$/.test(query.cursor)) throw new InputError('cursor', 'is not a cursor of this listing');
    offset = Number(query.cursor);
  }
  const slice = matching.slice(offset, offset + limit);
  const end = offset + slice.length;
  return { items: slice, total: matching.length, next: end < matching.length ? String(end) : undefined };
}
