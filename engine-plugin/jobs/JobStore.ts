// Job records in engine.db. Writes are small single-row updates through prepared
// statements (the dispatcher's hot path); a bulk job and its children are inserted in
// one transaction so a restart never sees half a job.
import { inject, injectable } from 'tsyringe';
import { Db, sql } from '../db';
import type { Dialect, Statement } from '../store/SqlDb';
import { chunks, RowsInsert } from '../store/rowsInsert';
import { Logger } from '../logger';
import type { ChildSummary, Job, JobErrorInfo, JobKind, JobResult, JobState, JobWarning, LeafJob, Progress, Step } from './Job';
import { Slicer } from '../slicer';
import { TOP_SCOPE, WriteBehind } from './WriteBehind';

interface Row {
  seq: number; id: string; parent_id: string | null; kind: string; target: string; vm_key: string | null; state: string;
  host_id: string | null; requested_by: string; profile: string | null; request: string; operations: string; disks: string | null;
  has_secrets: number; dispatched: number; cancel_requested: number; agent_seq: number;
  created_at: string; started_at: string | null; ended_at: string | null; progress: string; steps: string; error: string | null;
  warnings: string | null;
  result?: string | null;
}

/** Children inlined in a bulk job by default; more with ?children=N or GET /jobs/{id}/children. */
export const DEFAULT_CHILD_LIMIT = 200;
const FLUSH_MS = 1000;

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toJob(r: Row): Job {
  return {
    id: r.id,
    parentId: opt(r.parent_id),
    kind: r.kind as Job['kind'],
    target: JSON.parse(r.target),
    state: r.state as JobState,
    host: opt(r.host_id),
    requestedBy: r.requested_by,
    profile: opt(r.profile),
    request: JSON.parse(r.request),
    operations: JSON.parse(r.operations),
    createdAt: r.created_at,
    startedAt: opt(r.started_at),
    endedAt: opt(r.ended_at),
    progress: JSON.parse(r.progress),
    steps: JSON.parse(r.steps),
    error: r.error ? JSON.parse(r.error) : undefined,
    ...(r.warnings ? { warnings: JSON.parse(r.warnings) } : {}),
    ...(r.result ? { result: JSON.parse(r.result) } : {}),
  };
}

function toLeaf(r: Row): LeafJob {
  return {
    ...toJob(r),
    disks: r.disks ? JSON.parse(r.disks) : [],
    vmKey: r.vm_key ?? '',
    hasSecrets: r.has_secrets === 1,
    dispatched: r.dispatched === 1,
    cancelRequested: r.cancel_requested === 1,
    agentSeq: r.agent_seq,
  };
}

export type NewJob = Omit<Job, 'children' | 'startedAt' | 'endedAt' | 'host'> & {
  host?: string;
  disks?: LeafJob['disks'];
  vmKey?: string;
  hasSecrets?: boolean;
  endedAt?: string;
};

/** A job as the write-behind needs to know it: its row and its bulk job, if any. */
export type JobRef = Pick<Job, 'id' | 'parentId'>;

export interface JobQuery {
  state?: JobState;
  kind?: string;
  /** A VM id: top-level jobs that worked on it, directly or as a child. */
  vm?: string;
  limit?: number;
  cursor?: string;
}

@injectable()
export class JobStore {
  private readonly stmt;
  private readonly inserts: RowsInsert;
  /** Bulk rows inserted before the last ANALYZE and since (analyzeAfter). */
  private readonly inserted = { before: 0, since: 0 };
  /**
   * The dispatcher's frequent writes (dispatch marks, progress, final states, bulk
   * aggregates) are written behind (WriteBehind): at most FLUSH_MS later, and before a
   * read of their rows, so readers always see what was written. A crash loses at most
   * FLUSH_MS of them, and each is recovered: on start the engine asks the agents how
   * their jobs stand (the agent replays the final state), and StartSysprep under the
   * engine's job id is idempotent. Job creation, hosts and cancel requests are written
   * at once.
   */
  private readonly writes: WriteBehind;

