// The embedded inventory: hosts, templates, VMs and pools in the engine's SQLite
// database (engine.db under the data dir), for installations without oVirt.
//
// Disks enter it (register a template, import a VM) only as an agent found them: the
// agent that owns the storage root resolves, confines and probes each path (DiskChecker);
// the inventory records the real path and the probed format, never opening the path
// itself. A disk, by real path, belongs to one VM or one template (DiskOwners.ts), so no
// import can alias a template's disk or another VM's.
//
// Clone (as VCL does): every disk of the new VM is a qcow2 copy-on-write overlay on the
// template's disk, created next to it under `<template dir>/vms/<vm id>/`, so it sits on
// the same storage and the same agents serve it. Before anything is created the
// template's disks are checked by an agent again (an older engine recorded paths
// unchecked) and the directory must resolve inside a storage root (cloneDir.ts). A
// template with clones is their backing file: it must never be written again (the job
// service refuses to seal it).
//
// Delete: the checks (no active job, the VM down, no clone or pool on a template) and
// the row deletes run in one transaction with no await in between, so no job or clone
// starts between them; the files go after the rows, and only the files the engine
// made (a clone's overlays in its own directory, cloneDir.ts). A registered template's
// or an imported VM's disks are the administrator's: they stay.
import type { OsType } from '../../shared/guestOs';
import { checkMarks, type CloneInput } from './VmCloning';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConflictError, InputError, NotFoundError } from '../../shared/errors';
import { Db, sql } from '../db';
import { makeCloneDir, removeCloneDir, removeCloneFiles } from './cloneDir';
import { asTemplateRefusal, checkedDisks, DiskChecker } from './DiskChecker';
import { validateDiskInputs } from './diskInputs';
import { assertDisksFree, claimDisks } from './DiskOwners';
import type { DiskRef, Host, Inventory, ListQuery, Page, Pool, Template, Vm, VmStatus } from './Inventory';
import type { ActiveJobOf, DiskInput, InventoryActions } from './InventoryActions';
import { QemuImg } from './qemuImg';
import { requireTemplate } from './requireEntity';
import { checkName } from '../../shared/vmName';

interface VmRow { id: string; name: string; status: string; host_id: string | null; pool_id: string | null; pool_index: number | null; template_id: string | null; disks: string; created_at: string; marks: string | null; os: string | null }
interface TemplateRow { id: string; name: string; disks: string; created_at: string }
interface PoolRow { id: string; name: string; template_id: string | null }

const CLONE_PARALLELISM = 8;

/** 409 IN_USE naming the route's `id`: what the delete contract (docs/api.md) answers. */
const inUse = (message: string, details: Record<string, unknown> = {}) => new ConflictError('IN_USE', message, { field: 'id', ...details });

// The name rule lives in shared/ (a room file names VMs too); re-exported for the inventories.
export { checkName };

const now = () => new Date().toISOString();
const paths = (disks: { path: string }[]) => disks.map((d) => d.path);
const fields = (disks: unknown[]) => disks.map((_, i) => `disks[${i}].path`);

function toVm(r: VmRow): Vm {
  return {
    id: r.id,
    name: r.name,
    status: r.status as VmStatus,
    hostId: r.host_id ?? undefined,
    poolId: r.pool_id ?? undefined,
    templateId: r.template_id ?? undefined,
    disks: JSON.parse(r.disks),
    createdAt: r.created_at,
    ...(r.marks && { marks: JSON.parse(r.marks) }),
    ...((r.os === 'linux' || r.os === 'windows') && { os: { type: r.os } }),
  };
}
const toTemplate = (r: TemplateRow): Template => ({ id: r.id, name: r.name, disks: JSON.parse(r.disks), createdAt: r.created_at });

@injectable()
export class EmbeddedInventory implements Inventory, InventoryActions {
  constructor(
    @inject(Db) private readonly db: Db,
    @inject(QemuImg) private readonly qemu: QemuImg,
    @inject(DiskChecker) private readonly checker: DiskChecker,
  ) {}

