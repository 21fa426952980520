// An oVirt 4.5 API test server (express) that replays the payloads of
// test/fixtures/ovirt/*.json (their `_source` says where each shape comes from) and keeps
// just enough state for the contract tests:
//  * SSO: POST /ovirt-engine/sso/oauth/token (password grant, scope ovirt-app-api) with
//    aaa-jdbc/aaa-ldap or Keycloak user names and the SSO's real error answers;
//    expireTokens() makes every issued token answer 401 (the client must log in again);
//  * VMs / templates / pools / hosts / storage domains with oVirt's search subset the
//    plugin uses ("name=x", "name=*x*", "pool=x", "tag=x", "sortby name asc", "page N"),
//    max= and follow=disk_attachments.disk;
//  * per-user visibility: with `Filter: true` a non-admin sees only the VMs he holds a
//    permission on, inherited ones included (himself, his session's groups, Everyone),
//    else 404 as oVirt answers;
//  * users and groups with their real ids: GET /users/{id}/groups lists DIRECTORY groups
//    whose id is the encoded directory id, GET /groups/{id} ENGINE groups (the id a
//    permission names) with domain_entry_id; GET /vms/{id}/permissions adds the
//    inherited permissions of the cluster, data center and system;
//  * events as the engine's search answers them: newest first, from= exclusive, max= rows,
//    "page N" (see the route); addEvent() appends with the next audit_log_seq value,
//    deleteEvent(), restoreEvents() (a database restore) and createVm() (a new VM with the
//    fields and codes of each creation path, test/fixtures/ovirt/events.json);
//  * external jobs and steps as the engine ends them (succeeded / force read, status
//    ignored, no refusal of an ended job), every call recorded with its Correlation-Id;
//  * VM tags (the lifecycle guard).
// And (issue 12, item 8):
//  * VM snapshots (GET /vms/{id}/snapshots, follow=snapshots): the "Active VM" one, regular
//    ones (addSnapshot) and a preview (previewSnapshot / undoPreview), as ovirt-engine's
//    SnapshotsManager, TryBackToAllSnapshotsOfVmCommand and RestoreAllSnapshotsCommand
//    leave them.
// And (issue 14: the inventory actions on oVirt), each asynchronous as oVirt is (the
// action is answered when accepted; the state changes `asyncMs` later):
//  * POST /vms?clone=false {name, template, cluster, comment} (VmsService.add, AddVmCommand):
//    a thin VM image_locked with locked disks (a new layer per template disk), events 37,
//    then down / ok and event 53; `onVolume` lets a test lay the new volume out on disk;
//  * POST /vms/{id}/start | stop | shutdown (VmService): wait_for_launch -> powering_up ->
//    up; stop -> down; shutdown -> powering_down -> down unless `ignoresAcpi` has the VM;
//  * DELETE /vms/{id} (RemoveVmCommand): image_locked, then gone with its snapshots;
//  * POST /vms/{id}/snapshots (CreateSnapshotForVmCommand): the snapshot locked and the
//    VM image_locked, then ok / down, and the disks' image_id is the new leaf;
//    POST .../snapshots/{sid}/restore (TryBackToAllSnapshotsOfVm + RestoreAllSnapshots):
//    the snapshots after it are removed, a new leaf over its volumes; DELETE .../{sid}:
//    locked while merged, then gone. State conflicts (VM not down, ...) answer 409 with
//    oVirt's fault body; every change is in `actions` for the tests.
import express, { Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** test/fixtures/ovirt, from the sources or from dist/test/helpers (JSON is not compiled). */
const FIXTURES = [path.resolve(__dirname, '..', 'fixtures', 'ovirt'), path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'ovirt')].find((d) => existsSync(d)) ?? '';
const API = '/ovirt-engine/api';
const EVERYONE = 'eee00000-0000-0000-0000-123456789eee';
/** MultiLevelAdministrationHandler.SYSTEM_OBJECT_ID: the root of every permission tree. */
const SYSTEM = 'aaa00000-0000-0000-0000-123456789aaa';

/** ovirt-engine restapi/utils/DirectoryEntryIdUtils.encode: hex of the UTF-8 bytes (upper case, printHexBinary). */
export const directoryEntryId = (s: string): string => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

/** A fixture file without its `_source` note (deep copy). */
export function fixture<T = any>(name: string): T {
  const j = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  delete j._source;
  return j;
}

/**
 * Where vdsm shows a volume of a file storage domain on a host: the e2e tests lay disks
 * out here. Models oVirt/vdsm fd4b0df lib/vdsm/storage/storageServer.py
 * (MountConnection._getLocalPath: <mount root>/[glusterSD/]transformPath(normalize_path(
 * address:path)); LocalDirectoryConnection._getLocalPath: transformPath(path) as given)
 * and fileUtils.py (transformPath: "_" -> "__", then "/" -> "_"; normpath: no "//", no
 * trailing "/"). Written apart from the adapter's ovirtModel.domainDir on purpose, so
 * a test that finds its disk here checks the adapter; covers what the fixtures hold
 * (no ports, no "." or "..").
 */
export function vdsmVolumePath(mountRoot: string, sd: any, diskId: string, volumeId: string): string {
  const { type, address, path: p } = sd.storage;
  if (!['nfs', 'posixfs', 'glusterfs', 'localfs'].includes(type)) throw new Error(`vdsm shows no file for a ${type} domain`);
  const squeeze = (x: string) => x.split('/').filter((seg, i) => seg !== '' || i === 0).join('/');
  const escape = (x: string) => x.split('_').join('__').split('/').join('_');
  const dir = type === 'localfs' ? escape(p) : (type === 'glusterfs' ? 'glusterSD/' : '') + escape(address ? `${address}:${squeeze(p)}` : squeeze(p));
  return path.join(mountRoot, dir, sd.id, 'images', diskId, volumeId);
}

export const IDS = {
  sdNfs: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e01',
  sdLocal: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e02',
  sdGluster: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e03',
  sdIscsi: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e04',
  sdVmData: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e05',
  sdCephfs: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e06',
  sdFc: '5d3a7e10-3c1b-4a8e-9d0f-0a1b2c3d4e07',
  host1: '8b1c3f5e-6a2d-4e7f-9a0b-1c2d3e4f5a01',
  host2: '8b1c3f5e-6a2d-4e7f-9a0b-1c2d3e4f5a02',
  web01: '1f0e2d3c-4b5a-4697-8a8b-9c0d1e2f3a01',
  db01: '1f0e2d3c-4b5a-4697-8a8b-9c0d1e2f3a02',
  lab1: '1f0e2d3c-4b5a-4697-8a8b-9c0d1e2f3a03',
  golden: '7e6d5c4b-3a29-4188-b7a6-9584a3b2c101',
  blank: '00000000-0000-0000-0000-000000000000',
  poolLab: '9a8b7c6d-5e4f-4321-8765-4321fedcba01',
  admin: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e01',
  alice: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e02',
  bob: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e03',
  carol: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e04',
  dave: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e05',
  erin: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e06',
  frank: '0c2d4e6f-8a0b-4c2d-8e4f-6a8b0c2d4e07',
  roleUserVmManager: 'def00006-0000-0000-0000-def000000006',
};

