// What the oVirt integration must keep across engine restarts, in engine.db (its own
// tables, created if missing, so the engine's numbered migrations stay untouched):
//  * ovirt_state: the event cursor, the last event index seen and that event's fingerprint
//    (a restart neither misses nor repeats; a reused index shows a restored database);
//  * ovirt_jobs: engine job id -> oVirt external job id and its open steps (a restart
//    still ends the oVirt job when the engine job ends);
//  * ovirt_pending: VMs whose event was seen but whose reset has not started yet
//    (waiting for Down + disks OK), so a restart goes on waiting for them.
import { inject, injectable } from 'tsyringe';
import { Db, sql } from '../db';

const LAST_INDEX = 'events.last_index';
const LAST_FINGERPRINT = 'events.last_fingerprint';

export interface MirroredJob {
  engineJobId: string;
  ovirtJobId: string;
  /** Step key (operation name or child job id) -> oVirt step id, for open steps. */
  steps: Record<string, string>;
}

/** Where the event watcher stands: the last index seen and what that event looked like. */
export interface EventCursor {
  index: number;
  /** time|code|vm of the event at `index`; '' when unknown (stored by an older version). */
  fingerprint: string;
}

export interface PendingVm {
  vmId: string;
  trigger: 'clone' | 'import' | 'pool';
  eventIndex: number;
  seenAt: string;
}

@injectable()
export class OvirtStateStore {
  constructor(@inject(Db) private readonly db: Db) {}

  get(key: string): string | undefined {
    return (sql(this.db, 'SELECT value FROM ovirt_state WHERE key = ?').pluck().get(key) as string | undefined) ?? undefined;
  }

  set(key: string, value: string): void {
    sql(this.db, 'INSERT INTO ovirt_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Records the new VMs of a batch of events and the new cursor in ONE transaction. */
  advanceEvents(cursor: EventCursor, pending: PendingVm[]): void {
    this.db.transaction(() => {
      const ins = sql(this.db, 'INSERT INTO ovirt_pending (vm_id, trigger, event_index, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (vm_id) DO NOTHING');
      for (const p of pending) ins.run(p.vmId, p.trigger, p.eventIndex, p.seenAt);
      this.set(LAST_INDEX, String(cursor.index));
      this.set(LAST_FINGERPRINT, cursor.fingerprint);
    })();
  }

  eventCursor(): EventCursor | undefined {
    const index = this.get(LAST_INDEX);
    return index === undefined ? undefined : { index: Number(index), fingerprint: this.get(LAST_FINGERPRINT) ?? '' };
  }

  pending(): PendingVm[] {
    return (sql(this.db, 'SELECT * FROM ovirt_pending ORDER BY event_index').all() as { vm_id: string; trigger: PendingVm['trigger']; event_index: number; seen_at: string }[])
      .map((r) => ({ vmId: r.vm_id, trigger: r.trigger, eventIndex: r.event_index, seenAt: r.seen_at }));
  }

  donePending(vmId: string): void {
    sql(this.db, 'DELETE FROM ovirt_pending WHERE vm_id = ?').run(vmId);
  }

  job(engineJobId: string): MirroredJob | undefined {
    const r = sql(this.db, 'SELECT * FROM ovirt_jobs WHERE engine_job_id = ?').get(engineJobId) as { engine_job_id: string; ovirt_job_id: string; steps: string } | undefined;
    return r && { engineJobId: r.engine_job_id, ovirtJobId: r.ovirt_job_id, steps: JSON.parse(r.steps) };
  }

  saveJob(j: MirroredJob): void {
    this.db
      .prepare('INSERT INTO ovirt_jobs (engine_job_id, ovirt_job_id, steps) VALUES (?, ?, ?) ON CONFLICT(engine_job_id) DO UPDATE SET ovirt_job_id = excluded.ovirt_job_id, steps = excluded.steps')
      .run(j.engineJobId, j.ovirtJobId, JSON.stringify(j.steps));
  }

  dropJob(engineJobId: string): void {
    sql(this.db, 'DELETE FROM ovirt_jobs WHERE engine_job_id = ?').run(engineJobId);
  }

  openJobs(): MirroredJob[] {
    return (sql(this.db, 'SELECT * FROM ovirt_jobs').all() as { engine_job_id: string; ovirt_job_id: string; steps: string }[])
      .map((r) => ({ engineJobId: r.engine_job_id, ovirtJobId: r.ovirt_job_id, steps: JSON.parse(r.steps) }));
  }
}
