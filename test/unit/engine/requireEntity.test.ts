// The typed lookups (inventory/requireEntity.ts) behind every route that takes a VM, pool
// or template: one 404 code per kind, naming the field. Real engine and HTTP, FAKE agent
// (test/unit/engine/fakeAgent.ts).
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

describe('not-found answers of the inventory routes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  it.each([
    ['GET', '/vms/nope', 'VM_NOT_FOUND', 'id'],
    ['GET', '/vms/nope/inspection', 'VM_NOT_FOUND', 'id'],
    ['POST', '/vms/nope/sysprep', 'VM_NOT_FOUND', 'id'],
    ['POST', '/vms/nope/start', 'VM_NOT_FOUND', 'id'],
    ['POST', '/vms/nope/stop', 'VM_NOT_FOUND', 'id'],
    ['GET', '/pools/nope', 'POOL_NOT_FOUND', 'id'],
    ['POST', '/pools/nope/sysprep', 'POOL_NOT_FOUND', 'id'],
    ['GET', '/templates/nope', 'TEMPLATE_NOT_FOUND', 'id'],
    ['POST', '/templates/nope/sysprep', 'TEMPLATE_NOT_FOUND', 'id'],
  ])('%s %s: 404 %s on field %s', async (method, url, code, field) => {
    const r = await h.api(method, url, method === 'POST' ? {} : undefined);
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ code, message: expect.stringContaining('"nope"'), details: { field } });
  });

  it('names the list entry of a bulk request, and the template of a clone', async () => {
    const bulk = await h.api('POST', '/sysprep', { vms: ['nope'] });
    expect(bulk.body.error).toMatchObject({ code: 'VM_NOT_FOUND', message: 'vms[0]: no VM "nope"', details: { field: 'vms[0]' } });
    const clone = await h.api('POST', '/vms', { name: 'c1', template: 'nope' });
    expect(clone.body.error).toMatchObject({ code: 'TEMPLATE_NOT_FOUND', details: { field: 'template' } });
  });

});
