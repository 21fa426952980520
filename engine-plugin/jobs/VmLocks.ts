// What is busy: a VM or template an active job works on (never two at once), and a VM
// the engine holds image_locked until its automatic reset has run. Read from the job
// store, for the job service (before a job is made) and the VM start/stop marks.
import { inject, injectable } from 'tsyringe';
import { ConflictError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import { JobStore } from './JobStore';

@injectable()
export class VmLocks {
  constructor(@inject(JobStore) private readonly store: JobStore) {}

  /** 409 VM_BUSY (details.jobId) while an active job works on `key` (`vm:ID`, `template:ID`);
   *  `busy`: what busy() answered for a page of keys that includes it (no read then). */
  checkIdle(key: string, what: string, busy?: ReadonlyMap<string, string>): void {
    const active = busy ? busy.get(key) : this.store.activeJobFor(key);
    if (active) throw new ConflictError('VM_BUSY', `${what} already has an active job ${active}`, { jobId: active });
  }

  /** The active job of each of `keys` that has one, in one read. */
  busy(keys: readonly string[]): Map<string, string> {
    return this.store.activeJobsFor(keys);
  }

  /** Before a start or stop mark: 409 VM_BUSY while a job works on the VM or its reset is to come. */
  checkFree(vm: Vm): void {
    const active = this.store.activeJobFor(`vm:${vm.id}`);
    if (active || vm.status === 'image_locked') throw new ConflictError('VM_BUSY', `VM "${vm.name}" is locked by job ${active ?? '(reset to come)'}`, { jobId: active });
  }
}
