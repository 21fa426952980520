// Disks are confined where they enter the embedded inventory (issue 10, items 5, 6, 8):
// POST /templates and POST /vms (import) refuse a path outside the storage roots, a ".."
// path, a directory, a missing file or a text file, naming the field and recording
// nothing; a disk (by real path) belongs to one VM or template; a clone never creates a
// file outside the roots. Agents are FAKES here (fakeAgent.ts: its CheckDisks is a
// stand-in); test/e2e/engine/diskRegistration.test.ts runs the real agent.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDb } from '../../../engine-plugin/db';
import { MIGRATIONS } from '../../../engine-plugin/store/schema';
import type { SqliteDb } from '../../../engine-plugin/store/sqlite';
import { DEFAULT_DATABASE } from '../../../engine-plugin/store/databaseUrl';
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const off = { enabled: false, profile: 'clone-reset' };
const manual = { autoReset: { clone: off, import: off, pool: off } };

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('disk registration', () => {
  let h: Harness;
  let outside: string;
  let n = 0;
  const name = (prefix: string) => `${prefix}-${++n}`;
  /** POST /templates or POST /vms (import) with these disks. */
  const register = (kind: 'template' | 'vm', disks: unknown[], extra: Record<string, unknown> = {}) =>
    h.api('POST', kind === 'template' ? '/templates' : '/vms', { name: name(kind), disks, ...extra });

  beforeAll(async () => {
    h = await harness({ config: manual });
    outside = path.join(h.dir, 'outside');
    mkdirSync(outside);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(outside, 'x.qcow2'), '16M']);
    mkdirSync(path.join(h.storage, 'a-directory'));
    writeFileSync(path.join(h.storage, 'notes.txt'), 'not a disk, just some text\n');
    symlinkSync('/etc/shadow', path.join(h.storage, 'shadow.qcow2'));
  });
  afterAll(() => h.close());

  describe.each(['template', 'vm'] as const)('POST %s with a bad disk', (kind) => {
    const cases: [string, () => unknown, number, string, boolean][] = [
      // what, disk, status, code, whether the agent is asked
      ['/etc/shadow', () => ({ path: '/etc/shadow' }), 400, 'PATH_OUTSIDE_ROOTS', false],
      ['/proc/self/environ', () => ({ path: '/proc/self/environ' }), 400, 'PATH_OUTSIDE_ROOTS', false],
      ['ROOT/../outside/x.qcow2', () => ({ path: `${h.storage}/../outside/x.qcow2` }), 400, 'PATH_TRAVERSAL', false],
      ['ROOT/../../outside/x.qcow2', () => ({ path: `${h.storage}/../../${path.basename(h.dir)}/outside/x.qcow2` }), 400, 'PATH_TRAVERSAL', false],
      ['a NUL byte', () => ({ path: `${h.storage}/x\0.qcow2` }), 400, 'INVALID_ARGUMENT', false],
      ['a directory', () => ({ path: path.join(h.storage, 'a-directory') }), 400, 'NOT_A_DISK', true],
      ['a missing file', () => ({ path: path.join(h.storage, 'missing.qcow2') }), 404, 'DISK_NOT_FOUND', true],
      ['a text file declared raw', () => ({ path: path.join(h.storage, 'notes.txt'), format: 'raw' }), 400, 'NOT_A_DISK', true],
      ['a text file, format to probe', () => ({ path: path.join(h.storage, 'notes.txt') }), 400, 'NOT_A_DISK', true],
      ['a symlink in the root to /etc/shadow', () => ({ path: path.join(h.storage, 'shadow.qcow2') }), 400, 'PATH_OUTSIDE_ROOTS', true],
    ];
    it.each(cases)('refuses %s naming disks[1].path and records nothing', async (_what, disk, status, code, asked) => {
      const good = { path: h.image(`good-${kind}-${n}.qcow2`) };
      const calls = h.agents[0].checkCalls.length;
      const before = (await h.api('GET', kind === 'template' ? '/templates' : '/vms')).body.total;
      const r = await register(kind, [good, disk()]);
      expect(r.status).toBe(status);
      expect(r.body.error).toMatchObject({ code, details: { field: 'disks[1].path' } });
      expect(r.body.error.message).toContain('disks[1].path');
      expect((await h.api('GET', kind === 'template' ? '/templates' : '/vms')).body.total).toBe(before);
      expect(h.agents[0].checkCalls.length - calls).toBe(asked ? 1 : 0);
    });
  });

  it('refuses more than 16 disks without asking an agent', async () => {
    const calls = h.agents[0].checkCalls.length;
    const disks = Array.from({ length: 17 }, (_, i) => ({ path: path.join(h.storage, `many-${i}.qcow2`) }));
    const r = await register('template', disks);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'TOO_MANY_DISKS', details: { field: 'disks' } });
    expect(h.agents[0].checkCalls.length).toBe(calls);
  });

  it('records the real path and the format the agent probed', async () => {
    const disk = h.image('probed.qcow2');
    symlinkSync(disk, path.join(h.storage, 'alias-of-probed.img'));
    const r = await register('template', [{ path: `${h.storage}//./alias-of-probed.img` }]);
    expect(r.status).toBe(201);
    expect(r.body.disks).toEqual([{ path: disk, format: 'qcow2', storageDomain: h.storage }]);
    expect((await h.api('GET', `/templates/${r.body.id}`)).body.disks[0].path).toBe(disk);
  });

  describe('a disk belongs to one VM or template', () => {
    let tplDisk: string;
    let tpl: { id: string; name: string };
    let vmDisk: string;
    let vm: { id: string; name: string };
    beforeAll(async () => {
      tplDisk = h.image('owned-tpl.qcow2');
      tpl = (await register('template', [{ path: tplDisk }])).body;
      vmDisk = h.image('owned-vm.qcow2');
      vm = (await register('vm', [{ path: vmDisk }])).body.vm;
      expect(tpl.id && vm.id).toBeTruthy();
    });

    it("refuses a template's disk imported as a VM with 409 naming the field and the template, asking no agent", async () => {
      const calls = h.agents[0].checkCalls.length;
      const r = await register('vm', [{ path: h.image('own-0.qcow2') }, { path: tplDisk }]);
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'DISK_OWNED', details: { field: 'disks[1].path', disk: tplDisk, owner: { type: 'template', id: tpl.id, name: tpl.name } } });
      expect(h.agents[0].checkCalls.length).toBe(calls);
    });

    it("refuses a template's disk reached through a symlink (ownership is by real path)", async () => {
      const alias = path.join(h.storage, 'alias-of-owned-tpl.qcow2');
      symlinkSync(tplDisk, alias);
      const r = await register('vm', [{ path: alias }]);
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'DISK_OWNED', details: { field: 'disks[0].path', owner: { type: 'template', id: tpl.id } } });
    });

    it("refuses a VM on another VM's disk with 409, and a template on it too", async () => {
      for (const kind of ['vm', 'template'] as const) {
        const r = await register(kind, [{ path: vmDisk }]);
        expect(r.status).toBe(409);
        expect(r.body.error).toMatchObject({ code: 'DISK_OWNED', details: { field: 'disks[0].path', owner: { type: 'vm', id: vm.id, name: vm.name } } });
      }
    });

    it("refuses a clone's own disk imported as another VM", async () => {
      const clone = (await h.api('POST', '/vms', { name: name('clone'), template: tpl.id })).body.vm;
      const r = await register('vm', [{ path: clone.disks[0].path }]);
      expect(r.status).toBe(409);
      expect(r.body.error.details.owner).toMatchObject({ type: 'vm', id: clone.id });
    });

    it('refuses the same disk twice in one request with 400 naming the second', async () => {
      const disk = h.image('twice.qcow2');
      const direct = await register('vm', [{ path: disk }, { path: h.image('twice-other.qcow2') }, { path: disk }]);
      expect(direct.status).toBe(400);
      expect(direct.body.error).toMatchObject({ code: 'DUPLICATE_DISK', details: { field: 'disks[2].path' } });
      const alias = path.join(h.storage, 'alias-of-twice.qcow2');
      symlinkSync(disk, alias);
      const aliased = await register('template', [{ path: disk }, { path: alias }]);
      expect(aliased.status).toBe(400);
      expect(aliased.body.error).toMatchObject({ code: 'DUPLICATE_DISK', details: { field: 'disks[1].path' } });
      // Neither recorded anything: the disk is still free.
      expect((await register('vm', [{ path: disk }])).status).toBe(201);
    });
  });

  it('refuses a template on a disk a running VM holds, and a clone of a template that became so; imports a running VM', async () => {
    const busy = h.image('busy.qcow2');
    const gold = h.image('busy-gold.qcow2');
    const tpl = (await register('template', [{ path: gold }])).body;
    h.agents[0].opts.inUseDisks = new Set([busy, gold]);
    try {
      const t = await register('template', [{ path: busy }]);
      expect(t.status).toBe(409);
      expect(t.body.error).toMatchObject({ code: 'DISK_IN_USE', details: { field: 'disks[0].path', disk: busy } });
      const clone = await h.api('POST', '/vms', { name: name('busy-clone'), template: tpl.id });
      expect(clone.status).toBe(409);
      expect(clone.body.error).toMatchObject({ code: 'DISK_IN_USE', details: { field: 'template', templateDisk: 'disks[0].path' } });
      expect((await register('vm', [{ path: busy }])).status).toBe(201);
    } finally {
      h.agents[0].opts.inUseDisks = undefined;
    }
  });

  describe('a clone creates files only inside the storage roots', () => {
    it('refuses to clone a template an older engine recorded on a ".." path; nothing is created outside', async () => {
      // An older database: the row as the engine before this check wrote it.
      const db = openDb(h.engine.config.database, h.engine.config.dataDir);
      const bad = `${h.storage}/../outside/x.qcow2`;
      db.prepare('INSERT INTO templates (id, name, disks, created_at) VALUES (?, ?, ?, ?)').run('old-tpl', 'old-tpl', JSON.stringify([{ path: bad, format: 'qcow2' }]), new Date().toISOString());
      db.close();
      const before = tree(outside);
      const clone = await h.api('POST', '/vms', { name: name('bad-clone'), template: 'old-tpl' });
      expect(clone.status).toBe(409);
      expect(clone.body.error).toMatchObject({ code: 'PATH_TRAVERSAL', details: { field: 'template' } });
      const pool = await h.api('POST', '/pools', { name: name('bad-pool'), template: 'old-tpl', size: 2 });
      expect(pool.status).toBe(409);
      expect(tree(outside)).toEqual(before);
      expect((await h.api('GET', `/vms/${name('bad-clone')}`)).status).toBe(404);
    });

    it('clones next to the template, and refuses when the clone directory is a symlink leading out of the root', async () => {
      const sub = path.join(h.storage, 'sub');
      mkdirSync(sub);
      const disk = path.join(sub, 'gold.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
      const tpl = (await register('template', [{ path: disk }])).body;
      const good = await h.api('POST', '/vms', { name: name('good-clone'), template: tpl.id });
      expect(good.status).toBe(201);
      expect(good.body.vm.disks[0].path).toBe(path.join(sub, 'vms', good.body.vm.id, 'disk0.qcow2'));

      renameSync(path.join(sub, 'vms'), path.join(sub, 'vms.moved'));
      symlinkSync(outside, path.join(sub, 'vms'));
      const before = tree(outside);
      const vms = (await h.api('GET', '/vms')).body.total;
      const r = await h.api('POST', '/vms', { name: name('escaping-clone'), template: tpl.id });
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'PATH_OUTSIDE_ROOTS', details: { field: 'template' } });
      expect(tree(outside)).toEqual(before);
      expect((await h.api('GET', '/vms')).body.total).toBe(vms);
    });
  });

  describe('choice of the agent', () => {
    let two: Harness;
    beforeAll(async () => {
      two = await harness({ config: manual, agents: [{}, { storageRoots: [] }] });
      const other = path.join(two.dir, 'other');
      mkdirSync(other);
      two.agents[1].opts.storageRoots.push(other);
      await two.restart({ hosts: two.agents.map((a) => ({ id: a.opts.hostId, address: a.address, storageRoots: a.opts.storageRoots })) });
    });
    afterAll(() => two.close());

    it('refuses an import on a named host whose roots do not hold the disk, asking no agent', async () => {
      const r = await two.api('POST', '/vms', { name: 'on-host2', host: 'host2', disks: [{ path: two.image('h1.qcow2') }] });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'PATH_OUTSIDE_ROOTS', details: { field: 'disks[0].path' } });
      expect(two.agents.map((a) => a.checkCalls.length)).toEqual([0, 0]);
    });

    it('refuses an unknown host with 404 naming host', async () => {
      const r = await two.api('POST', '/vms', { name: 'on-nowhere', host: 'nowhere', disks: [{ path: two.image('h0.qcow2') }] });
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'HOST_NOT_FOUND', details: { field: 'host' } });
    });

    it('asks the agent whose roots hold the disk', async () => {
      const r = await two.api('POST', '/vms', { name: 'on-host1', disks: [{ path: two.image('h1b.qcow2') }] });
      expect(r.status).toBe(201);
      expect(two.agents.map((a) => a.checkCalls.length)).toEqual([1, 0]);
    });

    it('answers 503 when the agent that holds the root cannot be reached, and records nothing', async () => {
      const disk = two.image('unreachable.qcow2');
      two.agents[0].kill();
      const r = await two.api('POST', '/templates', { name: 'unreachable', disks: [{ path: disk }] });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('AGENT_UNAVAILABLE');
      expect((await two.api('GET', '/templates/unreachable')).status).toBe(404);
    });
  });
});