  constructor(@inject(Db) private readonly db: Db, @inject(Logger) log?: Logger) {
    this.writes = new WriteBehind(db, FLUSH_MS, (err, rows) =>
      log?.error('job writes could not be stored; they wait and are tried again', { error: err instanceof Error ? err.message : String(err), rows }),
    );
    this.inserts = new RowsInsert(db, 'jobs', INSERT_COLUMNS);
    const p = (sql: string) => db.prepare(sql);
    const d = db.dialect;
    const SUMMARY_COLUMNS = summaryColumns(d);
    this.stmt = {
      get: p('SELECT * FROM jobs WHERE id = ?'),
      getMany: p(`SELECT * FROM jobs WHERE id IN (${d.jsonStrings('?')})`),
      idRange: p('SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?').pluck(),
      childPage: p(`SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE parent_id = ? ORDER BY seq LIMIT ? OFFSET ?`),
      childIds: p('SELECT id FROM jobs WHERE parent_id = ? ORDER BY seq LIMIT ? OFFSET ?').pluck(),
      childPageByState: p(`SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE parent_id = ? AND state = ? ORDER BY seq LIMIT ? OFFSET ?`),
      childCount: p('SELECT count(*) FROM jobs WHERE parent_id = ?'),
      childCountByState: p('SELECT count(*) FROM jobs WHERE parent_id = ? AND state = ?'),
      childStates: p('SELECT state, count(*) AS n FROM jobs WHERE parent_id = ? GROUP BY state'),
      childWarnings: p(`SELECT coalesce(sum(${d.jsonArrayLength('warnings')}), 0) FROM jobs WHERE parent_id = ? AND warnings IS NOT NULL`).pluck(),
      activeByKey: p(`SELECT id FROM jobs WHERE vm_key = ? AND state IN ('pending', 'running', 'cancelling') LIMIT 1`),
      activeByKeys: p(`SELECT vm_key, id FROM jobs WHERE vm_key IN (${d.jsonStrings('?')}) AND state IN ('pending', 'running', 'cancelling')`),
      activeOfKind: p(`SELECT * FROM jobs WHERE vm_key IS NOT NULL AND kind = ? AND state IN ('pending', 'running', 'cancelling') ORDER BY seq`),
      // A leaf with a stored parent, or none (a single job is its own): no OR, which
      // PostgreSQL answered with a hash of every job id (30 ms a read at 100,000 jobs).
      backlog: p(`SELECT * FROM jobs j WHERE ${BACKLOG} AND seq > ?
                  AND EXISTS (SELECT 1 FROM jobs p WHERE p.id = coalesce(j.parent_id, j.id)) ORDER BY seq LIMIT ?`),
      taken: p(`SELECT * FROM jobs WHERE vm_key IS NOT NULL AND kind <> 'inspect' AND state IN ('pending', 'running', 'cancelling')
                AND NOT (${BACKLOG}) AND seq > ? ORDER BY seq LIMIT ?`),
      activeChildren: p(`SELECT * FROM jobs WHERE parent_id = ? AND state IN ('pending', 'running', 'cancelling') AND seq > ? ORDER BY seq LIMIT ?`),
      activeParents: p(`SELECT * FROM jobs WHERE vm_key IS NULL AND state IN ('pending', 'running', 'cancelling') ORDER BY seq`),
      ended: p('SELECT ended_at FROM jobs WHERE id = ?'),
      kind: p('SELECT kind, started_at FROM jobs WHERE id = ?'),
      setHost: p(`UPDATE jobs SET host_id = ? WHERE id IN (${d.jsonStrings('?')})`),
      dispatched: p('UPDATE jobs SET dispatched = 1 WHERE id = ?'),
      cancelRequested: p('UPDATE jobs SET cancel_requested = 1, state = CASE WHEN state IN (\'pending\', \'running\') THEN \'cancelling\' ELSE state END WHERE id = ?'),
      // State apart from progress: a write that names `state` updates three indexes.
      state: p('UPDATE jobs SET state = ?, started_at = coalesce(started_at, ?) WHERE id = ?'),
      progress: p(`UPDATE jobs SET progress = ?, steps = ?, agent_seq = ${d.greatest('agent_seq', '?')} WHERE id = ?`),
      finish: p(`UPDATE jobs SET state = ?, started_at = coalesce(started_at, ?), ended_at = ?, error = ?, progress = ?, steps = ?, agent_seq = ${d.greatest('agent_seq', '?')} WHERE id = ?`),
      parent: p('UPDATE jobs SET state = ?, started_at = coalesce(started_at, ?), ended_at = ?, progress = ?, error = ? WHERE id = ?'),
      steps: p('UPDATE jobs SET steps = ? WHERE id = ?'),
      warnings: p('UPDATE jobs SET warnings = ? WHERE id = ?'),
      result: p('UPDATE jobs SET result = ? WHERE id = ?'),
    };
  }

