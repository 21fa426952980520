// Text shared by the list commands and the job views: tables, times, errors, summaries.
import type { JobLike, Unit } from './JobProgress';

export interface Column<T> {
  header: string;
  value(row: T): string | number | undefined;
}

/** A plain table: a header line and left-aligned columns two spaces apart. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r) ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** HH:MM:SS (local time) of an ISO time, or of now. */
export function clock(at?: string): string {
  const d = at ? new Date(at) : new Date();
  return (Number.isNaN(d.getTime()) ? new Date() : d).toTimeString().slice(0, 8);
}

export function describeError(e: JobLike['error']): string {
  if (!e) return '';
  const logPath = e.details?.logPath;
  const log = typeof logPath === 'string' && !e.message.includes(logPath) ? ` (log: ${logPath})` : '';
  return `${e.code}: ${e.message}${log}`;
}

/** One line about a unit's state: "running on kvm1", "failed: DISK_NOT_FOUND: ...". */
export function describeState(u: Unit): string {
  if (u.state === 'running' && u.host) return `running on ${u.host}`;
  if ((u.state === 'failed' || u.state === 'cancelled') && u.error) return `${u.state}: ${describeError(u.error)}`;
  if (u.state === 'succeeded') return `succeeded (${u.operations.length || u.done} operations)`;
  if (u.state === 'incomplete') {
    const fields = u.warnings.flatMap((w) => (w.field ? [w.field] : []));
    return fields.length ? `incomplete: ${fields.join(', ')} not applied` : 'incomplete: something asked for was not applied (see the warnings)';
  }
  return u.state;
}

/** A warning line: "warning: hostname could not be set for this type of guest (params.hostname not applied)". */
export function warningText(w: { message: string; field?: string }): string {
  return `warning: ${w.message}${w.field ? ` (${w.field} not applied)` : ''}`;
}

/** The closing line of a watch: "job ID (pool lab): partial: 1 succeeded, 1 failed". */
export function jobSummary(job: JobLike): string {
  const head = `job ${job.id} (${job.kind} ${job.target.name}): ${job.state}`;
  if (job.children) {
    const count = new Map<string, number>();
    for (const c of job.children) count.set(c.state, (count.get(c.state) ?? 0) + 1);
    const parts = [...count].map(([state, n]) => `${n} ${state}`);
    const total = job.childrenTotal ?? job.children.length;
    return `${head}: ${parts.join(', ')}${batchTally(job.children)}${total > job.children.length ? ` (first ${job.children.length} of ${total} VMs)` : ''}`;
  }
  return job.error ? `${head}: ${describeError(job.error)}` : head;
}

/** "; 14 batched, 2 alone" when children went through batch mode (issue 16), else "". */
function batchTally(children: JobLike[]): string {
  const members = children.filter((c) => c.batch);
  if (!members.length) return '';
  const batched = members.filter((c) => c.batch?.batched).length;
  return `; ${batched} batched, ${members.length - batched} alone`;
}

/** A VM job's note on the snapshots it left as they were (docs/api.md, Job), or undefined. */
export function oldIdentityNote(target: JobLike['target']): string | undefined {
  const snaps = target.snapshotsWithOldIdentity;
  if (!snaps?.length) return undefined;
  const list = snaps.map((s) => `"${s.description}"${s.date ? ` (${s.date.slice(0, 10)})` : ''}`).join(', ');
  return `${snaps.length === 1 ? 'snapshot' : `${snaps.length} snapshots`} of ${target.name} still hold${snaps.length === 1 ? 's' : ''} the old identity: ${list}`;
}

export function progressText(p: JobLike['progress']): string {
  return p && p.total ? `${p.done}/${p.total}` : '-';
}