/** The plugin's account and the users of the tests: user name -> password. */
export const PASSWORDS: Record<string, string> = {
  'admin@internal': 'admin-secret-pw',
  'alice@internal': 'alice-pw',
  'bob@internal': 'bob-pw',
  'carol@internal': 'carol-pw',
  'dave@internal': 'dave-pw',
  'erin@example.com': 'erin-pw',
  'frank@example.com': 'frank-pw',
};
const USER_IDS: Record<string, string> = { admin: IDS.admin, alice: IDS.alice, bob: IDS.bob, carol: IDS.carol, dave: IDS.dave, erin: IDS.erin, frank: IDS.frank };

/** The ways a VM comes to exist in oVirt (createVm). */
export type CreationPath = 'from-template' | 'pool' | 'clone-from-template' | 'clone-vm' | 'from-snapshot' | 'scratch' | 'export-domain' | 'ova' | 'external' | 'data-domain';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  correlationId?: string;
  filter: boolean;
  user: string;
}

interface TokenInfo {
  user: string;
  userId: string;
  admin: boolean;
  expired: boolean;
}

/** A boolean of oVirt's JSON input: true/false or their strings; absent -> the default. */
const readBool = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null ? dflt : v === true || v === 'true');

/** Steps still STARTED get `status` (packaging/dbscripts/job_sp.sql updateJobStepsCompleted). */
function closeSteps(job: any, status: string): void {
  for (const s of job.steps) {
    if (s.status === 'started') {
      s.status = status;
      s.end_time = new Date().toISOString();
    }
  }
}

/** Job.markJobEnded (only a STARTED job changes), then updateCompletedJobAndSteps. */
function endJob(job: any, succeeded: boolean): void {
  if (job.status === 'started') {
    job.status = succeeded ? 'finished' : 'failed';
    job.end_time = job.last_updated = new Date().toISOString();
  }
  closeSteps(job, job.status);
}

let counter = 0;
const uuid = (prefix: string) => {
  counter++;
  const n = counter.toString(16).padStart(12, '0');
  return `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${n}`;
};

export class OvirtApiServer {
  url = '';
  vms: any[] = fixture('vms').vm;
  templates: any[] = fixture('templates').template;
  pools: any[] = fixture('vmpools').vm_pool;
  hosts: any[] = fixture('hosts').host;
  storageDomains: any[] = fixture('storagedomains').storage_domain;
  events: any[] = fixture('events').event;
  users: any[] = fixture('users').user;
  /** User id -> his directory groups (external_id, name, namespace): users.json. */
  directory: Record<string, any[]> = fixture('users').directory;
  /** Engine groups (DbGroup: id, name, domain, external_id): groups.json. */
  engineGroups: any[] = fixture('groups').group;
  /** Permissions on a VM or a template, by its id. */
  permissions: Record<string, any> = fixture('permissions').byVm;
  /** Permissions on a cluster, data center or the system (inherited by their VMs). */
  objectPermissions: Record<string, any> = fixture('permissions').byObject;
  dataCenterOf: Record<string, string> = fixture('permissions').dataCenterOf;
  permits: Record<string, any> = fixture('permits').byRole;
  tags: any[] = fixture('tags').tag;
  vmTags = new Map<string, Set<string>>();
  jobs = new Map<string, any>();
  /** Every API call (not SSO), in order. */
  readonly calls: RecordedCall[] = [];
  /** SSO logins (user names), in order. */
  readonly logins: string[] = [];
  /** How the engine's SSO authenticates: aaa profiles (internal = aaa-jdbc, example.com =
   *  aaa-ldap) or, as new installs since 4.5.1 do, Keycloak (profile internalsso). */
  sso: 'aaa' | 'keycloak' = 'aaa';
  /** When set, every API call answers this status (an engine outage). */
  down?: number;
  private readonly tokens = new Map<string, TokenInfo>();
  private server?: Server;

  /**
   * oVirt deletes an ended, auto-cleared job after Succeeded/FailedJobCleanupTimeInMinutes
   * (bll/job/JobRepositoryCleanupManager, dbscripts job_sp.sql
   * DeleteCompletedJobsOlderThanDate: FINISHED, FAILED, ABORTED, UNKNOWN); an admin
   * can clear one too. Done at once here.
   */
  clearJob(id: string): void {
    this.jobs.delete(id);
  }

  /**
   * What an engine restart does to jobs still running: STARTED jobs and steps become
   * UNKNOWN (JobRepositoryImpl.finalizeJobs, job_sp.sql
   * UpdateStartedExecutionEntitiesToUnknown); an end changes such a job no more.
   */
  restartEngine(): void {
    for (const job of this.jobs.values()) {
      if (job.status === 'started') {
        job.status = 'unknown';
        job.end_time = new Date().toISOString();
      }
      closeSteps(job, 'unknown');
    }
  }

  /** Calls on /jobs..., in order: what the external-job mirror did. */
  jobCalls(): RecordedCall[] {
    return this.calls.filter((c) => c.path.startsWith('/jobs'));
  }

  expireTokens(): void {
    for (const t of this.tokens.values()) t.expired = true;
  }

  /** A token for a user as the UI plugin would hold it (no SSO round trip in the test). */
  tokenFor(user: string): string {
    const token = `user-token-${user}-${++counter}`;
    const name = user.split('@')[0];
    this.tokens.set(token, { user, userId: USER_IDS[name], admin: name === 'admin', expired: false });
    return token;
  }

  /** Called after each page of GET /events is computed: the engine logging events between two reads. */
  afterEventsPage?: (page: number) => void;
  /** audit_log_seq's last value (packaging/dbscripts/create_tables.sql: audit_log_id DEFAULT nextval('audit_log_seq')). */
  private eventSeq = 0;

  nextEventId(): number {
    // A sequence never hands out a value twice, even when rows were deleted.
    return Math.max(this.eventSeq, ...this.events.map((e) => Number(e.id))) + 1;
  }

  addEvent(code: number, vmId?: string, description = ''): any {
    const id = String(this.nextEventId());
    const e: any = { href: `${API}/events/${id}`, id, code: String(code), description, severity: 'normal', origin: 'oVirt', custom_id: '-1', flood_rate: '30', time: new Date().toISOString() };
    if (vmId) e.vm = { href: `${API}/vms/${vmId}`, id: vmId };
    this.events.push(e);
    this.eventSeq = Number(id);
    return e;
  }

  /** A user removed an event: DeleteAuditLog (audit_log_sp.sql) only sets `deleted`. */
  deleteEvent(id: string | number): void {
    const e = this.events.find((x) => x.id === String(id));
    if (e) e.deleted = true;
  }

  /**
   * The engine database restored from a dump taken when `upTo` was the newest event: the
   * rows above it are gone and audit_log_seq restarts there, so the next events reuse
   * indexes the watcher has already seen.
   */
  restoreEvents(upTo: number): void {
    this.events = this.events.filter((e) => Number(e.id) <= upTo);
    this.eventSeq = upTo;
  }