  insert(jobs: readonly NewJob[]): void {
    this.db.transaction(() => this.insertRows(jobs))();
  }

  /** Rows of `jobs`, several per statement (RowsInsert); inside a transaction. */
  private insertRows(jobs: readonly NewJob[]): void {
    this.inserts.run(jobs.map(rowValues));
  }

  /** The job; a bulk job with its first `childLimit` children summarised and their total. */
  get(id: string, childLimit = DEFAULT_CHILD_LIMIT): Job | undefined {
    this.writes.flushRows([id]);
    const r = this.stmt.get.get(id) as Row | undefined;
    if (!r) return undefined;
    const job = toJob(r);
    if (!r.vm_key) {
      this.flushChildPage(id, childLimit, 0);
      job.children = (this.stmt.childPage.all(id, childLimit, 0) as Row[]).map(summary);
      job.childrenTotal = job.progress.total; // a bulk job's total is its number of children
      // The count reads only warnings: the children's other writes wait on (a poll of a
      // running pool would otherwise write the whole pool's progress at every request).
      this.writes.flushScopeKind(id, 'warnings');
      const warnings = this.stmt.childWarnings.get(id) as number;
      if (warnings) job.warningCount = warnings;
    }
    return job;
  }

  /** A page of a bulk job's children, in creation order, optionally of one state. */
  children(parentId: string, q: { state?: JobState; limit?: number; cursor?: string } = {}): { items: ChildSummary[]; total: number; next?: string } {
    const limit = Math.min(Math.max(q.limit ?? 500, 1), 5000);
    const offset = Number.parseInt(q.cursor ?? '0', 10) || 0;
    this.flushChildPage(parentId, limit, offset, q.state);
    const rows = (q.state ? this.stmt.childPageByState.all(parentId, q.state, limit, offset) : this.stmt.childPage.all(parentId, limit, offset)) as Row[];
    const total = (q.state ? this.stmt.childCountByState.pluck().get(parentId, q.state) : this.stmt.childCount.pluck().get(parentId)) as number;
    return { items: rows.map(summary), total, next: offset + rows.length < total ? String(offset + rows.length) : undefined };
  }

  /**
   * Writes what waits for the children a page shows. A page by state depends on every
   * child's state: then the whole bulk job's writes go first.
   */
  private flushChildPage(parentId: string, limit: number, offset: number, state?: JobState): void {
    if (limit === 0 || !this.writes.hasScope(parentId)) return;
    if (state) this.writes.flushScopes([parentId]);
    else this.writes.flushRows(this.stmt.childIds.all(parentId, limit, offset) as string[]);
  }

  /**
   * A bulk job is stored without blocking the API for long, and a page of its children at
   * a time (the engine never holds a 100,000-VM pool in memory): the children go first
   * (insertChildren, in slices of one transaction each), the parent last, in a transaction
   * of its own: the parent's row is the commit point. Until it is stored nothing reads the
   * children as a job (the API finds them through their parent, the dispatcher's backlog
   * and a restart take only children whose parent exists); a bulk job refused half way
   * removes them (removeChildren), and a crash leaves orphans, which removeOrphans()
   * deletes at start.
   */
  async insertChildren(children: readonly NewJob[]): Promise<void> {
    await new Slicer().forEach(chunks(children), (c) => this.inserts.chunk(c.map(rowValues)), (slice) => this.db.transaction(slice)());
    this.analyzeAfter(children.length);
  }

