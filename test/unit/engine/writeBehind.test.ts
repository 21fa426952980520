// WriteBehind under a locked database (fault 18 of the fault suite): a write that fails
// with SQLITE_BUSY loses nothing and never throws from the timer; the rows wait, newer
// writes win, and the next timer stores them once the lock is gone. Real SQLite files.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WriteBehind } from '../../../engine-plugin/jobs/WriteBehind';

describe('WriteBehind with a locked database', () => {
  let dir: string;
  let db: Database.Database;
  let other: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'write-behind-'));
    db = new Database(path.join(dir, 'db'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 20');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)');
    db.prepare("INSERT INTO t VALUES ('a', 'old'), ('b', 'old')").run();
    other = new Database(path.join(dir, 'db'));
  });
  afterEach(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the writes, reports the error from the timer, and stores them once unlocked', async () => {
    const errors: unknown[] = [];
    const wb = new WriteBehind(db as never, 30, (err) => errors.push(err));
    const set = db.prepare('UPDATE t SET v = ? WHERE id = ?');
    other.exec('BEGIN EXCLUSIVE');
    wb.later('a', '', 'value', set, ['first', 'a']);
    await new Promise((r) => setTimeout(r, 150));
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as { code?: string }).code).toMatch(/SQLITE_BUSY/);
    // A newer write of the same kind, made while locked, replaces the waiting one.
    wb.later('a', '', 'value', set, ['second', 'a']);
    wb.later('b', '', 'value', set, ['b-new', 'b']);
    // A read's flush is answered (the read sees what is stored); a strict one throws.
    const reported = errors.length;
    expect(() => wb.flushRows(['a'])).not.toThrow();
    expect(errors.length).toBe(reported + 1);
    expect(() => wb.flushRows(['a'], true)).toThrow(/locked|busy/i);
    expect(wb.pending('a', 'value')).toEqual(['second', 'a']);
    other.exec('COMMIT');
    await new Promise((r) => setTimeout(r, 150));
    expect(db.prepare('SELECT id, v FROM t ORDER BY id').all()).toEqual([{ id: 'a', v: 'second' }, { id: 'b', v: 'b-new' }]);
    expect(wb.pending('a', 'value')).toBeUndefined();
  });

  it('flushScopeKind writes the rows of one scope that have that kind waiting (all their writes), nothing else', () => {
    db.exec("CREATE TABLE w (id TEXT PRIMARY KEY, v TEXT, warn TEXT); INSERT INTO w VALUES ('c1', 'old', NULL), ('c2', 'old', NULL), ('x', 'old', NULL)");
    const wb = new WriteBehind(db as never, 60_000);
    const v = db.prepare('UPDATE w SET v = ? WHERE id = ?');
    const warn = db.prepare('UPDATE w SET warn = ? WHERE id = ?');
    wb.later('c1', 'p', 'progress', v, ['new', 'c1']);
    wb.later('c1', 'p', 'warnings', warn, ['w1', 'c1']);
    wb.later('c2', 'p', 'progress', v, ['new', 'c2']);
    wb.later('x', 'q', 'warnings', warn, ['wx', 'x']);
    wb.flushScopeKind('p', 'warnings');
    expect(db.prepare('SELECT id, v, warn FROM w ORDER BY id').all()).toEqual([{ id: 'c1', v: 'new', warn: 'w1' }, { id: 'c2', v: 'old', warn: null }, { id: 'x', v: 'old', warn: null }]);
    expect([wb.pending('c2', 'progress'), wb.pending('x', 'warnings')]).toEqual([['new', 'c2'], ['wx', 'x']]);
    wb.flushScopes(['p', 'q']);
    expect(db.prepare('SELECT count(*) AS n FROM w WHERE v = ? OR warn IS NOT NULL').get('new')).toEqual({ n: 3 });
  });

  it("the timer writes 100 rows per transaction and gives way between them (a busy pool's second of writes never holds the event loop at once)", async () => {
    db.exec('CREATE TABLE many (id INTEGER PRIMARY KEY, v TEXT)');
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    db.transaction(() => ids.forEach((i) => db.prepare("INSERT INTO many VALUES (?, 'old')").run(i)))();
    const wb = new WriteBehind(db as never, 10);
    // The statement notes each write, and a tick that runs whenever the event loop turns notes 'turn'.
    const log: string[] = [];
    const update = db.prepare('UPDATE many SET v = ? WHERE id = ?');
    const set = { run: (...a: unknown[]) => (log.push('write'), update.run(...a)) };
    for (const i of ids) wb.later(String(i), 'p', 'v', set as never, ['new', i]);
    let ticking = true;
    const tick = () => { log.push('turn'); if (ticking) setImmediate(tick); };
    setImmediate(tick);
    while (log.filter((e) => e === 'write').length < 250) await new Promise((r) => setTimeout(r, 5));
    ticking = false;
    const runs = log.join(' ').split('turn').map((r) => r.trim().split(' ').filter(Boolean).length).filter((n) => n > 0);
    expect(runs).toEqual([100, 100, 50]);
    expect((db.prepare("SELECT count(*) AS n FROM many WHERE v = 'new'").get() as { n: number }).n).toBe(250);
    expect(wb.pending('250', 'v')).toBeUndefined();
  });
});
