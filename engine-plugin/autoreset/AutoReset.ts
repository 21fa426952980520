// Automatic reset: a VM that was just cloned, imported or created in a pool carries its
// source's identity. Before it is marked ready (status down, startable), the engine runs
// the trigger's profile (default clone-reset, hostname from the VM name) on it as an
// ordinary job of kind "auto-reset". Config turns it off per trigger ([auto_reset]).
//
// Embedded inventory: the VM is created image_locked and set down when its reset job
// ends (succeeded or not: a failed reset is visible on the job, and the admin decides).
// libvirt: the new domain is held so that libvirt itself cannot start it, and released
// by the same setVmStatus(id, 'down') (libvirt/heldOverlays.ts).
// The oVirt adapter calls onVmAdded() from its event watcher (the codes of
// engine-plugin/ovirt/vmCreationEvents.ts), the libvirt adapter from its own
// (libvirt/LibvirtEventWatcher.ts: domains defined outside the product), which calls
// skipped() instead for a domain started before its reset could run. A reset its
// pre-check refuses is recorded as a failed job (JobService): nobody waits on its answer.
//
// Windows (issue 15): a VM whose guest OS is known to be Windows (GuestOsSource: the
// inventory's declaration or a cached inspection) gets the windows-reset profile instead
// of the trigger's Linux one; an unknown OS gets the trigger's profile (decision note
// "Automatic reset of a guest whose OS is unknown").
import { inject, injectable } from 'tsyringe';
import type { Trigger } from '../config';
import { EngineConfig, triggerConfig } from '../config';
import type { Inventory, Vm, VmStatus } from '../inventory/Inventory';
import { InventoryActions } from '../inventory/InventoryActions';
import type { Job, JobErrorInfo } from '../jobs/Job';
import { asSysprepError, SysprepError } from '../../shared/errors';
import { JobBus } from '../jobs/JobBus';
import { JobService } from '../jobs/JobService';
import { EMPTY_SYSPREP_BODY } from '../jobs/requestSchema';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';
import { GuestOsSource } from '../inventory/GuestOsSource';
import { WINDOWS_RESET_PROFILE } from '../profiles/builtins';

/** Who automatic jobs are recorded as requested by. */
export const AUTO_RESET_REQUESTER = 'auto-reset';

@injectable()
export class AutoReset {
  constructor(
    @inject(JobService) private readonly jobs: JobService,
    @inject(JobStore) private readonly store: JobStore,
    @inject(InventoryActions) private readonly actions: InventoryActions | null,
    @inject(JobBus) bus: JobBus,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(GuestOsSource) private readonly guestOs: GuestOsSource,
  ) {
    bus.onLeafFinal((e, parentId) => {
      if (parentId) return; // an automatic reset is a job of its own, never a child
      const job = this.store.header(e.jobId);
      if (job?.kind === 'auto-reset') void this.markReady(job);
    });
  }

  /** The status a new VM is created with: locked while its reset is to come. */
  initialStatus(trigger: Trigger): VmStatus {
    return triggerConfig(this.config, trigger).enabled ? 'image_locked' : 'down';
  }

  /**
   * Starts the reset of a new VM. `job` is undefined when the trigger is off; `error`
   * says why no job could be made (no agent sees the disks, ...): the VM is then
   * released (down) rather than locked forever, and the caller shows the error.
   */
  async onVmAdded(vm: Vm, trigger: Trigger, by: string): Promise<{ job?: Job; error?: JobErrorInfo }> {
    const t = triggerConfig(this.config, trigger);
    if (!t.enabled) return {};
    try {
      // A VM not down comes back as a job recorded failed (VM_NOT_DOWN): it was not
      // locked by us (the pre-check lets image_locked through), so its status stays.
      const profile = await this.profileFor(vm, t.profile);
      return { job: await this.jobs.sysprepVm(vm.id, EMPTY_SYSPREP_BODY, this.caller(trigger, by), { kind: 'auto-reset', profile }) };
    } catch (err) {
      const e = asSysprepError(err);
      this.log.warn('automatic reset could not start', { vmId: vm.id, trigger, error: e.message });
      // An inventory the engine does not own (oVirt) keeps its own VM status.
      await this.actions?.setVmStatus(vm.id, 'down');
      return { error: e.toJSON() };
    }
  }

  /**
   * A new VM whose reset must not run (libvirt: the domain was started before it):
   * recorded as an auto-reset job already failed with `error`, so GET /jobs shows it.
   */
  async skipped(vm: Vm, trigger: Trigger, by: string, error: SysprepError): Promise<Job> {
    const job = await this.jobs.autoResetSkipped(vm.id, error, this.caller(trigger, by), triggerConfig(this.config, trigger).profile);
    this.log.warn('automatic reset skipped', { jobId: job.id, vmId: vm.id, trigger, code: error.code, reason: error.message });
    return job;
  }

  /** The trigger's profile, or windows-reset for a VM known to run Windows. */
  private async profileFor(vm: Vm, configured: string): Promise<string> {
    const os = await this.guestOs.guestOsOf(vm);
    if (os.type !== 'windows' || configured === WINDOWS_RESET_PROFILE) return configured;
    this.log.info('automatic reset of a Windows guest: windows-reset instead of the trigger\'s profile', { vmId: vm.id, configured, source: os.source });
    return WINDOWS_RESET_PROFILE;
  }

  private caller(trigger: Trigger, by: string) {
    return { name: `${AUTO_RESET_REQUESTER} (${trigger} by ${by})`, role: 'admin' as const };
  }

  /** A pool's new VMs, one reset each: the jobs started, and the errors by VM name of those that could not start. */
  async onVmsAdded(vms: Vm[], trigger: Trigger, by: string): Promise<{ jobs: string[]; resetErrors?: Record<string, JobErrorInfo> }> {
    const jobs: string[] = [];
    const resetErrors: Record<string, JobErrorInfo> = {};
    for (const vm of vms) {
      const reset = await this.onVmAdded(vm, trigger, by);
      if (reset.job) jobs.push(reset.job.id);
      if (reset.error) resetErrors[vm.name] = reset.error;
    }
    return { jobs, resetErrors: Object.keys(resetErrors).length ? resetErrors : undefined };
  }

  /** Start-up: a VM left locked by a reset that ended while the engine was down is released. */
  async reconcile(inventory: Inventory): Promise<void> {
    if (!this.actions) return; // oVirt keeps its own VM status
    let cursor: string | undefined;
    try {
      do {
        const page = await inventory.listVms({ limit: 1000, cursor });
        for (const vm of page.items) {
          if (vm.status === 'image_locked' && !this.store.activeJobFor(`vm:${vm.id}`)) {
            await this.actions.setVmStatus(vm.id, 'down');
            this.log.info('VM released after a restart: its automatic reset had ended', { vmId: vm.id });
          }
        }
        cursor = page.next;
      } while (cursor);
    } catch (err) {
      // An inventory out of reach at start-up (a libvirt daemon down) must not stop the
      // engine: the VMs left locked are released at its next start.
      this.log.warn('could not release the VMs left locked by an automatic reset', { error: (err as Error).message });
    }
  }

  private async markReady(job: Job): Promise<void> {
    if (!this.actions) return;
    try {
      await this.actions.setVmStatus(job.target.id, 'down');
      this.log.info('VM ready after automatic reset', { jobId: job.id, vmId: job.target.id, state: job.state });
    } catch (err) {
      this.log.warn('could not mark the VM ready', { jobId: job.id, vmId: job.target.id, error: (err as Error).message });
    }
  }
}