  /**
   * The planner's statistics after big bulk inserts (PostgreSQL): autovacuum analyses a
   * table about a minute after it grew, and until then the plans of reads by a list of VM
   * keys took 12-14 ms instead of 0.2 at 100,000 new rows (measured). Analysed once the
   * rows inserted since the last time reach both 10,000 and what was inserted before
   * (a log of the growth: 5 times for a 100,000-VM pool in a new database).
   */
  private analyzeAfter(rows: number): void {
    const statement = this.db.dialect.analyze('jobs');
    if (!statement) return;
    this.inserted.since += rows;
    if (this.inserted.since < Math.max(ANALYZE_ROWS, this.inserted.before)) return;
    this.inserted.before += this.inserted.since;
    this.inserted.since = 0;
    this.db.exec(statement);
  }

  /** insertChildren, then the parent: the whole bulk job at once (tests, small jobs). */
  async insertBulk(parent: NewJob, children: readonly NewJob[]): Promise<void> {
    await this.insertChildren(children);
    this.insert([parent]);
  }

  /** The children of a bulk job whose parent was never stored (refused half way). */
  removeChildren(parentId: string): void {
    sql(this.db, 'DELETE FROM jobs WHERE parent_id = ? AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.id = ?)').run(parentId, parentId);
  }

  /** Start-up: children of a bulk insert that never completed. */
  removeOrphans(): number {
    return sql(this.db, 'DELETE FROM jobs WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM jobs)').run().changes;
  }

  /**
   * Retention (retention/JobPruner.ts): up to `limit` top-level jobs that ended before
   * `cutoff` (ISO time), oldest first. A bulk job counts only once it has ended and none
   * of its children is active; a child is never chosen on its own: it goes with its parent.
   */
  endedBefore(cutoff: string, limit: number): string[] {
    this.writes.flushScopes([TOP_SCOPE]);
    // The planner would take (parent_id) for `parent_id IS NULL` and sort every top-level job.
    return sql(this.db, `SELECT id FROM jobs j ${this.db.dialect.indexedBy('jobs_top_ended')} WHERE ${PRUNABLE} ORDER BY ended_at LIMIT @limit`).pluck().all({ cutoff, limit }) as string[];
  }

  /**
   * Deletes ended jobs (endedBefore) in ONE transaction of at most `maxRows` rows: each
   * job's children first, the job itself last, as insertBulk stores them the other way
   * round: a job cut short by the budget (or a crash) stays listed, with fewer children,
   * until a later call finishes it. A job no longer prunable (unknown, or active again)
   * is skipped. Returns the rows deleted and the jobs not yet finished, in order.
   */
  deleteEnded(ids: readonly string[], cutoff: string, maxRows: number): { rows: number; jobs: number; rest: string[] } {
    const prunable = sql(this.db, `SELECT 1 FROM jobs j WHERE id = @id AND ${PRUNABLE}`).pluck();
    const children = sql(this.db, 'DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE parent_id = ? ORDER BY seq LIMIT ?)');
    const job = sql(this.db, 'DELETE FROM jobs WHERE id = ?');
    return this.db.transaction(() => {
      let rows = 0;
      let jobs = 0;
      let i = 0;
      for (; i < ids.length && rows < maxRows; i++) {
        if (!prunable.get({ id: ids[i], cutoff })) continue;
        rows += children.run(ids[i], maxRows - rows).changes;
        if (rows >= maxRows) break; // its children may not all be gone: this job again next time
        rows += job.run(ids[i]).changes;
        jobs++;
      }
      return { rows, jobs, rest: ids.slice(i) };
    })();
  }

  /** Runs `fn` in one transaction (many small writes, one commit). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The job without its children. */
  header(id: string): Job | undefined {
    this.writes.flushRows([id]);
    const r = this.stmt.get.get(id) as Row | undefined;
    return r && toJob(r);
  }