  /**
   * A VM as each creation path of ovirt-engine 0111fc63036 leaves it (template,
   * original_template, pool) with the audit-log codes it logs, in order. Sources, all in
   * backend/manager/modules/bll/src/main/java/org/ovirt/engine/core/bll/:
   *  * from-template (thin), pool: AddVmCommand (updateOriginalTemplate: original = template;
   *    disk snapshots with tasks -> getAuditLogTypeValue 37 then 53 at END_SUCCESS); pool
   *    VMs are AddVm children of CommonVmPoolCommand.addVmsToPool (AddVmToPool not logged);
   *  * clone-from-template: AddVmFromTemplateCommand.executeVmCommand sets the template to
   *    Blank after AddVmCommand recorded it as original_template; copy tasks: 37, 53;
   *  * clone-vm: CloneVmCommand.updateOriginalTemplate keeps the source's original_template,
   *    AddVmAndCloneImageCommand.executeVmCommand sets Blank; child commands, no task at
   *    execute: 34, then 53 from its callback;
   *  * from-snapshot: AddVmFromSnapshotCommand (original_template as in the snapshot, template
   *    Blank through AddVmAndCloneImageCommand): 37, 53;
   *  * scratch: AddVmFromScratchCommand (addVmImages no-op): 34 only, Blank/Blank, its disks
   *    are added empty afterwards;
   *  * export-domain, ova, external: ImportVmCommandBase.getAuditLogTypeValue 1165, then 1152;
   *    the template fields come from the OVF (Blank for a VM converted by virt-v2v);
   *  * data-domain: ImportVmFromConfigurationCommand.executeVmCommand 174, then 1165 from
   *    ImportVmCommandBase (no task, so no END_SUCCESS and no 1152).
   */
  createVm(how: CreationPath, opts: { name: string; source?: { template?: { id: string }; original_template?: { id: string } }; template?: string; pool?: string; status?: string; diskStatus?: string; disks?: number }): any {
    const golden = opts.template ?? IDS.golden;
    const vm = this.addVm({ name: opts.name, template: golden, pool: opts.pool, status: opts.status, diskStatus: opts.diskStatus, disks: opts.disks });
    const link = (id: string) => ({ href: `${API}/templates/${id}`, id });
    const [template, original, codes]: [string, string, number[]] = {
      'from-template': [golden, golden, [37, 53]],
      pool: [golden, golden, [37, 53]],
      'clone-from-template': [IDS.blank, golden, [37, 53]],
      'clone-vm': [IDS.blank, opts.source?.original_template?.id ?? IDS.blank, [34, 53]],
      'from-snapshot': [IDS.blank, opts.source?.original_template?.id ?? IDS.blank, [37, 53]],
      scratch: [IDS.blank, IDS.blank, [34]],
      'export-domain': [opts.source?.template?.id ?? IDS.blank, opts.source?.original_template?.id ?? IDS.blank, [1165, 1152]],
      ova: [IDS.blank, IDS.blank, [1165, 1152]],
      external: [IDS.blank, IDS.blank, [1165, 1152]],
      'data-domain': [opts.source?.template?.id ?? IDS.blank, opts.source?.original_template?.id ?? IDS.blank, [174, 1165]],
    }[how] as [string, string, number[]];
    vm.template = link(template);
    vm.original_template = link(original);
    for (const code of codes) this.addEvent(code, vm.id, `${how}: ${opts.name}`);
    return vm;
  }

  /** A VM with one disk of `format` on storage domain `sd` (default the NFS one). */
  addVm(opts: { name: string; id?: string; status?: string; template?: string; pool?: string; sd?: string; diskId?: string; volumeId?: string; format?: 'cow' | 'raw'; diskStatus?: string; disks?: number }): any {
    const id = opts.id ?? uuid('1f0e2d3c');
    const disks = Array.from({ length: opts.disks ?? 1 }, (_, i) => {
      const diskId = i === 0 && opts.diskId ? opts.diskId : uuid('a0a0a0a0');
      return {
        id: diskId,
        active: 'true',
        bootable: String(i === 0),
        interface: 'virtio_scsi',
        disk: {
          href: `${API}/disks/${diskId}`,
          id: diskId,
          alias: `${opts.name}_Disk${i + 1}`,
          image_id: i === 0 && opts.volumeId ? opts.volumeId : uuid('b1b1b1b1'),
          format: opts.format ?? 'cow',
          status: opts.diskStatus ?? 'ok',
          storage_type: 'image',
          storage_domains: { storage_domain: [{ href: `${API}/storagedomains/${opts.sd ?? IDS.sdNfs}`, id: opts.sd ?? IDS.sdNfs }] },
        },
      };
    });
    const vm: any = {
      href: `${API}/vms/${id}`, id, name: opts.name, status: opts.status ?? 'down', stateless: 'false', type: 'server',
      creation_time: new Date().toISOString(),
      template: { href: `${API}/templates/${opts.template ?? IDS.golden}`, id: opts.template ?? IDS.golden },
      disk_attachments: { disk_attachment: disks },
    };
    if (opts.pool) vm.vm_pool = { href: `${API}/vmpools/${opts.pool}`, id: opts.pool };
    this.vms.push(vm);
    return vm;
  }

  vm(id: string): any {
    return this.vms.find((v) => v.id === id);
  }

  // ---- disk status (issue 12, item 9) ---------------------------------------------------
  /**
   * Sets the status of a VM's or template's disk (`index`, default every disk), as the
   * API shows it: ovirt-engine DiskMapper.mapDiskStatus renders ImageStatus OK / LOCKED /
   * ILLEGAL as "ok" / "locked" / "illegal". A cold move or copy locks the disk and leaves
   * the VM's status alone (MoveDiskCommand -> MoveOrCopyDiskCommand for a Down VM;
   * CopyImageGroupCommand.lockImage / unLockImage); a failed operation leaves it illegal.
   */
  setDiskStatus(owner: any, status: 'ok' | 'locked' | 'illegal', index?: number): void {
    const attachments: any[] = owner.disk_attachments?.disk_attachment ?? [];
    attachments.forEach((a, i) => {
      if (index === undefined || index === i) a.disk.status = status;
    });
  }

  // ---- snapshots (issue 12, item 8) ---------------------------------------------------
  /** VM id -> its snapshots, as /vms/{id}/snapshots lists them; a VM not here has its active one only. */
  snapshots = new Map<string, any[]>();

  /**
   * A VM's snapshots. Every VM has one of type "active" described "Active VM"
   * (ovirt-engine SnapshotsManager.addActiveSnapshot); the shape is SnapshotMapper.map's
   * (id, description, date, snapshot_status, snapshot_type, persist_memorystate) plus the
   * vm link, dates as epoch ms (api-model A01-PrimitiveTypes.adoc: JSON dates are numbers).
   */
  snapshotsOf(vmId: string): any[] {
    let list = this.snapshots.get(vmId);
    if (!list) {
      const vm = this.vm(vmId);
      const created = Date.parse(vm?.creation_time ?? '') || Date.now();
      list = [this.snapshotObject(vmId, 'Active VM', 'active', 'ok', created)];
      this.snapshots.set(vmId, list);
    }
    return list;
  }

  /**
   * A snapshot the user takes (CreateSnapshotForVmCommand: type regular, status ok once
   * created; the active snapshot is made anew at that time, so it stays the newest).
   */
  addSnapshot(vmId: string, description: string, date = Date.now()): any {
    const s = this.snapshotObject(vmId, description, 'regular', 'ok', date);
    const list = this.snapshotsOf(vmId);
    const active = list.find((x) => x.snapshot_type === 'active');
    if (active) active.date = Math.max(Number(active.date), date);
    list.splice(list.length - 1, 0, s);
    return s;
  }