it('refuses a registration with 503 when the only agent is too old to check disks, recording nothing', async () => {
  const h = await harness({ config: manual, agents: [{ noCheckDisks: true }] });
  try {
    const r = await h.api('POST', '/templates', { name: 'unchecked', disks: [{ path: h.image('unchecked.qcow2') }] });
    expect(r.status).toBe(503);
    expect(r.body.error.message).toMatch(/CheckDisks/);
    expect((await h.api('GET', '/templates/unchecked')).status).toBe(404);
  } finally {
    await h.close();
  }
});

describe('disk_owners migration', () => {
  it('fills the owners from an older database: each disk with its first owner, templates first', () => {
    const dir = path.join(os.tmpdir(), `owners-${process.pid}-${Date.now()}`);
    let db = openDb(DEFAULT_DATABASE, dir);
    // Back to the schema before the table, with rows an older engine let share a disk.
    db.exec('DROP INDEX jobs_backlog; DROP TABLE row_counts; DROP INDEX jobs_child_warnings; DROP TABLE engine_leader; DROP TABLE ovirt_state; DROP TABLE ovirt_jobs; DROP TABLE ovirt_pending; DROP TABLE inspections; ALTER TABLE jobs DROP COLUMN result; ALTER TABLE vms DROP COLUMN os; ALTER TABLE jobs DROP COLUMN warnings; DROP TABLE vm_snapshots; ALTER TABLE vms DROP COLUMN marks; ALTER TABLE vms DROP COLUMN current_snapshot; DROP TABLE disk_owners; PRAGMA user_version = 2;');
    const at = '2026-01-01T00:00:00.000Z';
    const disks = (...paths: string[]) => JSON.stringify(paths.map((p) => ({ path: p, format: 'qcow2' })));
    db.prepare('INSERT INTO templates (id, name, disks, created_at) VALUES (?, ?, ?, ?)').run('t1', 'gold', disks('/s/gold.qcow2'), at);
    const vm = db.prepare("INSERT INTO vms (id, name, status, disks, created_at) VALUES (?, ?, 'down', ?, ?)");
    vm.run('v1', 'alias', disks('/s/gold.qcow2', '/s/data.qcow2'), at);
    vm.run('v2', 'other', disks('/s/data.qcow2', '/s/own.qcow2'), '2026-01-02T00:00:00.000Z');
    db.close();
    db = openDb(DEFAULT_DATABASE, dir);
    try {
      expect((db as SqliteDb).raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(db.prepare('SELECT path, vm_id, template_id FROM disk_owners ORDER BY path').all()).toEqual([
        { path: '/s/data.qcow2', vm_id: 'v1', template_id: null },
        { path: '/s/gold.qcow2', vm_id: null, template_id: 't1' },
        { path: '/s/own.qcow2', vm_id: 'v2', template_id: null },
      ]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