  /** header() of each of `ids` (those that exist), in one read. */
  headers(ids: readonly string[]): Map<string, Job> {
    if (!ids.length) return new Map();
    this.writes.flushRows(ids);
    return new Map((this.stmt.getMany.all(JSON.stringify(ids)) as Row[]).map((r) => [r.id, toJob(r)]));
  }

  /** `fresh = false` skips flushing pending progress (states and hosts are never pending). */
  leaf(id: string, fresh = true): LeafJob | undefined {
    if (fresh) this.writes.flushRows([id]);
    const r = this.stmt.get.get(id) as Row | undefined;
    return r?.vm_key ? toLeaf(r) : undefined;
  }

  /** Top-level jobs, newest first. */
  list(q: JobQuery = {}): { items: Job[]; next?: string; total: number } {
    this.writes.flushScopes([TOP_SCOPE]);
    const where = ['parent_id IS NULL'];
    const args: unknown[] = [];
    if (q.state) { where.push('state = ?'); args.push(q.state); }
    if (q.kind) { where.push('kind = ?'); args.push(q.kind); }
    if (q.vm) {
      where.push(`(vm_key = ? OR id IN (SELECT parent_id FROM jobs WHERE vm_key = ?))`);
      args.push(`vm:${q.vm}`, `vm:${q.vm}`);
    }
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    const offset = Number.parseInt(q.cursor ?? '0', 10) || 0;
    const from = `FROM jobs WHERE ${where.join(' AND ')}`;
    const rows = sql(this.db, `SELECT * ${from} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as Row[];
    const total = (sql(this.db, `SELECT count(*) AS n ${from}`).get(...args) as { n: number }).n;
    return { items: rows.map(toJob), total, next: offset + rows.length < total ? String(offset + rows.length) : undefined };
  }

  /** Whether the job has ended (its final state written or waiting to be). */
  hasEnded(id: string): boolean {
    return this.endsBehind(id) || !!this.stmt.ended.pluck().get(id);
  }

  /**
   * A job's kind and its start as stored, without flushing the write-behind (the metrics
   * read it at every ending: a flush there would cost a transaction per job). The kind
   * never changes; the start may still wait in the write-behind (undefined then).
   */
  kindOf(id: string): { kind: JobKind; startedAt?: string } | undefined {
    const r = this.stmt.kind.get(id) as { kind: JobKind; started_at: string | null } | undefined;
    return r && { kind: r.kind, startedAt: opt(r.started_at) };
  }

  /** Up to `limit` job ids that start with `prefix`, in id order (the primary key's index answers it). */
  idsStartingWith(prefix: string, limit: number): string[] {
    return this.stmt.idRange.all(prefix, `${prefix}\uffff`, limit) as string[];
  }

  /** activeJobFor() of each of `vmKeys` that has an active job. */
  activeJobsFor(vmKeys: readonly string[]): Map<string, string> {
    if (!vmKeys.length) return new Map();
    const rows = this.stmt.activeByKeys.all(JSON.stringify(vmKeys)) as { vm_key: string; id: string }[];
    return new Map(rows.filter((r) => !this.endsBehind(r.id)).map((r) => [r.vm_key, r.id]));
  }

  /** The active job on `vmKey` (`vm:ID`, `template:ID`), if any. */
  activeJobFor(vmKey: string): string | undefined {
    const id = (this.stmt.activeByKey.get(vmKey) as { id: string } | undefined)?.id;
    return id && !this.endsBehind(id) ? id : undefined;
  }

  /** A job whose ending waits in the write-behind: stored as active, ended already. */
  private endsBehind(id: string): boolean {
    return this.writes.pending(id, 'finish') !== undefined;
  }

  /** Active leaves of one kind (inspections: the dispatcher never runs them). */
  activeOfKind(kind: JobKind): LeafJob[] {
    this.flush();
    return (this.stmt.activeOfKind.all(kind) as Row[]).map(toLeaf);
  }

  /**
   * Up to `limit` leaves of the backlog after `afterSeq`, oldest first: pending leaves no
   * host has taken (the dispatcher takes them a page at a time), of stored jobs only.
   * A leaf whose ending still waits in the write-behind is left out.
   */
  backlog(afterSeq: number, limit: number): LeafPage {
    const rows = this.stmt.backlog.all(afterSeq, limit) as Row[];
    return pageOf(rows.filter((r) => !this.writes.pending(r.id, 'finish')), rows, afterSeq, limit);
  }

  /** Active leaves the dispatcher had taken (a host chosen, or a cancel to finish), for a restart, a page at a time. */
  taken(afterSeq: number, limit: number): LeafPage {
    this.flush();
    const rows = this.stmt.taken.all(afterSeq, limit) as Row[];
    return pageOf(rows, rows, afterSeq, limit);
  }

  /** A bulk job's children that have not ended, a page at a time. */
  activeChildren(parentId: string, afterSeq: number, limit: number): LeafPage {
    this.writes.flushScopes([parentId]);
    const rows = this.stmt.activeChildren.all(parentId, afterSeq, limit) as Row[];
    return pageOf(rows, rows, afterSeq, limit);
  }

  activeParents(): Job[] {
    this.flush();
    return (this.stmt.activeParents.all() as Row[]).map(toJob);
  }

  childStateCounts(parentId: string): Map<JobState, number> {
    this.writes.flushScopes([parentId]);
    const rows = this.stmt.childStates.all(parentId) as { state: JobState; n: number }[];
    return new Map(rows.map((r) => [r.state, r.n]));
  }

  /** The host of these jobs, in one write. */
  setHost(ids: readonly string[], host: string): void {
    this.stmt.setHost.run(host, JSON.stringify(ids));
  }
  markDispatched(job: JobRef): void {
    this.later(job, 'dispatched', this.stmt.dispatched, [job.id]);
  }
  requestCancel(id: string): void {
    this.writes.flushRows([id], true);
    this.stmt.cancelRequested.run(id);
  }
  /** A running leaf's new state; the first one sets its start time. */
  setState(job: JobRef, state: JobState, at: string): void {
    const startedAt = this.writes.pending(job.id, 'state')?.[1] ?? at; // the first change's time, not the latest's
    this.later(job, 'state', this.stmt.state, [state, startedAt, job.id]);
  }
  setProgress(job: JobRef, progress: Progress, steps: Step[], agentSeq: number): void {
    this.later(job, 'progress', this.stmt.progress, [JSON.stringify(progress), JSON.stringify(steps), agentSeq, job.id]);
  }
  /** A leaf's final state: it makes its waiting dispatch mark, state and progress useless. */
  finish(job: JobRef, state: JobState, at: string, error: JobErrorInfo | undefined, progress: Progress, steps: Step[], agentSeq = 0): void {
    const startedAt = this.writes.pending(job.id, 'state')?.[1] ?? null;
    this.writes.drop(job.id, 'dispatched', 'state', 'progress');
    this.later(job, 'finish', this.stmt.finish, [state, startedAt, at, error ? JSON.stringify(error) : null, JSON.stringify(progress), JSON.stringify(steps), agentSeq, job.id]);
  }
  /** What a leaf produced (a sparsify job's bytes), written with its ending. */
  setResult(job: JobRef, result: JobResult): void {
    this.later(job, 'result', this.stmt.result, [JSON.stringify(result), job.id]);
  }
  /** An ended leaf's steps after its end (a room's follow-up steps: JobLifecycle.followUpStep). */
  setSteps(job: JobRef, steps: Step[]): void {
    this.later(job, 'steps', this.stmt.steps, [JSON.stringify(steps), job.id]);
  }
  /** A leaf's warnings so far (the whole list). */
  setWarnings(job: JobRef, warnings: JobWarning[]): void {
    this.later(job, 'warnings', this.stmt.warnings, [JSON.stringify(warnings), job.id]);
  }
  /** A bulk job's aggregate (`endedAt` and `error` once final). */
  updateParent(id: string, state: JobState, startedAt: string | null, endedAt: string | null, progress: Progress, error?: JobErrorInfo): void {
    this.later({ id }, 'parent', this.stmt.parent, [state, startedAt, endedAt, JSON.stringify(progress), error ? JSON.stringify(error) : null, id]);
  }

  /** Engine stop: the last pending writes, then nothing more (the database closes next). */
  close(): void {
    this.writes.close();
  }

  /** Writes everything pending, in one transaction. */
  flush(): void {
    this.writes.flushAll();
  }

  private later(job: JobRef, kind: string, st: Statement, args: unknown[]): void {
    this.writes.later(job.id, job.parentId ?? TOP_SCOPE, kind, st, args);
  }
}

/** Bulk rows inserted before the first ANALYZE (analyzeAfter). */
const ANALYZE_ROWS = 10_000;

/** The columns a new job's row is inserted with (rowValues gives them in this order). */
const INSERT_COLUMNS = ['id', 'parent_id', 'kind', 'target', 'vm_key', 'state', 'host_id', 'requested_by', 'profile', 'request', 'operations', 'disks',
  'has_secrets', 'created_at', 'ended_at', 'progress', 'steps', 'error'] as const;

/** A new job's values in INSERT_COLUMNS order. */
function rowValues(j: NewJob): unknown[] {
  return [
    j.id, j.parentId ?? null, j.kind, JSON.stringify(j.target), j.vmKey ?? null, j.state, j.host ?? null, j.requestedBy, j.profile ?? null,
    JSON.stringify(j.request), JSON.stringify(j.operations), j.disks ? JSON.stringify(j.disks) : null, j.hasSecrets ? 1 : 0, j.createdAt,
    j.endedAt ?? null, JSON.stringify(j.progress), JSON.stringify(j.steps), j.error ? JSON.stringify(j.error) : null,
  ];
}

/** A leaf waiting for the dispatcher to take it: the jobs_backlog index's predicate, word for word. */
const BACKLOG = `state = 'pending' AND host_id IS NULL AND vm_key IS NOT NULL AND kind <> 'inspect'`;

/** A page of leaves read by seq (keyset): `after` is the next page's start, `more` whether there may be one. */
export interface LeafPage {
  leaves: LeafJob[];
  after: number;
  more: boolean;
}

const pageOf = (kept: Row[], read: Row[], afterSeq: number, limit: number): LeafPage => ({
  leaves: kept.map(toLeaf),
  after: read.length ? read[read.length - 1].seq : afterSeq,
  more: read.length === limit,
});

/** A top-level job that retention may delete (named parameter @cutoff; the table aliased j). */
const PRUNABLE = `j.parent_id IS NULL AND j.ended_at IS NOT NULL AND j.ended_at < @cutoff AND j.state NOT IN ('pending', 'running', 'cancelling')
  AND NOT EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = j.id AND c.state IN ('pending', 'running', 'cancelling'))`;

/** What a child summary shows: reading only these keeps a page of children cheap. */
const summaryColumns = (d: Dialect) =>
  `id, target, state, host_id, progress, error, started_at, ended_at, ${d.jsonArrayLength('warnings')} AS warning_count, ${d.jsonMember('result', 'batch')} AS batch`;

function summary(r: Pick<Row, 'id' | 'target' | 'state' | 'host_id' | 'progress' | 'error' | 'started_at' | 'ended_at'> & { warning_count?: number | null; batch?: string | null }): ChildSummary {
  return {
    ...(r.warning_count ? { warningCount: r.warning_count } : {}),
    ...(r.batch ? { batch: JSON.parse(r.batch) } : {}),
    id: r.id,
    target: JSON.parse(r.target),
    state: r.state as JobState,
    host: opt(r.host_id),
    progress: JSON.parse(r.progress),
    error: r.error ? JSON.parse(r.error) : undefined,
    startedAt: opt(r.started_at),
    endedAt: opt(r.ended_at),
  };
}