  /**
   * Preview of `snapshotId`, as TryBackToAllSnapshotsOfVmCommand leaves it once done (the VM
   * is Down again): the previewed snapshot IN_PREVIEW (restoreVmConfigFromSnapshot), the
   * former active one kept as type PREVIEW "Active VM before the preview" status OK, and a
   * new ACTIVE snapshot (a new leaf on top of the previewed volumes).
   */
  previewSnapshot(vmId: string, snapshotId: string): void {
    const list = this.snapshotsOf(vmId);
    const target = list.find((s) => s.id === snapshotId);
    const active = list.find((s) => s.snapshot_type === 'active');
    if (!target || !active) throw new Error(`no snapshot ${snapshotId} on VM ${vmId}`);
    target.snapshot_status = 'in_preview';
    Object.assign(active, { snapshot_type: 'preview', description: 'Active VM before the preview' });
    list.push(this.snapshotObject(vmId, 'Active VM', 'active', 'ok', Number(target.date)));
  }

  /** Undo of a preview (RestoreAllSnapshotsCommand, UNDO): the preview leaf is removed, the former active one is active again. */
  undoPreview(vmId: string): void {
    const list = this.snapshotsOf(vmId).filter((s) => s.snapshot_type !== 'active');
    for (const s of list) {
      if (s.snapshot_status === 'in_preview') s.snapshot_status = 'ok';
      if (s.snapshot_type === 'preview') Object.assign(s, { snapshot_type: 'active', description: 'Active VM' });
    }
    this.snapshots.set(vmId, list);
  }

  private snapshotObject(vmId: string, description: string, type: string, status: string, date: number): any {
    const id = uuid('5a5a5a5a');
    return {
      href: `${API}/vms/${vmId}/snapshots/${id}`, id, description, date, snapshot_status: status, snapshot_type: type,
      persist_memorystate: 'false', vm: { href: `${API}/vms/${vmId}`, id: vmId },
    };
  }

  // ---- inventory actions (issue 14) -----------------------------------------------------
  /** Delay of each asynchronous step (an action's state change after its answer). */
  asyncMs = 200;
  /** Snapshot id -> disk id -> the volume it keeps (the VM's leaf when it was taken). */
  private readonly snapshotVolumes = new Map<string, Map<string, string>>();
  /** VMs whose guest ignores an ACPI shutdown. */
  ignoresAcpi = new Set<string>();
  /** What the actions did, in order: `<action> <vm name>[ <detail>]`. */
  readonly actions: string[] = [];
  /** A new volume of a VM's disk: a clone's layer (parent = the template's volume), a snapshot's or a restore's leaf. */
  onVolume?: (e: { vm: any; disk: any; sd: any; volumeId: string; parentVolumeId: string; why: 'clone' | 'snapshot' | 'restore' }) => Promise<void> | void;

  /** After `asyncMs` (steps in order): the engine's asynchronous tasks. */
  private later(...steps: (() => Promise<void> | void)[]): void {
    const [first, ...rest] = steps;
    if (!first) return;
    setTimeout(() => {
      void Promise.resolve(first()).then(() => this.later(...rest));
    }, this.asyncMs).unref();
  }

  /** New leaf volumes on each disk of `vm` (snapshot, restore): image_id changes, the hook lays the file out. */
  private async newLeaves(vm: any, why: 'snapshot' | 'restore', parentOf: (disk: any) => string): Promise<void> {
    for (const a of vm.disk_attachments?.disk_attachment ?? []) {
      const parentVolumeId = parentOf(a.disk);
      const volumeId = uuid('b1b1b1b1');
      a.disk.image_id = volumeId;
      const sd = this.storageDomains.find((x) => x.id === a.disk.storage_domains?.storage_domain?.[0]?.id);
      await this.onVolume?.({ vm, disk: a.disk, sd, volumeId, parentVolumeId, why });
    }
  }

  /** Accepts `token` as the SSO token of `user` (the UI plugin test hands one token to WebAdmin and the engine). */
  acceptToken(token: string, user: string): void {
    const name = user.split('@')[0];
    this.tokens.set(token, { user, userId: USER_IDS[name], admin: name === 'admin', expired: false });
  }

  async start(tls?: { cert: string; key: string }): Promise<string> {
    const app = this.app();
    const server: Server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, app) : (app.listen(0, '127.0.0.1') as Server);
    if (tls) server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------

  /** The user's domain (authz name), as his DbUser holds it. */
  private domainOf(userId: string): string {
    return this.users.find((u) => u.id === userId)?.domain?.name ?? '';
  }

  /**
   * The engine groups of a user's session: his directory groups that exist as engine
   * groups, looked up by (authz, external id) (bll/aaa/CreateUserSessionCommand.buildUser
   * without external SSO), plus himself and Everyone (dbscripts create_views.sql
   * engine_session_user_flat_groups).
   */
  private sessionIds(userId: string): Set<string> {
    const domain = this.domainOf(userId);
    const ext = new Set((this.directory[userId] ?? []).map((g) => g.external_id));
    return new Set([userId, EVERYONE, ...this.engineGroups.filter((g) => g.domain === domain && ext.has(g.external_id)).map((g) => g.id)]);
  }

  /**
   * GET /vms/{id}/permissions: the VM's own and, shown on the VM, those of its cluster,
   * data center and the system (BackendAssignedPermissionsResource.list +
   * getInheritedPermissions; fn_get_entity_parents), one per id (a TreeSet by id).
   */
  vmPermissions(vmId: string): any[] {
    const cluster = this.vm(vmId)?.cluster?.id;
    return this.permissionTree(vmId, 'vm', [cluster, cluster ? this.dataCenterOf[cluster] : undefined]);
  }

  /**
   * GET /templates/{id}/permissions: the template's own and the system's
   * (BackendTemplateResource.getPermissionsResource; fn_get_entity_parents for a
   * template: its storage's data center, not modelled here, and the system).
   */
  templatePermissions(templateId: string): any[] {
    return this.permissionTree(templateId, 'template', []);
  }

