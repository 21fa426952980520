// Paging of the libvirt inventory's listings (libvirt has no paging of its own).
import { pageOf } from '../../../engine-plugin/libvirt/pageOf';

const items = ['alpha', 'Beta', 'gamma', 'delta', 'beta-2'].map((name) => ({ name }));

describe('pageOf', () => {
  it('filters by name (case-insensitive substring) and pages with an offset cursor', () => {
    expect(pageOf(items, { search: 'BETA' })).toEqual({ items: [{ name: 'Beta' }, { name: 'beta-2' }], total: 2, next: undefined });
    const p1 = pageOf(items, { limit: 2 });
    expect(p1).toEqual({ items: items.slice(0, 2), total: 5, next: '2' });
    const p3 = pageOf(items, { limit: 2, cursor: '4' });
    expect(p3).toEqual({ items: items.slice(4), total: 5, next: undefined });
    expect(pageOf(items, { cursor: '9' })).toEqual({ items: [], total: 5, next: undefined });
  });

  it('refuses a cursor it did not give, naming the field', () => {
    expect(() => pageOf(items, { cursor: 'x' })).toThrow('cursor: is not a cursor of this listing');
    expect(() => pageOf(items, { cursor: '-1' })).toThrow('cursor:');
  });
});
