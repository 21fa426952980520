// Write-behind of the job store's frequent small updates (dispatch marks, progress,
// final states, bulk aggregates). The latest write of each kind per row waits here; a
// timer writes them all in one transaction, and a read first writes those of the rows
// it reads, so every reader sees what was written.
//
// Writes are grouped by scope: a bulk job's id for its children, '' for top-level jobs.
// A read names its scope (the job list: top-level rows; a page of children: that bulk
// job), so polling the job list under a 5,000-VM pool does not write the pool's children
// thirty times a second. Within a scope writes keep their order.
import type Database from 'better-sqlite3';
import type { Db } from '../db';

export const TOP_SCOPE = '';

interface PendingWrite {
  row: string;
  st: Database.Statement;
  args: unknown[];
}

export class WriteBehind {
  private readonly scopes = new Map<string, Map<string, PendingWrite>>();
  private readonly scopeOfRow = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly delayMs: number,
  ) {}

  /** Queues the latest `kind` write of `row` (it replaces an earlier one, and moves last). */
  later(row: string, scope: string, kind: string, st: Database.Statement, args: unknown[]): void {
    if (this.closed) return;
    let writes = this.scopes.get(scope);
    if (!writes) this.scopes.set(scope, (writes = new Map()));
    const key = `${kind}:${row}`;
    writes.delete(key);
    writes.set(key, { row, st, args });
    this.scopeOfRow.set(row, scope);
    this.timer ??= setTimeout(() => this.flushAll(), this.delayMs).unref();
  }

  /** The arguments of the `kind` write of `row` still waiting, if any. */
  pending(row: string, kind: string): unknown[] | undefined {
    const scope = this.scopeOfRow.get(row);
    return scope === undefined ? undefined : this.scopes.get(scope)?.get(`${kind}:${row}`)?.args;
  }

  drop(row: string, kind: string): void {
    const scope = this.scopeOfRow.get(row);
    if (scope !== undefined) this.scopes.get(scope)?.delete(`${kind}:${row}`);
  }

  /** Writes what waits for `row` (with the rest of its scope). */
  flushRow(row: string): void {
    const scope = this.scopeOfRow.get(row);
    if (scope !== undefined) this.flushScopes([scope]);
  }

  /** Writes what waits in these scopes, in one transaction. */
  flushScopes(scopes: string[]): void {
    const writes: PendingWrite[] = [];
    for (const scope of scopes) {
      const w = this.scopes.get(scope);
      if (!w) continue;
      this.scopes.delete(scope);
      for (const x of w.values()) writes.push(x);
    }
    this.write(writes);
  }

  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const writes = [...this.scopes.values()].flatMap((w) => [...w.values()]);
    this.scopes.clear();
    this.write(writes);
  }

  /** The last writes, then nothing more (the database closes next). */
  close(): void {
    this.flushAll();
    this.closed = true;
  }

  private write(writes: PendingWrite[]): void {
    if (this.scopes.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scopeOfRow.clear();
    } else {
      for (const w of writes) this.scopeOfRow.delete(w.row);
    }
    if (writes.length === 0 || this.closed) return;
    this.db.transaction(() => {
      for (const w of writes) w.st.run(...w.args);
    })();
  }
}