  private page<R, T>(table: string, map: (r: R) => T, query: ListQuery = {}, order = 'created_at, id'): Page<T> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const offset = query.cursor ? Number.parseInt(query.cursor, 10) || 0 : 0;
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    const where = query.search ? `WHERE lower(name) LIKE lower(?) ESCAPE '\\'` : '';
    const args = query.search ? [`%${query.search.replace(/[%_\\]/g, (c) => `\\${c}`)}%`] : [];
    const rows = sql(this.db, `SELECT * FROM ${table} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...args, limit, offset) as R[];
    const total = Number(where
      ? (sql(this.db, `SELECT count(*) AS n FROM ${table} ${where}`).get(...args) as { n: number }).n
      : sql(this.db, 'SELECT n FROM row_counts WHERE tbl = ?').pluck().get(table));
    return { items: rows.map(map), total, next: offset + rows.length < total ? String(offset + rows.length) : undefined };
  }

  async listVms(query?: ListQuery): Promise<Page<Vm>> {
    return this.page<VmRow, Vm>('vms', toVm, query);
  }
  async getVm(idOrName: string): Promise<Vm | undefined> {
    const r = sql(this.db, 'SELECT * FROM vms WHERE id = ? OR name = ?').get(idOrName, idOrName) as VmRow | undefined;
    return r && toVm(r);
  }
  async getVms(ids: readonly string[]): Promise<Vm[]> {
    const rows = sql(this.db, `SELECT * FROM vms WHERE id IN (${this.db.dialect.jsonStrings('?')})`).all(JSON.stringify(ids)) as VmRow[];
    const byId = new Map(rows.map((r) => [r.id, toVm(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }
  async listPools(query?: ListQuery): Promise<Page<Pool>> {
    const page = this.page<PoolRow, PoolRow>('pools', (r) => r, query);
    return { ...page, items: page.items.map((r) => this.toPool(r)) };
  }
  async getPool(idOrName: string): Promise<Pool | undefined> {
    const r = sql(this.db, 'SELECT * FROM pools WHERE id = ? OR name = ?').get(idOrName, idOrName) as PoolRow | undefined;
    return r && this.toPool(r);
  }
  private toPool(r: PoolRow): Pool {
    const ids = sql(this.db, 'SELECT id FROM vms WHERE pool_id = ? ORDER BY pool_index').pluck().all(r.id) as string[];
    return { id: r.id, name: r.name, templateId: r.template_id ?? undefined, vmIds: ids };
  }
  async listTemplates(query?: ListQuery): Promise<Page<Template>> {
    return this.page<TemplateRow, Template>('templates', toTemplate, query);
  }
  async getTemplate(idOrName: string): Promise<Template | undefined> {
    const r = sql(this.db, 'SELECT * FROM templates WHERE id = ? OR name = ?').get(idOrName, idOrName) as TemplateRow | undefined;
    return r && toTemplate(r);
  }
  async listHosts(): Promise<Host[]> {
    const rows = sql(this.db, 'SELECT * FROM hosts ORDER BY id').all() as { id: string; name: string; agent_address: string; storage_roots: string }[];
    return rows.map((r) => ({ id: r.id, name: r.name, agentAddress: r.agent_address, storageRoots: JSON.parse(r.storage_roots) }));
  }

  // ---- actions -------------------------------------------------------------------

  async upsertHost(h: Host): Promise<void> {
    this.db
      .prepare(`INSERT INTO hosts (id, name, agent_address, storage_roots) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, agent_address = excluded.agent_address, storage_roots = excluded.storage_roots`)
      .run(h.id, h.name, h.agentAddress, JSON.stringify(h.storageRoots));
  }

  private checkDisks(disks: DiskInput[], opts: { hostId?: string; idle?: boolean } = {}): Promise<DiskRef[]> {
    return checkedDisks(this.checker, disks, opts);
  }

  /**
   * The disks of a registration or an import: the edge checks, and a disk owned under the
   * path as given, are refused before any agent is asked; then the agent's check. Owners
   * of the real paths are checked again where the row is written.
   */
  private async newDisks(disks: DiskInput[], opts: { hostId?: string; idle?: boolean } = {}): Promise<DiskRef[]> {
    const inputs = validateDiskInputs(disks);
    assertDisksFree(this.db, paths(inputs), fields(inputs));
    return this.checkDisks(inputs, opts);
  }

  /**
   * The template's disks checked again before a clone builds on them. A refusal is the
   * template's (409 naming `template`, with the agent's code), not the caller's input.
   */
  private async templateDisks(t: Template): Promise<DiskRef[]> {
    let disks: DiskRef[];
    try {
      disks = await this.checkDisks(validateDiskInputs(t.disks.map((d) => ({ path: d.path, format: d.format }))), { idle: true });
    } catch (err) {
      throw asTemplateRefusal(err, t.name);
    }
    // A recorded path that now resolves elsewhere may only lead to the template's own disk.
    assertDisksFree(this.db, paths(disks), disks.map(() => 'template'), { type: 'template', id: t.id });
    return disks;
  }

  private assertFree(table: 'vms' | 'templates' | 'pools', name: string): void {
    if (sql(this.db, `SELECT 1 FROM ${table} WHERE name = ?`).get(name)) {
      throw new ConflictError('NAME_IN_USE', `${table.slice(0, -1)} "${name}" already exists`, { field: 'name' });
    }
  }

  async registerTemplate(input: { name: string; disks: DiskInput[] }): Promise<Template> {
    checkName('name', input.name);
    this.assertFree('templates', input.name);
    const t: Template = { id: randomUUID(), name: input.name, disks: await this.newDisks(input.disks, { idle: true }), createdAt: now() };
    this.db.transaction(() => {
      this.assertFree('templates', t.name);
      assertDisksFree(this.db, paths(t.disks), fields(t.disks));
      sql(this.db, 'INSERT INTO templates (id, name, disks, created_at) VALUES (?, ?, ?, ?)').run(t.id, t.name, JSON.stringify(t.disks), t.createdAt);
      this.counted('templates', 1);
      claimDisks(this.db, paths(t.disks), { type: 'template', id: t.id });
    })();
    return t;
  }

  private templateOrThrow(ref: string): Promise<Template> {
    return requireTemplate(this, ref, 'template');
  }

  /** The storage roots configured for the hosts: the only places where the engine creates files. */
  private async storageRoots(): Promise<string[]> {
    return (await this.listHosts()).flatMap((h) => h.storageRoots);
  }

  /**
   * Overlays on the (checked) template disks, in the VM's own clone directory (pushed to
   * `dirs` once made). With `like`, the overlays another clone of the same disks got just
   * before are copied instead: a qcow2 overlay holds no identity of its own (no UUID), only
   * its backing file's name and format, so the copy is the overlay qemu-img would make,
   * in a fraction of the time (a 100,000-VM pool).
   */
  private async cloneDisks(base: DiskRef[], vmId: string, roots: string[], dirs: string[], like?: DiskRef[]): Promise<DiskRef[]> {
    const dir = await makeCloneDir(path.dirname(base[0].path), vmId, roots);
    dirs.push(dir);
    const disks: DiskRef[] = [];
    for (const [i, d] of base.entries()) {
      const file = path.join(dir, `disk${i}.qcow2`);
      if (like) await copyFile(like[i].path, file, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
      else await this.qemu.createOverlay(file, d.path, d.format);
      disks.push({ path: file, format: 'qcow2', storageDomain: d.storageDomain });
    }
    return disks;
  }

  /**
   * Makes clones (`make` records their directories), then writes their rows in one
   * transaction; if either fails, the clones' files are removed: no file without a row.
   */
  private async withClones<T>(make: (dirs: string[]) => Promise<void>, write: () => T): Promise<T> {
    const dirs: string[] = [];
    try {
      await make(dirs);
      return this.db.transaction(write)();
    } catch (err) {
      await Promise.all(dirs.map(removeCloneDir));
      throw err;
    }
  }

  /** `table` (vms, pools, templates) gained (or lost) `delta` rows; inside the transaction that changed them. */
  private counted(table: 'vms' | 'pools' | 'templates', delta: number): void {
    if (delta) sql(this.db, 'UPDATE row_counts SET n = n + ? WHERE tbl = ?').run(delta, table);
  }

  /** The VM's row and its disks' owner rows; inside a transaction (the caller counts it). */
  private insertVm(vm: Vm, poolIndex?: number): void {
    this.db
      .prepare('INSERT INTO vms (id, name, status, host_id, pool_id, pool_index, template_id, disks, created_at, marks, os) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(vm.id, vm.name, vm.status, vm.hostId ?? null, vm.poolId ?? null, poolIndex ?? null, vm.templateId ?? null, JSON.stringify(vm.disks), vm.createdAt!, vm.marks ? JSON.stringify(vm.marks) : null, vm.os?.type === 'linux' || vm.os?.type === 'windows' ? vm.os.type : null);
    claimDisks(this.db, paths(vm.disks), { type: 'vm', id: vm.id });
  }

  async cloneVm(input: CloneInput): Promise<Vm> {
    checkName('name', input.name);
    const marks = checkMarks(input.marks);
    const t = await this.templateOrThrow(input.template);
    this.assertFree('vms', input.name);
    const base = await this.templateDisks(t);
    const roots = await this.storageRoots();
    const vm: Vm = { id: randomUUID(), name: input.name, status: input.status, templateId: t.id, disks: [], createdAt: now(), ...(marks && { marks }) };
    return this.withClones(
      async (dirs) => {
        vm.disks = await this.cloneDisks(base, vm.id, roots, dirs);
      },
      () => {
        this.assertFree('vms', vm.name);
        this.insertVm(vm);
        this.counted('vms', 1);
        return vm;
      },
    );
  }

  async importVm(input: { name: string; disks: DiskInput[]; hostId?: string; status: VmStatus; os?: OsType }): Promise<Vm> {
    checkName('name', input.name);
    this.assertFree('vms', input.name);
    const vm: Vm = { id: randomUUID(), name: input.name, status: input.status, hostId: input.hostId, disks: await this.newDisks(input.disks, { hostId: input.hostId }), createdAt: now(), ...(input.os && { os: { type: input.os } }) };
    this.db.transaction(() => {
      this.assertFree('vms', vm.name);
      assertDisksFree(this.db, paths(vm.disks), fields(vm.disks));
      this.insertVm(vm);
      this.counted('vms', 1);
    })();
    return vm;
  }

  async createPool(input: { name: string; template: string; size: number; vmName: (index: number) => string; status: VmStatus }): Promise<{ pool: Pool; vms: Vm[] }> {
    checkName('name', input.name);
    const t = await this.templateOrThrow(input.template);
    this.assertFree('pools', input.name);
    const names = Array.from({ length: input.size }, (_, i) => input.vmName(i + 1));
    names.forEach((n) => checkName('vmNamePattern', n));
    if (new Set(names).size !== names.length) throw new InputError('vmNamePattern', 'gives several VMs the same name: use ${index}');
    const taken = names.filter((n) => sql(this.db, 'SELECT 1 FROM vms WHERE name = ?').get(n));
    if (taken.length) throw new ConflictError('NAME_IN_USE', `VM names already in use: ${taken.slice(0, 5).join(', ')}`, { field: 'vmNamePattern' });

    const base = await this.templateDisks(t);
    const roots = await this.storageRoots();
    const pool = { id: randomUUID(), name: input.name, templateId: t.id };
    const vms: Vm[] = names.map((name) => ({ id: randomUUID(), name, status: input.status, poolId: pool.id, templateId: t.id, disks: [], createdAt: now() }));
    // Disks first (bounded parallelism), rows last in one transaction: a failure leaves no half pool.
    const cloneAll = async (dirs: string[]) => {
      // The first clone by qemu-img, the others copies of it (cloneDisks).
      vms[0].disks = await this.cloneDisks(base, vms[0].id, roots, dirs);
      let next = 1;
      const workers = Array.from({ length: Math.min(CLONE_PARALLELISM, vms.length) }, async () => {
        while (next < vms.length) {
          const vm = vms[next++];
          vm.disks = await this.cloneDisks(base, vm.id, roots, dirs, vms[0].disks);
        }
      });
      // Every worker settles before a failure is reported, so none still writes while the clones are removed.
      const failed = (await Promise.allSettled(workers)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    await this.withClones(cloneAll, () => {
      this.assertFree('pools', pool.name);
      sql(this.db, 'INSERT INTO pools (id, name, template_id, created_at) VALUES (?, ?, ?, ?)').run(pool.id, pool.name, t.id, now());
      vms.forEach((vm, i) => this.insertVm(vm, i + 1));
      this.counted('pools', 1);
      this.counted('vms', vms.length);
    });
    return { pool: { ...pool, vmIds: vms.map((v) => v.id) }, vms };
  }

  async setVmStatus(id: string, status: VmStatus): Promise<Vm> {
    const r = sql(this.db, 'UPDATE vms SET status = ? WHERE id = ?').run(status, id);
    if (r.changes === 0) throw new NotFoundError('VM_NOT_FOUND', `no VM "${id}"`);
    return (await this.getVm(id))!;
  }

  async vmsOfTemplate(templateId: string): Promise<Vm[]> {
    return (sql(this.db, 'SELECT * FROM vms WHERE template_id = ?').all(templateId) as VmRow[]).map(toVm);
  }

  // ---- delete --------------------------------------------------------------------

  /** The VM may go: no active job, not running, not locked for its reset. */
  private assertVmIdle(vm: Vm, activeJob: ActiveJobOf, what = `VM "${vm.name}"`): void {
    const job = activeJob({ type: 'vm', id: vm.id });
    if (job) throw inUse(`${what} has an active job ${job}`, { jobId: job });
    if (vm.status === 'image_locked') throw inUse(`${what} is locked until its automatic reset ends`, { status: vm.status });
    if (vm.status !== 'down' && vm.status !== 'unknown') throw inUse(`${what} is ${vm.status}: stop it first`, { status: vm.status });
  }

  /** Rows of the VMs (inside a transaction): owner rows first, they point at the VM. */
  private deleteVmRows(ids: string[]): void {
    for (const id of ids) {
      sql(this.db, 'DELETE FROM disk_owners WHERE vm_id = ?').run(id);
      sql(this.db, 'DELETE FROM vms WHERE id = ?').run(id);
    }
    this.counted('vms', -ids.length);
  }

  private async removeFiles(vms: Vm[]): Promise<void> {
    const roots = await this.storageRoots();
    for (const vm of vms) if (vm.templateId) await removeCloneFiles(vm.id, vm.disks, roots);
  }

  private vmRow(ref: string): Vm | undefined {
    const r = sql(this.db, 'SELECT * FROM vms WHERE id = ? OR name = ?').get(ref, ref) as VmRow | undefined;
    return r && toVm(r);
  }

  async deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm> {
    const vm = this.db.transaction(() => {
      const v = this.vmRow(ref);
      if (!v) throw new NotFoundError('VM_NOT_FOUND', `no VM "${ref}"`, { field: 'id' });
      this.assertVmIdle(v, activeJob);
      this.deleteVmRows([v.id]);
      return v;
    })();
    await this.removeFiles([vm]);
    return vm;
  }

  async deleteTemplate(ref: string, activeJob: ActiveJobOf): Promise<Template> {
    return this.db.transaction(() => {
      const r = sql(this.db, 'SELECT * FROM templates WHERE id = ? OR name = ?').get(ref, ref) as TemplateRow | undefined;
      if (!r) throw new NotFoundError('TEMPLATE_NOT_FOUND', `no template "${ref}"`, { field: 'id' });
      const t = toTemplate(r);
      const job = activeJob({ type: 'template', id: t.id });
      if (job) throw inUse(`template "${t.name}" has an active job ${job}`, { jobId: job });
      const clones = sql(this.db, 'SELECT name FROM vms WHERE template_id = ? ORDER BY name LIMIT 20').pluck().all(t.id) as string[];
      if (clones.length) throw inUse(`template "${t.name}" backs the disks of VM(s) ${clones.join(', ')}: delete them first`, { vms: clones });
      const pools = sql(this.db, 'SELECT name FROM pools WHERE template_id = ? ORDER BY name LIMIT 20').pluck().all(t.id) as string[];
      if (pools.length) throw inUse(`template "${t.name}" is the template of pool(s) ${pools.join(', ')}: delete them first`, { pools });
      sql(this.db, 'DELETE FROM disk_owners WHERE template_id = ?').run(t.id);
      sql(this.db, 'DELETE FROM templates WHERE id = ?').run(t.id);
      this.counted('templates', -1);
      return t;
    })();
  }

  async deletePool(ref: string, activeJob: ActiveJobOf): Promise<Pool> {
    const { pool, vms } = this.db.transaction(() => {
      const r = sql(this.db, 'SELECT * FROM pools WHERE id = ? OR name = ?').get(ref, ref) as PoolRow | undefined;
      if (!r) throw new NotFoundError('POOL_NOT_FOUND', `no pool "${ref}"`, { field: 'id' });
      const p = this.toPool(r);
      const members = (sql(this.db, 'SELECT * FROM vms WHERE pool_id = ? ORDER BY pool_index').all(p.id) as VmRow[]).map(toVm);
      for (const vm of members) this.assertVmIdle(vm, activeJob, `VM "${vm.name}" of pool "${p.name}"`);
      this.deleteVmRows(members.map((v) => v.id));
      sql(this.db, 'DELETE FROM pools WHERE id = ?').run(p.id);
      this.counted('pools', -1);
      return { pool: p, vms: members };
    })();
    await this.removeFiles(vms);
    return pool;
  }
}