  private permissionTree(id: string, kind: 'vm' | 'template', parents: (string | undefined)[]): any[] {
    const inherited = [...parents, SYSTEM].filter((x): x is string => !!x).flatMap((pid) => (this.objectPermissions[pid]?.permission ?? []).map((p: any) => {
      const { cluster: _c, data_center: _d, ...rest } = p;
      return { ...rest, [kind]: { href: `${API}/${kind}s/${id}`, id } };
    }));
    const byId = new Map<string, any>();
    for (const p of [...(this.permissions[id]?.permission ?? []), ...inherited]) byId.set(p.id, p);
    return [...byId.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }

  private visible(info: TokenInfo, vmId: string): boolean {
    if (info.admin) return true;
    const mine = this.sessionIds(info.userId);
    return this.vmPermissions(vmId).some((p: any) => mine.has(p.user?.id ?? p.group?.id));
  }

  private app(): express.Express {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(express.json());

    // The password grant of ovirt-engine's SSO (0111fc6 enginesso servlets/OAuthTokenServlet,
    // service/SsoService, api/SsoConstants, resources/AppMessages.properties):
    //  * the user name is split at its LAST "@" into user and profile
    //    (SsoService.translateUser): "alice@internal", "alice@ovirt@internalsso";
    //  * every error is HTTP 400; with the REST API's scope (ovirt-app-api without
    //    ovirt-app-admin / ovirt-app-portal) the body is {error_code, error}, else
    //    {error, error_description} (SsoService.sendJsonDataWithMessage, isRestApiScope);
    //  * a refused user is access_denied, the message from AppMessages:
    //    aaa (jdbc, ldap): CANNOT_AUTHENTICATE_USER_IN_DOMAIN with the authn's message
    //    (AuthnMessageMapper: USER_FAILED_TO_AUTHENTICATE);
    //    Keycloak (sso = 'keycloak', ENGINE_SSO_ENABLE_EXTERNAL_SSO, ovirt-engine-keycloak's
    //    profile "internalsso"): ExternalOIDCService.issueTokenUsingExternalOIDC wraps
    //    Keycloak's error_description in CANNOT_AUTHENTICATE_USER ("Invalid user
    //    credentials" is Keycloak's own text, not in these sources).
    //  Keycloak's realm holds "<name>@ovirt" (ovirt-engine-keycloak constants.py
    //  OVIRT_ADMIN_USER = 'admin@ovirt') with the password of "<name>@internal".
    app.post('/ovirt-engine/sso/oauth/token', (req, res) => {
      const { grant_type, scope, username, password } = req.body ?? {};
      const scopes = String(scope ?? '').split(' ').filter(Boolean);
      const restApi = scopes.includes('ovirt-app-api') && !scopes.includes('ovirt-app-admin') && !scopes.includes('ovirt-app-portal');
      const fail = (code: string, message: string) => void res.status(400).json(restApi ? { error_code: code, error: message } : { error: code, error_description: message });
      if (!grant_type) return fail('invalid_request', "Missing parameter: 'grant_type'");
      if (grant_type !== 'password') return fail('unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
      // Stricter than the SSO: a token without ovirt-app-api is refused by the API later;
      // this server refuses it at once (SsoConstants.ERR_CODE_INVALID_SCOPE).
      if (!scopes.includes('ovirt-app-api')) return fail('invalid_scope', `The requested scope '${scopes.join(' ')}' is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.`);
      const name = String(username ?? '');
      const at = name.lastIndexOf('@');
      const user = at < 0 ? name : name.slice(0, at);
      const profile = at < 0 ? undefined : name.slice(at + 1);
      const keycloak = this.sso === 'keycloak';
      const profiles = keycloak ? ['internalsso'] : ['internal', 'example.com'];
      const first = user.split('@')[0];
      const known = keycloak ? user === `${first}@ovirt` && PASSWORDS[`${first}@internal`] : PASSWORDS[name];
      const why = !user ? 'No user name found in credentials.'
        : !profile || !profiles.includes(profile) ? 'No valid profile found in credentials.'
        : !known || known !== password ? (keycloak ? 'Invalid user credentials' : 'Unable to log in. Verify your login information or contact the system administrator.')
        : undefined;
      if (why) return fail('access_denied', keycloak ? `Cannot authenticate user ${why}.` : `Cannot authenticate user '${user}@${profile ?? 'N/A'}': ${why}.`);
      this.logins.push(name);
      const token = `sso-${++counter}-${Math.random().toString(36).slice(2)}`;
      this.tokens.set(token, { user: name, userId: USER_IDS[first], admin: first === 'admin', expired: false });
      res.json({ ...fixture('sso-token'), access_token: token });
    });

    const api = express.Router();
    api.use((req, res, next) => {
      const m = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
      const info = m ? this.tokens.get(m[1]) : undefined;
      const filter = req.get('filter') === 'true';
      this.calls.push({ method: req.method, path: req.path, query: req.query as Record<string, string>, body: req.body, correlationId: req.get('correlation-id'), filter, user: info?.user ?? '' });
      if (this.down) return void res.status(this.down).json({ reason: 'Service Unavailable', detail: 'engine is down' });
      if (!info || info.expired) return void res.status(401).json(fixture('fault').unauthorized);
      if (req.get('accept') !== 'application/json') return void res.status(406).json({ reason: 'Not Acceptable', detail: 'this test server speaks JSON' });
      res.locals.info = info;
      res.locals.filtered = filter && !info.admin;
      next();
    });
    const notFound = (res: Response, id: string) => void res.status(404).json({ ...fixture('fault').notFound, detail: `Entity not found: ${id}` });
    const info = (res: Response): TokenInfo => res.locals.info;
    const vmView = (req: Request, vm: any) => {
      const follow = String(req.query.follow ?? '').split(',');
      if (follow.includes('disk_attachments.disk')) return this.followSnapshots(follow, vm);
      const { disk_attachments: _d, ...rest } = vm;
      return this.followSnapshots(follow, rest);
    };

    api.get('/', (_req, res) => {
      const root = fixture('api');
      const id = info(res).userId;
      root.authenticated_user = { href: `${API}/users/${id}`, id };
      root.effective_user = { href: `${API}/users/${id}`, id };
      res.json(root);
    });

    api.get('/vms', (req, res) => {
      let list = this.search(this.vms, String(req.query.search ?? ''), req.query.max);
      if (res.locals.filtered) list = list.filter((v) => this.visible(info(res), v.id));
      res.json(list.length ? { vm: list.map((v) => vmView(req, v)) } : {});
    });
    api.get('/vms/:id', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm || (res.locals.filtered && !this.visible(info(res), vm.id))) return notFound(res, req.params.id);
      res.json(vmView(req, vm));
    });
    // The VM's snapshots sub-collection (api-model services/SnapshotsService.java List;
    // ovirt-engine BackendSnapshotsResource.list: GetAllVmSnapshotsByVmId).
    api.get('/vms/:id/snapshots', (req, res) => {
      if (!this.vm(req.params.id) || (res.locals.filtered && !this.visible(info(res), req.params.id))) return notFound(res, req.params.id);
      res.json({ snapshot: this.sortedSnapshots(req.params.id) });
    });
    api.get('/vms/:id/permissions', (req, res) => {
      if (!this.vm(req.params.id)) return notFound(res, req.params.id);
      const list = this.vmPermissions(req.params.id);
      res.json(list.length ? { permission: list } : {});
    });
    api.post('/vms/:id/tags', (req, res) => {
      if (!this.vm(req.params.id)) return notFound(res, req.params.id);
      const tag = this.tags.find((t) => t.id === req.body?.id || t.name === req.body?.name);
      if (!tag) return notFound(res, String(req.body?.id ?? req.body?.name));
      const set = this.vmTags.get(req.params.id) ?? new Set();
      set.add(tag.id);
      this.vmTags.set(req.params.id, set);
      res.status(201).json(tag);
    });
    api.delete('/vms/:id/tags/:tag', (req, res) => {
      if (!this.vmTags.get(req.params.id)?.delete(req.params.tag)) return notFound(res, req.params.tag);
      res.json({});
    });

    this.actionRoutes(api, notFound);

    api.get('/templates', (req, res) => {
      const list = this.search(this.templates, String(req.query.search ?? ''), req.query.max);
      res.json(list.length ? { template: list.map((t) => vmView(req, t)) } : {});
    });
    api.get('/templates/:id', (req, res) => {
      const t = this.templates.find((x) => x.id === req.params.id);
      if (!t) return notFound(res, req.params.id);
      res.json(vmView(req, t));
    });
    api.get('/templates/:id/permissions', (req, res) => {
      if (!this.templates.some((x) => x.id === req.params.id)) return notFound(res, req.params.id);
      const list = this.templatePermissions(req.params.id);
      res.json(list.length ? { permission: list } : {});
    });
    api.get('/vmpools', (req, res) => {
      const list = this.search(this.pools, String(req.query.search ?? ''), req.query.max);
      res.json(list.length ? { vm_pool: list } : {});
    });
    api.get('/vmpools/:id', (req, res) => {
      const p = this.pools.find((x) => x.id === req.params.id);
      if (!p) return notFound(res, req.params.id);
      res.json(p);
    });
    api.get('/hosts', (_req, res) => void res.json(this.hosts.length ? { host: this.hosts } : {}));
    api.get('/storagedomains', (_req, res) => void res.json({ storage_domain: this.storageDomains }));

    // GET /events as oVirt/ovirt-engine 0111fc63036 answers it (admin, no Filter header):
    //  * backend/manager/modules/restapi/jaxrs/src/main/java/org/ovirt/engine/api/restapi/
    //    resource/AbstractBackendCollectionResource.java getSearchParameters: `from` ->
    //    SearchParameters.searchFrom, `max` -> maxCount, `search` -> "Events : <search>";
    //  * backend/manager/modules/searchbackend/src/main/java/org/ovirt/engine/core/
    //    searchbackend/SyntaxChecker.java generateSqlFromSyntaxContainer: "not deleted" for
    //    events, "audit_log_id > from" only when from > 0 (exclusive), ORDER BY the default
    //    sort "audit_log_id DESC" of SearchObjectAutoCompleter.java (AUDIT_OBJ_NAME) when the
    //    search has no "sortby" (the watcher sends none; "sortby" is not modelled), and
    //    getPagePhrase: "page P" -> OFFSET (P-1)*max LIMIT max (PostgresPagingSyntax in
    //    packaging/dbscripts/upgrade/pre_upgrade/0000_config.sql).
    api.get('/events', (req, res) => {
      const search = String(req.query.search ?? '');
      const max = req.query.max === undefined ? Number.MAX_SAFE_INTEGER : Number(req.query.max);
      const from = req.query.from === undefined ? -1 : Number(req.query.from);
      const page = Number(/\bpage (\d+)/.exec(search)?.[1] ?? 1);
      const list = this.events
        .filter((e) => !e.deleted && (from <= 0 || Number(e.id) > from))
        .sort((a, b) => Number(b.id) - Number(a.id))
        .slice((page - 1) * max, page * max)
        .map(({ deleted: _d, ...e }) => e);
      this.afterEventsPage?.(page);
      res.json(list.length ? { event: list } : {});
    });
    // BackendEventResource.get -> GetAuditLogById -> GetAuditLogByAuditLogId
    // (packaging/dbscripts/audit_log_sp.sql): by id, deleted rows included.
    api.get('/events/:id', (req, res) => {
      const e = this.events.find((x) => x.id === req.params.id);
      if (!e) return notFound(res, req.params.id);
      const { deleted: _d, ...rest } = e;
      res.json(rest);
    });
    // BackendEventsResource.add: origin, severity, custom_id and description are required;
    // AddExternalEventCommand.validate refuses the origin "oVirt" and a custom_id already
    // used by the origin (a validation failure: 400, BaseBackendResource.handleError); the
    // severity picks EXTERNAL_EVENT_NORMAL (12) / _WARNING (13) / _ERROR (14) / EXTERNAL_ALERT (15).
    api.post('/events', (req, res) => {
      const b = req.body ?? {};
      const missing = ['origin', 'severity', 'custom_id', 'description'].filter((k) => b[k] === undefined || b[k] === '');
      if (missing.length) return void res.status(400).json({ reason: 'Incomplete parameters', detail: `Event [${missing.join(', ')}] required for add` });
      if (String(b.origin).toLowerCase() === 'ovirt') return void res.status(400).json({ reason: 'Operation Failed', detail: '[Cannot add external event. Illegal origin.]' });
      if (this.events.some((e) => e.origin === b.origin && String(e.custom_id) === String(b.custom_id))) {
        return void res.status(400).json({ reason: 'Operation Failed', detail: '[Cannot add external event. Duplicate custom event id.]' });
      }
      const code = { normal: 12, warning: 13, error: 14, alert: 15 }[String(b.severity)] ?? 12;
      const e = this.addEvent(code, undefined, String(b.description));
      Object.assign(e, { origin: String(b.origin), severity: String(b.severity), custom_id: String(b.custom_id) });
      res.status(201).json(e);
    });

    api.get('/users/:id', (req, res) => {
      const u = this.users.find((x) => x.id === req.params.id);
      if (!u) return notFound(res, req.params.id);
      res.json(u);
    });
    // Directory groups, read from the directory at each call (GetAuthzGroupsByUserIdQuery),
    // rendered by GroupMapper.map(AuthzGroup): id = encoded external id, domain = the
    // user's authz (BackendDomainUserGroupsResource.list).
    api.get('/users/:id/groups', (req, res) => {
      if (!this.users.some((u) => u.id === req.params.id)) return notFound(res, req.params.id);
      const domain = this.domainOf(req.params.id);
      const list = (this.directory[req.params.id] ?? []).map((g) => {
        const id = directoryEntryId(g.external_id);
        return { href: `${API}/domains/${directoryEntryId(domain)}/groups/${id}`, id, name: g.name, namespace: g.namespace, domain: { id: directoryEntryId(domain), name: domain } };
      });
      res.json(list.length ? { group: list } : {});
    });
    // Engine groups (BackendGroupResource.get, GroupMapper.map(DbGroup)).
    api.get('/groups/:id', (req, res) => {
      const g = this.engineGroups.find((x) => x.id === req.params.id);
      if (!g) return notFound(res, req.params.id);
      res.json({ href: `${API}/groups/${g.id}`, id: g.id, name: g.name, domain: { id: directoryEntryId(g.domain), name: g.domain }, domain_entry_id: directoryEntryId(g.external_id), namespace: g.namespace });
    });
    api.get('/roles/:id/permits', (req, res) => {
      const p = this.permits[req.params.id];
      if (!p) return notFound(res, req.params.id);
      res.json(p);
    });
    api.get('/tags', (_req, res) => void res.json({ tag: this.tags }));
    api.post('/tags', (req, res) => {
      if (!req.body?.name) return void res.status(400).json({ reason: 'Incomplete parameters', detail: 'Tag [name] required for add' });
      const tag = { href: '', id: uuid('7a97a970'), name: req.body.name, description: req.body.description ?? '' };
      tag.href = `${API}/tags/${tag.id}`;
      this.tags.push(tag);
      res.status(201).json(tag);
    });

    const jobShape = fixture('jobs');
    api.post('/jobs', (req, res) => {
      if (!req.body?.description) return void res.status(400).json({ reason: 'Incomplete parameters', detail: 'Job [description] required for add' });
      const id = uuid('10b10b10');
      const job = JSON.parse(JSON.stringify(jobShape.job).replace(/JOB-ID/g, id).replace(/USER-ID/g, info(res).userId));
      // AddExternalJob: auto_cleared defaults to false, the job starts STARTED
      // (BackendJobsResource.add, ExecutionHandler.createJob).
      Object.assign(job, { description: req.body.description, auto_cleared: String(readBool(req.body.auto_cleared, false)), status: 'started', steps: [] });
      this.jobs.set(id, job);
      res.status(201).json(job);
    });
    // BackendJobResource.get (GetJobByJobId): 404 for a job oVirt does not have (any more).
    api.get('/jobs/:id', (req, res) => {
      const job = this.jobs.get(req.params.id);
      if (!job) return notFound(res, req.params.id);
      res.json(job);
    });
    api.post('/jobs/:id/steps', (req, res) => {
      const job = this.jobs.get(req.params.id);
      if (!job) return notFound(res, req.params.id);
      if (!req.body?.type || !req.body?.description) return void res.status(400).json({ reason: 'Incomplete parameters', detail: 'Step [type, description] required for add' });
      const id = uuid('57e057e0');
      const step = JSON.parse(JSON.stringify(jobShape.step).replace(/JOB-ID/g, job.id).replace(/STEP-ID/g, id));
      Object.assign(step, { description: req.body.description, type: req.body.type, number: String(job.steps.length) });
      job.steps.push(step);
      res.status(201).json(step);
    });
    // Ending a step (ovirt-engine 0111fc6 BackendStepResource.end -> EndExternalStepCommand):
    // reads `succeeded` only (default true); no refusal of a step already ended: the
    // status is set again (common/job/Step.markStepEnded(boolean)); a failed step ends
    // its job FAILED at once and closes the job's open steps with that status
    // (bll/job/ExecutionHandler.endStep, ExecutionMethod.AsStep).
    api.post('/jobs/:id/steps/:step/end', (req, res) => {
      const job = this.jobs.get(req.params.id);
      const step = job?.steps.find((s: any) => s.id === req.params.step);
      // EndExternalStepCommand.validate: ACTION_TYPE_NO_STEP, ErrorType.BAD_PARAMETERS -> 400
      // (restapi ErrorMessageHelper.getStatus; text of AppErrors.properties).
      if (!step) return void res.status(400).json({ reason: 'Operation Failed', detail: '[Cannot End External Step. Step not found.]' });
      const succeeded = readBool(req.body?.succeeded, true);
      step.status = succeeded ? 'finished' : 'failed';
      step.end_time = new Date().toISOString();
      if (!succeeded) endJob(job, false);
      res.json(jobShape.action);
    });
    // Ending a job (BackendJobResource.end -> EndExternalJobCommand): reads `succeeded`
    // (default true) and `force` (default false), never `status`; only a STARTED job
    // changes (Job.markJobEnded), so a job already ended answers 200 and stays as it
    // was; force marks the job auto-cleared and its steps still STARTED ABORTED, after
    // the end has closed them with the job's status (JobRepositoryImpl
    // .updateCompletedJobAndSteps, then .closeCompletedJobSteps).
    api.post('/jobs/:id/end', (req, res) => {
      const job = this.jobs.get(req.params.id);
      // EndExternalJobCommand.validate: ACTION_TYPE_NO_JOB (with VAR__ACTION__CLEAR, as
      // the command has it), BAD_PARAMETERS -> 400, not 404: the resource does not look
      // the job up first.
      if (!job) return void res.status(400).json({ reason: 'Operation Failed', detail: '[Cannot Clear External Job. Job not found.]' });
      endJob(job, readBool(req.body?.succeeded, true));
      if (readBool(req.body?.force, false)) {
        job.auto_cleared = 'true';
        closeSteps(job, 'aborted');
      }
      res.json(jobShape.action);
    });
    app.use(API, api);
    return app;
  }

