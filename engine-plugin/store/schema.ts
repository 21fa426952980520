// The engine's schema, one definition for SQLite and PostgreSQL: numbered migrations
// applied in order, each in one transaction (store/migrate.ts). The DDL is written in the
// subset both read; ddlFor() renders the two differences for PostgreSQL:
//   * TEXT columns get the "C" collation: ORDER BY and id ranges sort bytewise, as in SQLite;
//   * `INTEGER PRIMARY KEY AUTOINCREMENT` (jobs.seq, creation order) is an identity column.
// `sqliteData` fills new tables from rows an older engine stored: only a SQLite file can
// hold such rows (a PostgreSQL database starts with this whole list).
import type { Dialect } from './SqlDb';

export type Migration = string | { ddl: string; sqliteData?: string };

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE hosts (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, agent_address TEXT NOT NULL, storage_roots TEXT NOT NULL);
   CREATE TABLE templates (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, disks TEXT NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE pools (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, template_id TEXT, created_at TEXT NOT NULL);
   CREATE TABLE vms (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL, host_id TEXT,
     pool_id TEXT REFERENCES pools(id), pool_index INTEGER, template_id TEXT REFERENCES templates(id),
     disks TEXT NOT NULL, created_at TEXT NOT NULL);
   CREATE INDEX vms_pool ON vms(pool_id, pool_index);
   CREATE INDEX vms_template ON vms(template_id);
   CREATE TABLE profiles (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE jobs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     parent_id TEXT,
     kind TEXT NOT NULL,
     target TEXT NOT NULL,
     vm_key TEXT,
     state TEXT NOT NULL,
     host_id TEXT,
     requested_by TEXT NOT NULL,
     profile TEXT,
     request TEXT NOT NULL,
     operations TEXT NOT NULL,
     disks TEXT,
     has_secrets INTEGER NOT NULL DEFAULT 0,
     dispatched INTEGER NOT NULL DEFAULT 0,
     cancel_requested INTEGER NOT NULL DEFAULT 0,
     agent_seq INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL, started_at TEXT, ended_at TEXT,
     progress TEXT NOT NULL, steps TEXT NOT NULL, error TEXT);
   CREATE INDEX jobs_parent ON jobs(parent_id);
   CREATE INDEX jobs_active ON jobs(state) WHERE state IN ('pending', 'running', 'cancelling');
   CREATE INDEX jobs_vm ON jobs(vm_key, state);`,
  // Pages in order straight from an index (a 5,000-VM pool must not sort per request).
  `DROP INDEX jobs_parent;
   CREATE INDEX jobs_parent_seq ON jobs(parent_id, seq);
   CREATE INDEX jobs_parent_state_seq ON jobs(parent_id, state, seq);
   CREATE INDEX vms_created ON vms(created_at, id);
   CREATE INDEX templates_created ON templates(created_at, id);
   CREATE INDEX pools_created ON pools(created_at, id);`,
  // A disk (by resolved path) belongs to one VM or one template (inventory/DiskOwners.ts).
  // Filled from the rows already there; a disk an older engine let two owners share stays
  // with its first owner, templates first (the one whose clones it backs).
  { ddl: `CREATE TABLE disk_owners (
     path TEXT NOT NULL PRIMARY KEY,
     vm_id TEXT REFERENCES vms(id),
     template_id TEXT REFERENCES templates(id),
     CHECK ((vm_id IS NULL) <> (template_id IS NULL)));
   CREATE INDEX disk_owners_vm ON disk_owners(vm_id);
   CREATE INDEX disk_owners_template ON disk_owners(template_id);`,
    // Rows of engines before PostgreSQL support: a SQLite file only.
    sqliteData: `INSERT OR IGNORE INTO disk_owners (path, template_id)
     SELECT json_extract(d.value, '$.path'), t.id FROM templates t, json_each(t.disks) d
     WHERE json_type(d.value, '$.path') = 'text' ORDER BY t.created_at, t.id, d.key;
   INSERT OR IGNORE INTO disk_owners (path, vm_id)
     SELECT json_extract(d.value, '$.path'), v.id FROM vms v, json_each(v.disks) d
     WHERE json_type(d.value, '$.path') = 'text' ORDER BY v.created_at, v.id, d.key;` },
  // A VM's marks (VmCloning: JSON object of labels, NULL: none), the snapshot its disks last
  // came from, and what qemu-img keeps no field for: a snapshot's description and time
  // (inventory/EmbeddedSnapshots.ts; the snapshots themselves are in the disks' tables).
  `ALTER TABLE vms ADD COLUMN marks TEXT;
   ALTER TABLE vms ADD COLUMN current_snapshot TEXT;
   CREATE TABLE vm_snapshots (
     vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     description TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (vm_id, name));`,
  // The inspection cache (inspection/InspectionStore.ts): the last inspection of a VM or
  // template (`vm:ID` / `template:ID`), valid while its disks' generations are unchanged.
  `CREATE TABLE inspections (
     target_key TEXT PRIMARY KEY,
     job_id TEXT NOT NULL,
     inspected_at TEXT NOT NULL,
     result TEXT NOT NULL);`,
  // A leaf's warnings (JSON list of {message, field?}; NULL: none): the run's `warning:`
  // lines as its agent reported them (issue 15).
  `ALTER TABLE jobs ADD COLUMN warnings TEXT;`,
  // The guest OS an imported VM is declared with (POST /vms `os`: linux | windows; NULL: unknown).
  `ALTER TABLE vms ADD COLUMN os TEXT;`,
  // What a leaf produced besides its state (JSON, NULL: nothing): a sparsify job's bytes
  // before, after and saved (Job.result, issue 15).
  `ALTER TABLE jobs ADD COLUMN result TEXT;`,
  // Retention (retention/JobPruner.ts): the oldest ended top-level jobs, straight from an index.
  `CREATE INDEX IF NOT EXISTS jobs_top_ended ON jobs(ended_at) WHERE parent_id IS NULL AND ended_at IS NOT NULL;`,
  // oVirt's event cursor, its external jobs and the VMs waiting for their reset
  // (ovirt/OvirtStateStore.ts); made by that store itself before there were migrations for it.
  `CREATE TABLE IF NOT EXISTS ovirt_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS ovirt_jobs (engine_job_id TEXT PRIMARY KEY, ovirt_job_id TEXT NOT NULL, steps TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS ovirt_pending (vm_id TEXT PRIMARY KEY, trigger TEXT NOT NULL, event_index INTEGER NOT NULL, seen_at TEXT NOT NULL);`,
  // Where the engine that dispatches answers (standby/Leadership.ts): one row, written by
  // each new leader; standby engines forward to it.
  `CREATE TABLE engine_leader (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, engine TEXT NOT NULL, since TEXT NOT NULL);`,
  // The dispatcher's backlog (dispatch/Dispatcher.ts): leaves no host has taken yet, in
  // creation order, read a page at a time; the predicate is JobStore's BACKLOG, word for word.
  // A bulk job's warning count (GET /jobs/{id}) reads only the children that have warnings.
  `CREATE INDEX jobs_backlog ON jobs(seq) WHERE state = 'pending' AND host_id IS NULL AND vm_key IS NOT NULL AND kind <> 'inspect';
   CREATE INDEX jobs_child_warnings ON jobs(parent_id) WHERE warnings IS NOT NULL;`,
  // How many VMs, pools and templates there are (EmbeddedInventory keeps them in the
  // transaction that adds or removes rows): a listing's total is one row, not a count(*)
  // of 100,000 VMs per page (PostgreSQL counts every visible row: 10 ms idle).
  `CREATE TABLE row_counts (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL);
   INSERT INTO row_counts (tbl, n) SELECT 'vms', count(*) FROM vms;
   INSERT INTO row_counts (tbl, n) SELECT 'pools', count(*) FROM pools;
   INSERT INTO row_counts (tbl, n) SELECT 'templates', count(*) FROM templates;`,
];

/** The statements of migration `m` for `dialect`. */
export function migrationSql(m: Migration, dialect: Dialect): string {
  const { ddl, sqliteData } = typeof m === 'string' ? { ddl: m, sqliteData: undefined } : m;
  if (dialect.name === 'sqlite') return sqliteData ? `${ddl}\n${sqliteData}` : ddl;
  return ddl
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}
