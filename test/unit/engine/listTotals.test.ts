// A listing's `total` (GET /vms, /pools, /templates) is the row_counts table's number, kept
// in the transaction that adds or removes the rows (issue 17: no count(*) of 100,000 VMs per
// page). Every way the embedded inventory adds or removes a row must keep it equal to a
// real count, on SQLite and PostgreSQL (engine-pg). Real store, real qemu-img clones.
import { Db, openDb } from '../../../engine-plugin/db';
import { harness, Harness } from './harness';

jest.setTimeout(120_000);

const off = { enabled: false, profile: 'clone-reset' };

describe('listing totals', () => {
  let h: Harness;
  let db: Db; // a connection of the test's own, to count the rows
  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: off, import: off, pool: off } } });
    db = openDb(h.engine.config.database, h.engine.config.dataDir);
  });
  afterAll(async () => {
    db?.close();
    await h.close();
  });

  /** Each listing's total, and what a count of its rows says (the two must agree). */
  const totals = async () => {
    const out: Record<string, [number, number]> = {};
    for (const t of ['vms', 'pools', 'templates']) {
      out[t] = [(await h.api('GET', `/${t}?limit=1`)).body.total, Number(db.prepare(`SELECT count(*) AS n FROM ${t}`).get().n)];
    }
    return out;
  };
  const agree = async (vms: number, pools: number, templates: number) =>
    expect(await totals()).toEqual({ vms: [vms, vms], pools: [pools, pools], templates: [templates, templates] });

  it('follow every add and remove: template, clone, import, pool, and their deletes (a refused delete changes nothing)', async () => {
    const start = await totals();
    const [vms, pools, templates] = [start.vms[0], start.pools[0], start.templates[0]];
    await agree(vms, pools, templates);
    expect((await h.api('POST', '/templates', { name: 'tot-tpl', disks: [{ path: h.image('tot-tpl.qcow2') }] })).status).toBe(201);
    await agree(vms, pools, templates + 1);
    expect((await h.api('POST', '/vms', { name: 'tot-clone', template: 'tot-tpl' })).status).toBe(201);
    expect((await h.api('POST', '/vms', { name: 'tot-import', disks: [{ path: h.image('tot-import.qcow2') }] })).status).toBe(201);
    await agree(vms + 2, pools, templates + 1);
    expect((await h.api('POST', '/pools', { name: 'tot-pool', template: 'tot-tpl', size: 3 })).status).toBe(201);
    await agree(vms + 5, pools + 1, templates + 1);
    expect((await h.api('DELETE', '/templates/tot-tpl')).status).toBe(409); // its clones and pool are still there
    await agree(vms + 5, pools + 1, templates + 1);
    expect((await h.api('GET', '/vms?search=tot-&limit=2')).body).toMatchObject({ total: 5, next: '2' }); // a search still counts its matches
    expect((await h.api('DELETE', '/pools/tot-pool')).status).toBe(204);
    await agree(vms + 2, pools, templates + 1);
    for (const vm of ['tot-clone', 'tot-import']) expect((await h.api('DELETE', `/vms/${vm}`)).status).toBe(204);
    expect((await h.api('DELETE', '/templates/tot-tpl')).status).toBe(204);
    await agree(vms, pools, templates);
  });
});