  /**
   * The VM actions of issue 14 (see the header). Conflicts answer 409 with oVirt's fault
   * shape {reason: "Operation Failed", detail: "[Cannot <action> VM. <why>]"}
   * (restapi BaseBackendResource.handleError, AppErrors.properties wording).
   */
  private actionRoutes(api: express.Router, notFound: (res: Response, id: string) => void): void {
    const refuse = (res: Response, action: string, why: string) => void res.status(409).json({ reason: 'Operation Failed', detail: `[Cannot ${action} VM. ${why}]` });
    const link = (kind: string, id: string) => ({ href: `${API}/${kind}/${id}`, id });
    const action = (status = 'complete') => ({ status });

    // VmsService.add: template and cluster (by id or name) required, clone (query) default false.
    api.post('/vms', (req, res) => {
      const b = req.body ?? {};
      const missing = ['name', 'template', 'cluster'].filter((k) => !b[k]);
      if (missing.length) return void res.status(400).json({ reason: 'Incomplete parameters', detail: `Vm [${missing.join(', ')}] required for add` });
      const t = this.templates.find((x) => x.id === b.template.id || (!b.template.id && x.name === b.template.name));
      if (!t) return notFound(res, String(b.template.id ?? b.template.name));
      if (this.vms.some((v) => v.name === b.name)) return refuse(res, 'add', 'Name is already in use');
      if (t.cluster?.id && b.cluster.id && b.cluster.id !== t.cluster.id) return refuse(res, 'add', 'Template is not in the cluster');
      const clone = readBool(req.query.clone, false);
      const vm = this.addVm({ name: b.name, template: clone ? IDS.blank : t.id, status: 'image_locked', disks: 0 });
      Object.assign(vm, { comment: b.comment ?? '', description: b.description ?? '', original_template: link('templates', t.id), cluster: link('clusters', b.cluster.id ?? t.cluster?.id) });
      const tDisks: any[] = t.disk_attachments?.disk_attachment ?? [];
      vm.disk_attachments.disk_attachment = tDisks.map((ta: any, i: number) => {
        const diskId = uuid('a0a0a0a0');
        return { ...ta, id: diskId, disk: { ...ta.disk, href: `${API}/disks/${diskId}`, id: diskId, alias: `${b.name}_Disk${i + 1}`, image_id: uuid('b1b1b1b1'), format: 'cow', status: 'locked' } };
      });
      this.actions.push(`add ${b.name} template=${t.name} clone=${clone}`);
      this.addEvent(37, vm.id, `VM ${b.name} creation was initiated by admin@internal-authz.`);
      this.later(async () => {
        for (const [i, a] of vm.disk_attachments.disk_attachment.entries()) {
          const sd = this.storageDomains.find((x) => x.id === a.disk.storage_domains?.storage_domain?.[0]?.id);
          await this.onVolume?.({ vm, disk: a.disk, sd, volumeId: a.disk.image_id, parentVolumeId: tDisks[i].disk.image_id, why: 'clone' });
          a.disk.status = 'ok';
        }
        vm.status = 'down';
        this.addEvent(53, vm.id, `VM ${b.name} creation has been completed.`);
      });
      res.status(202).json(vm);
    });

    api.post('/vms/:id/start', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm) return notFound(res, req.params.id);
      if (vm.status !== 'down') return refuse(res, 'run', vm.status === 'image_locked' ? 'VM is locked. Please try again in a few minutes.' : 'VM is running.');
      vm.status = 'wait_for_launch';
      this.actions.push(`start ${vm.name}`);
      this.later(() => void (vm.status = 'powering_up'), () => void (vm.status = 'up'));
      res.json(action());
    });
    api.post('/vms/:id/stop', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm) return notFound(res, req.params.id);
      if (vm.status === 'down' || vm.status === 'image_locked') return refuse(res, 'stop', 'VM is not running.');
      this.actions.push(`stop ${vm.name}`);
      this.later(() => void (vm.status = 'down'));
      res.json(action());
    });
    api.post('/vms/:id/shutdown', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm) return notFound(res, req.params.id);
      if (vm.status !== 'up') return refuse(res, 'shutdown', 'VM is not running.');
      this.actions.push(`shutdown ${vm.name}`);
      if (this.ignoresAcpi.has(vm.id)) return void res.json(action());
      vm.status = 'powering_down';
      this.later(() => void (vm.status = 'down'));
      res.json(action());
    });
    // VmService.remove (RemoveVmCommand): the VM must be down; removed with its disks.
    api.delete('/vms/:id', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm) return notFound(res, req.params.id);
      if (vm.status !== 'down') return refuse(res, 'remove', vm.status === 'image_locked' ? 'VM is locked. Please try again in a few minutes.' : 'VM is running.');
      vm.status = 'image_locked';
      this.actions.push(`remove ${vm.name}`);
      this.later(() => {
        this.vms = this.vms.filter((v) => v !== vm);
        this.snapshots.delete(vm.id);
      });
      res.json(action());
    });

    api.get('/vms/:id/snapshots/:sid', (req, res) => {
      const s = this.vm(req.params.id) && this.snapshotsOf(req.params.id).find((x) => x.id === req.params.sid);
      if (!s) return notFound(res, req.params.sid);
      res.json(s);
    });
    // SnapshotsService.add (CreateSnapshotForVmCommand): VM down here (no memory), not locked.
    api.post('/vms/:id/snapshots', (req, res) => {
      const vm = this.vm(req.params.id);
      if (!vm) return notFound(res, req.params.id);
      if (vm.status !== 'down') return refuse(res, 'create Snapshot for', vm.status === 'image_locked' ? 'VM is locked. Please try again in a few minutes.' : 'VM is not down.');
      const s = this.addSnapshot(vm.id, String(req.body?.description ?? ''));
      s.snapshot_status = 'locked';
      s.persist_memorystate = String(readBool(req.body?.persist_memorystate, false));
      vm.status = 'image_locked';
      this.actions.push(`snapshot ${vm.name} ${s.description}`);
      // The snapshot keeps the volumes the VM had; the VM goes on on new leaves over them.
      const before = new Map<string, string>((vm.disk_attachments?.disk_attachment ?? []).map((a: any) => [a.disk.id, a.disk.image_id]));
      this.snapshotVolumes.set(s.id, before);
      this.later(async () => {
        await this.newLeaves(vm, 'snapshot', (d) => before.get(d.id)!);
        s.snapshot_status = 'ok';
        vm.status = 'down';
      });
      res.status(202).json(s);
    });
    // SnapshotService.restore: preview + commit; the snapshots after the target are removed.
    api.post('/vms/:id/snapshots/:sid/restore', (req, res) => {
      const vm = this.vm(req.params.id);
      const list = vm ? this.snapshotsOf(vm.id) : [];
      const target = list.find((x) => x.id === req.params.sid);
      if (!vm || !target) return notFound(res, req.params.sid);
      if (vm.status !== 'down') return refuse(res, 'revert to Snapshot for', vm.status === 'image_locked' ? 'VM is locked. Please try again in a few minutes.' : 'VM is not down.');
      if (target.snapshot_type !== 'regular' || target.snapshot_status !== 'ok') return refuse(res, 'revert to Snapshot for', 'Snapshot is not ok.');
      vm.status = 'image_locked';
      target.snapshot_status = 'locked';
      this.actions.push(`restore ${vm.name} ${target.description}`);
      this.later(async () => {
        const kept = this.snapshotsOf(vm.id).filter((x) => x.snapshot_type !== 'regular' || Number(x.date) <= Number(target.date));
        this.snapshots.set(vm.id, kept);
        await this.newLeaves(vm, 'restore', (d) => this.snapshotVolumes.get(target.id)?.get(d.id) ?? d.image_id);
        target.snapshot_status = 'ok';
        vm.status = 'down';
      });
      res.json(action());
    });
    api.delete('/vms/:id/snapshots/:sid', (req, res) => {
      const vm = this.vm(req.params.id);
      const s = vm && this.snapshotsOf(vm.id).find((x) => x.id === req.params.sid && x.snapshot_type === 'regular');
      if (!vm || !s) return notFound(res, req.params.sid);
      if (s.snapshot_status !== 'ok') return refuse(res, 'remove Snapshot for', 'Snapshot is locked.');
      s.snapshot_status = 'locked';
      this.actions.push(`remove-snapshot ${vm.name} ${s.description}`);
      this.later(() => {
        this.snapshots.set(vm.id, this.snapshotsOf(vm.id).filter((x) => x !== s));
      });
      res.json(action());
    });
  }

  /**
   * follow=snapshots on a VM: ovirt-engine's LinkFollower fetches the `snapshots` link (the
   * Vm type's @Link Snapshot[] snapshots(), api-model types/Vm.java) and inlines the list.
   */
  private followSnapshots(follow: string[], o: any): any {
    if (!follow.includes('snapshots') || !this.vms.includes(this.vm(o.id))) return o;
    return { ...o, snapshots: { snapshot: this.sortedSnapshots(o.id) } };
  }

  /** Oldest first, as ovirt-engine's GetAllFromSnapshotsByVmId (packaging/dbscripts/snapshots_sp.sql) orders them. */
  private sortedSnapshots(vmId: string): any[] {
    return [...this.snapshotsOf(vmId)].sort((a, b) => Number(a.date) - Number(b.date));
  }

  /** The subset of oVirt's search the plugin uses. */
  private search(list: any[], search: string, maxParam: unknown): any[] {
    let out = list;
    const page = Number(/\bpage (\d+)/.exec(search)?.[1] ?? 1);
    for (const m of search.matchAll(/(?:^|\s)(name|pool|tag|template\.name)=(\S+)/g)) {
      const [, field, raw] = m;
      if (field === 'template.name') {
        const t = this.templates.find((x) => x.name === raw);
        out = t ? out.filter((o) => o.template?.id === t.id) : [];
      } else if (field === 'name') {
        const re = new RegExp(`^${raw.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
        out = out.filter((o) => re.test(o.name));
      } else if (field === 'pool') {
        const pool = this.pools.find((p) => p.name === raw);
        out = pool ? out.filter((o) => o.vm_pool?.id === pool.id) : [];
      } else {
        const tag = this.tags.find((t) => t.name === raw);
        out = tag ? out.filter((o) => this.vmTags.get(o.id)?.has(tag.id)) : [];
      }
    }
    if (/sortby name asc/.test(search)) out = [...out].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const max = maxParam === undefined ? out.length : Number(maxParam);
    return out.slice((page - 1) * max, page * max);
  }
}
