// The REST API over real HTTP: authentication and roles, input errors naming the field,
// the VM checks, profiles, and the OpenAPI document kept true. Agents are FAKES here
// (test/unit/engine/fakeAgent.ts); the real ones are in test/e2e/engine/.
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

describe('engine REST API', () => {
  let h: Harness;
  let vmId: string;

  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } } });
    const vm = await h.api('POST', '/vms', { name: 'web_01', disks: [{ path: h.image('web01.qcow2') }] });
    expect(vm.status).toBe(201);
    vmId = vm.body.vm.id;
  });
  afterAll(() => h.close());

  it('answers health without a token', async () => {
    const r = await h.api('GET', '/health', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', agents: { total: 1, healthy: 1 } });
  });

  it('refuses a request without a token with 401', async () => {
    const r = await h.api('GET', '/vms', undefined, null);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a wrong token with 401', async () => {
    const res = await fetch(`${h.engine.url}/api/v1/vms`, { headers: { authorization: 'Bearer not-a-token-at-all' } });
    expect(res.status).toBe(401);
  });

  it('lets a viewer read but not start a sysprep (403)', async () => {
    expect((await h.api('GET', `/vms/${vmId}`, undefined, 'viewer')).status).toBe(200);
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, {}, 'viewer');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
  });

  it.each([
    ['params.scripts', { scripts: ['#!/bin/sh\ntrue\n'] }],
    ['params.firstboot', { firstboot: ['#!/bin/sh\ntrue\n'] }],
    ['params.rootPassword', { rootPassword: { random: true } }],
    ['params.users[0].password', { users: [{ name: 'student', password: { value: 'pw' } }] }],
  ])('refuses an operator sending %s with 403 naming the field', async (field, params) => {
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, { params }, 'operator');
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN_FIELD', details: { field } });
  });

  it('answers an unknown VM with 404', async () => {
    const r = await h.api('POST', '/vms/no-such-vm/sysprep', {});
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('VM_NOT_FOUND');
  });

  it.each([
    ['params.hostname', { params: { hostname: 'not a hostname!' } }],
    ['operations.enable[0]', { operations: { enable: ['no-such-op'] } }],
    ['mode', { mode: 'fast' }],
    ['colour', { colour: 'blue' }],
    ['params.timezone', { params: { timezone: 'Mars/Olympus' } }],
    ['params.hostname', { params: { hostname: '${nope}' } }],
  ])('answers a bad body with 400 naming %s', async (field, body) => {
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, body);
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe(field);
    expect(r.body.error.message).toContain(field);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await fetch(`${h.engine.url}/api/v1/vms/${vmId}/sysprep`, { method: 'POST', headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json' }, body: '{"params": ' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('INVALID_JSON');
  });

  it('refuses a running VM with 409 VM_NOT_DOWN and runs nothing', async () => {
    expect((await h.api('POST', `/vms/${vmId}/start`, undefined, 'operator')).body.status).toBe('up');
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, {});
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'VM_NOT_DOWN', details: { status: 'up' } });
    expect(h.agents[0].startCalls).toHaveLength(0);
    await h.api('POST', `/vms/${vmId}/stop`, undefined, 'operator');
  });

  it('records who asked, and never stores or echoes a secret', async () => {
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, { profile: 'clone-reset', params: { rootPassword: { value: 'Sup3r-secret' } } });
    expect(r.status).toBe(202);
    const job = await h.waitJob(r.body.job.id);
    expect(job).toMatchObject({ state: 'succeeded', requestedBy: 'alice', kind: 'vm', request: { params: { rootPassword: { redacted: true }, hostname: 'web-01' } } });
    expect(JSON.stringify(r.body) + JSON.stringify(job)).not.toContain('Sup3r-secret');
    const { readFileSync, readdirSync } = await import('node:fs');
    const files = readdirSync(`${h.dir}/engine`).map((f) => readFileSync(`${h.dir}/engine/${f}`).toString('latin1')).join('');
    expect(files).not.toContain('Sup3r-secret');
    // The agent, and only the agent, got it.
    expect(h.agents[0].jobs.get(job.id)!.params.rootPassword).toEqual({ value: 'Sup3r-secret' });
  });

  it('adds a request\'s list to its profile\'s, and replaces it when asked (the job record shows the merged list)', async () => {
    // template-seal truncates /etc/machine-id: a request's truncate list adds to it.
    const added = await h.api('POST', `/vms/${vmId}/sysprep`, { profile: 'template-seal', params: { truncate: ['/root/notes.txt'] } });
    expect(added.status).toBe(202);
    const job = await h.waitJob(added.body.job.id);
    expect(job.request.params.truncate).toEqual(['/etc/machine-id', '/root/notes.txt']);
    const replaced = await h.api('POST', `/vms/${vmId}/sysprep`, { profile: 'template-seal', params: { truncate: ['/root/notes.txt'] }, replace: ['truncate'] });
    expect((await h.waitJob(replaced.body.job.id)).request.params.truncate).toEqual(['/root/notes.txt']);
    const bad = await h.api('POST', `/vms/${vmId}/sysprep`, { profile: 'template-seal', params: { truncate: ['/x'] }, replace: ['truncate', 'delete'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ details: { field: 'replace[1]' } });
  });

  it('lists the installed operations from the agents with the customisation catalog', async () => {
    const r = await h.api('GET', '/operations', undefined, 'viewer');
    expect(r.body.items.map((o: { name: string }) => o.name)).toContain('machine-id');
    expect(r.body.customizations.map((c: { key: string }) => c.key)).toContain('hostname');
  });

  it("lists the identity catalogue with each item's coverage by the installed tool (the fake agent reports a 1.48-like list)", async () => {
    const r = await h.api('GET', '/identity-items', undefined, 'viewer');
    expect(r.status).toBe(200);
    const byName = new Map(r.body.items.map((i: { name: string }) => [i.name, i]));
    expect(r.body.items.length).toBeGreaterThanOrEqual(25);
    expect(byName.get('lvm-system-devices')).toMatchObject({ families: ['debian', 'el', 'suse'], action: 'remove', installedToolCovers: false, coveredBy: { operation: 'lvm-system-devices', since: '1.50' }, toolVersions: { '1.48': [], '1.50': ['debian', 'el', 'suse'] } });
    expect(byName.get('nm-keyfile-mac')).toMatchObject({ action: 'edit', edit: { dropKeys: ['mac-address', 'cloned-mac-address'] }, toolVersions: { '1.48': ['el'] }, doneBy: 'script' });
    expect(byName.get('nm-secret-key')).toMatchObject({ coveredBy: null, installedToolCovers: false, firstBoot: expect.stringContaining('NetworkManager') });
    expect(byName.get('machine-id')).toMatchObject({ installedToolCovers: true, doneBy: 'tool' });
  });

  it.each([
    [['machine-id'], /virt-sysprep's own operation machine-id/],
    [['no-such-item'], /is not an identity item/],
  ])('refuses params.identity %j with 400 naming the item', async (identity, message) => {
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, { params: { identity } }, 'operator');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'params.identity[0]' } });
    expect(r.body.error.message).toMatch(message);
  });

  describe('profiles', () => {
    it('lists the three built-ins', async () => {
      const r = await h.api('GET', '/profiles', undefined, 'viewer');
      expect(r.body.items.filter((p: { builtIn: boolean }) => p.builtIn).map((p: { name: string }) => p.name)).toEqual(['clone-reset', 'template-seal', 'windows-reset', 'full-defaults']);
    });

    it('creates, reads, replaces and deletes a user profile', async () => {
      const put = await h.api('PUT', '/profiles/lab-reset', { description: 'lab', operations: { only: ['machine-id', 'ssh-hostkeys'] }, params: { hostname: 'lab-${index}' } });
      expect(put.status).toBe(201);
      expect((await h.api('PUT', '/profiles/lab-reset', { operations: { only: ['machine-id'] } })).status).toBe(200);
      expect((await h.api('GET', '/profiles/lab-reset', undefined, 'viewer')).body.operations.only).toEqual(['machine-id']);
      expect((await h.api('DELETE', '/profiles/lab-reset')).status).toBe(204);
      expect((await h.api('GET', '/profiles/lab-reset')).status).toBe(404);
    });

    it('refuses to store a secret in a profile', async () => {
      const r = await h.api('PUT', '/profiles/with-secret', { params: { rootPassword: { value: 'x' } } });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'SECRET_IN_PROFILE', details: { field: 'params.rootPassword' } });
    });

    it('refuses an operation the installed tool does not know', async () => {
      const r = await h.api('PUT', '/profiles/bad-op', { operations: { enable: ['frobnicate'] } });
      expect(r.status).toBe(400);
      expect(r.body.error.details.field).toBe('operations.enable[0]');
    });

    it('keeps the built-ins read-only and admin-only to change', async () => {
      expect((await h.api('PUT', '/profiles/clone-reset', {})).status).toBe(409);
      expect((await h.api('PUT', '/profiles/mine', {}, 'operator')).status).toBe(403);
    });
  });

  describe('OpenAPI document', () => {
    it('documents exactly the routes that exist', async () => {
      const doc = (await h.api('GET', '/openapi.json', undefined, null)).body;
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
      expect(documented.length).toBeGreaterThanOrEqual(25);
      for (const route of documented) {
        const [method, p] = route.split(' ');
        const url = p.replace('/api/v1', '').replace(/\{[^}]+\}/g, 'zz-unknown');
        const res = await fetch(`${h.engine.url}/api/v1${url}`, { method, headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
        const body = res.headers.get('content-type')?.includes('json') ? await res.json() : {};
        expect(`${route} -> ${body?.error?.code ?? res.status}`).not.toMatch(/ROUTE_NOT_FOUND/);
      }
      const missing = await h.api('GET', '/no-such-resource');
      expect(missing.body.error.code).toBe('ROUTE_NOT_FOUND');
    });

    it('describes the sysprep body with its fields', async () => {
      const doc = (await h.api('GET', '/openapi.json', undefined, null)).body;
      const schema = doc.paths['/api/v1/vms/{id}/sysprep'].post.requestBody.content['application/json'].schema;
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['profile', 'operations', 'params', 'replace', 'dryRun', 'mode']));
    });
  });
});
