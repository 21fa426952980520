// The last sysprep of each VM, for the VM listings (contract 6 of issue 11): the newest
// leaf job on `vm:ID` (a single-VM job, a child of a bulk or pool job, an automatic
// reset), with its state and end, and the VM's host where known: the host the inventory
// gives, else the host that job ran on. One query per page of VMs, from the job table's
// (vm_key) index; a job still active is read through the store so that its state is never
// older than the store's write-behind.
import { inject, injectable } from 'tsyringe';
import { Db, sql } from '../db';
import type { Dialect } from '../store/SqlDb';
import type { Vm } from '../inventory/Inventory';
import { isFinal, Job, JobState } from './Job';
import { JobStore } from './JobStore';

export interface LastSysprepInfo {
  jobId: string;
  state: JobState;
  /** Absent while the job is active. */
  endedAt?: string;
}

export type VmWithLastSysprep<T extends Vm = Vm> = T & { lastSysprep?: LastSysprepInfo; host?: string };

interface Row { vm_key: string; id: string; state: JobState; ended_at: string | null; host_id: string | null }

const latest = (d: Dialect) => `SELECT j.vm_key, j.id, j.state, j.ended_at, j.host_id FROM jobs j
  JOIN (SELECT max(seq) AS seq FROM jobs WHERE vm_key IN (${d.jsonStrings('?')}) AND kind NOT IN ('inspect', 'sparsify') GROUP BY vm_key) latest ON j.seq = latest.seq`; // an inspection or a sparsify is no sysprep

@injectable()
export class LastSysprep {
  /** LATEST in this database's dialect (built once: addTo serves every VM list). */
  private readonly latest: string;

  constructor(@inject(Db) private readonly db: Db, @inject(JobStore) private readonly store: JobStore) {
    this.latest = latest(db.dialect);
  }

  /** The VMs with `lastSysprep` and `host` added (the same objects' fields, copied). */
  addTo<T extends Vm>(vms: T[]): VmWithLastSysprep<T>[] {
    if (vms.length === 0) return [];
    const rows = sql(this.db, this.latest).all(JSON.stringify(vms.map((v) => `vm:${v.id}`))) as Row[];
    // An active row may have a newer state waiting in the write-behind: the store's read flushes it (one read for the page).
    const active = this.store.headers(rows.filter((r) => !isFinal(r.state)).map((r) => r.id));
    const byVm = new Map(rows.map((r) => [r.vm_key.slice('vm:'.length), fresh(r, active.get(r.id))]));
    return vms.map((vm) => {
      const last = byVm.get(vm.id);
      const host = vm.hostId ?? last?.host;
      return { ...vm, ...(last && { lastSysprep: last.info }), ...(host && { host }) };
    });
  }

  addToOne<T extends Vm>(vm: T): VmWithLastSysprep<T> {
    return this.addTo([vm])[0];
  }
}

/** The row, or the job as the store reads it now when it was active. */
function fresh(r: Row, job: Job | undefined): { info: LastSysprepInfo; host?: string } {
  const state = job?.state ?? r.state;
  const endedAt = job ? job.endedAt : r.ended_at ?? undefined;
  return { info: { jobId: r.id, state, ...(endedAt && { endedAt }) }, host: job?.host ?? r.host_id ?? undefined };
}
