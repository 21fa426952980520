// How long `ovirt-sysprep-engine --copy-database-to` takes (not part of npm test): a SQLite
// engine database with a pool of N VMs (default 100,000), its bulk job and one child job per
// VM, is copied into a new PostgreSQL database (a server the benchmark starts), then back
// into a new SQLite file, side by side in one run. The rows are SYNTHETIC, written with SQL
// at the sizes a real engine writes (JSON of a request, steps and progress); the copy is the
// real code (store/copyDatabase.ts) on real databases.
// Run: npm run build && node dist/bench/copy-database.js [VMS=100000]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db, openDb } from '../engine-plugin/db';
import { copyDatabase } from '../engine-plugin/store/copyDatabase';
import { startPostgres } from '../test/helpers/postgres';

function fill(db: Db, vms: number): number {
  const now = new Date().toISOString();
  const disks = (p: string) => JSON.stringify([{ path: p, format: 'qcow2' }]);
  const steps = JSON.stringify([{ name: 'lease', state: 'done' }, { name: 'overlay', state: 'done' }, { name: 'virt-sysprep', state: 'done' }, { name: 'commit', state: 'done' }]);
  const operations = ['machine-id', 'ssh-hostkeys', 'net-hwaddr', 'dhcp-client-state', 'logfiles'];
  const request = JSON.stringify({ operations: { only: operations }, params: { hostname: '${pool}-${index}' }, mode: 'safe' });
  db.transaction(() => {
    db.prepare('INSERT INTO templates (id, name, disks, created_at) VALUES (?, ?, ?, ?)').run('t1', 'golden', disks('/var/lib/images/golden.qcow2'), now);
    db.prepare('INSERT INTO pools (id, name, template_id, created_at) VALUES (?, ?, ?, ?)').run('p1', 'room', 't1', now);
    db.prepare(`INSERT INTO jobs (id, kind, target, state, requested_by, request, operations, created_at, ended_at, progress, steps)
                VALUES ('bulk', 'bulk', 'pool:p1', 'succeeded', 'alice', ?, '[]', ?, ?, '{"percent":100}', '[]')`).run(request, now, now);
    const vm = db.prepare('INSERT INTO vms (id, name, status, pool_id, pool_index, template_id, disks, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const owner = db.prepare('INSERT INTO disk_owners (path, vm_id) VALUES (?, ?)');
    const job = db.prepare(`INSERT INTO jobs (id, parent_id, kind, target, vm_key, state, host_id, requested_by, request, operations, disks, dispatched, agent_seq, created_at, started_at, ended_at, progress, steps)
                            VALUES (?, 'bulk', 'sysprep', ?, ?, 'succeeded', 'host1', 'alice', ?, ?, ?, 1, 42, ?, ?, ?, ?, ?)`);
    for (let i = 1; i <= vms; i++) {
      const id = randomUUID();
      const disk = `/var/lib/images/vms/${id}/disk0.qcow2`;
      vm.run(id, `room-${i}`, 'down', 'p1', i, 't1', disks(disk), now);
      owner.run(disk, id);
      job.run(randomUUID(), `vm:${id}`, `vm:${id}`, request, JSON.stringify(operations), disks(disk), now, now, now,
        JSON.stringify({ percent: 100, phase: 'done', message: 'committed' }), steps);
    }
    db.prepare("UPDATE row_counts SET n = ? WHERE tbl = 'vms'").run(vms);
    db.prepare("UPDATE row_counts SET n = 1 WHERE tbl IN ('pools', 'templates')").run();
  })();
  return 3 * vms + 3;
}

function timed(label: string, from: Db, to: Db, rows: number): number {
  const started = process.hrtime.bigint();
  const copied = copyDatabase(from, to).reduce((n, t) => n + t.rows, 0);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  if (copied < rows) throw new Error(`${label}: copied ${copied} rows of ${rows}`);
  process.stdout.write(`${label.padEnd(22)} ${copied} rows in ${s.toFixed(1)} s: ${Math.round(copied / s)} rows/s\n`);
  return s;
}

async function main(): Promise<void> {
  const vms = Number(process.argv[2] ?? 100_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'copy-bench-'));
  const pg = await startPostgres();
  try {
    const sqlite = openDb('sqlite:engine.db', dir);
    const rows = fill(sqlite, vms);
    process.stdout.write(`a pool of ${vms} VMs, its bulk job and ${vms} child jobs: ${rows} rows (SYNTHETIC rows, real copy)\n`);
    const postgres = openDb(await pg.createDatabase('copy'), dir);
    const there = timed('SQLite -> PostgreSQL', sqlite, postgres, rows);
    const back = openDb('sqlite:back.db', dir);
    const again = timed('PostgreSQL -> SQLite', postgres, back, rows);
    process.stdout.write(`ratio PostgreSQL -> SQLite / SQLite -> PostgreSQL: ${(again / there).toFixed(2)}\n`);
    for (const db of [sqlite, postgres, back]) db.close();
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
