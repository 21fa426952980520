// The engine's composition root: the one place where the tsyringe container is wired
// (main.ts, the CLI, and the tests both come through startEngine). Start-up order:
// database -> inventory (hosts from the config) -> agent probes -> services ->
// reconcile jobs left active by a previous run -> HTTP(S) server. How the API is served
// (apiServer.ts) is decided first: a setting that would expose tokens stops the start.
import 'reflect-metadata';
import { container, DependencyContainer } from 'tsyringe';
import { AccessLog, accessLogFile } from './api/accessLog';
import { createApp } from './api/app';
import type { ApiDeps } from './api/deps';
import { apiTransport, listenApi } from './apiServer';
import { AutoReset } from './autoreset/AutoReset';
import { EngineConfig, withDefaults } from './config';
import { Db, openDb } from './db';
import { hostname } from 'node:os';
import { Leadership } from './standby/Leadership';
import { stopForRestart } from './stopForRestart';
import { AgentDiskChecker } from './dispatch/AgentDiskChecker';
import { AgentJobLog } from './dispatch/AgentJobLog';
import { AgentPool } from './dispatch/AgentPool';
import { Dispatcher } from './dispatch/Dispatcher';
import { HostSelector } from './dispatch/HostSelector';
import { Inspector } from './dispatch/Inspector';
import { GuestOsLookup } from './inspection/GuestOsLookup';
import { InspectionService } from './inspection/InspectionService';
import { InspectionStore } from './inspection/InspectionStore';
import { DiskChecker } from './inventory/DiskChecker';
import { EmbeddedInventory } from './inventory/EmbeddedInventory';
import { EmbeddedSnapshots } from './inventory/EmbeddedSnapshots';
import { Inventory } from './inventory/Inventory';
import { KnownGuestOs, GuestOsSource } from './inventory/GuestOsSource';
import { EmbeddedVmPower } from './inventory/EmbeddedVmPower';
import { InventoryActions } from './inventory/InventoryActions';
import { InventoryDeletion } from './inventory/InventoryDeletion';
import { TemplateClones } from './inventory/TemplateClones';
import { VmPower } from './inventory/VmPower';
import { VmSnapshots } from './inventory/VmSnapshots';
import { VmCloning } from './inventory/VmCloning';
import { QemuImg, qemuImg } from './inventory/qemuImg';
import { JobAuthorizer, ROLE_ONLY_AUTHORIZER } from './jobs/JobAuthorizer';
import { JobBus } from './jobs/JobBus';
import { JobLifecycle } from './jobs/JobLifecycle';
import { JobRunner } from './jobs/JobRunner';
import { JobService } from './jobs/JobService';
import { JobStream } from './jobs/JobStream';
import { VmLocks } from './jobs/VmLocks';
import { JobStore } from './jobs/JobStore';
import { LastSysprep } from './jobs/LastSysprep';
import { LibvirtActions } from './libvirt/LibvirtActions';
import { LibvirtConfig } from './libvirt/LibvirtConfig';
import { LibvirtDaemons } from './libvirt/LibvirtDaemons';
import { EngineDefinedDomains } from './libvirt/EngineDefinedDomains';
import { LibvirtDeletion } from './libvirt/LibvirtDeletion';
import { LibvirtEventWatcher } from './libvirt/LibvirtEventWatcher';
import { LibvirtInventory } from './libvirt/LibvirtInventory';
import { LibvirtPower } from './libvirt/LibvirtPower';
import { LibvirtSnapshots } from './libvirt/LibvirtSnapshots';
import { TemplateBacking } from './libvirt/TemplateBacking';
import { createLogger, Logger } from './logger';
import { EngineMetrics } from './metrics/EngineMetrics';
import { ExternalJobMirror } from './ovirt/ExternalJobMirror';
import { LifecycleGuard } from './ovirt/LifecycleGuard';
import { OvirtAuthorizer } from './ovirt/OvirtAuthorizer';
import { OvirtClient } from './ovirt/OvirtClient';
import { OvirtCloning } from './ovirt/OvirtCloning';
import { OvirtDeletion } from './ovirt/OvirtDeletion';
import { OvirtPower } from './ovirt/OvirtPower';
import { OvirtSnapshots } from './ovirt/OvirtSnapshots';
import { OvirtConfig } from './ovirt/OvirtConfig';
import { OvirtEventWatcher } from './ovirt/OvirtEventWatcher';
import { OvirtInventory } from './ovirt/OvirtInventory';
import { OvirtStateStore } from './ovirt/OvirtStateStore';
import { ProfileStore } from './profiles/ProfileStore';
import { RoomFollowUp } from './rooms/RoomFollowUp';
import { RoomRollout } from './rooms/RoomRollout';
import { RoomService } from './rooms/RoomService';
import { RoomState } from './rooms/RoomState';
import { JobPruner } from './retention/JobPruner';

export interface RunningEngine {
  /** https://host:port with [engine] tls_cert and tls_key, else http://host:port */
  url: string;
  config: EngineConfig;
  /** Resolved services, for tests and the demo. */
  deps: ApiDeps;
  /** The oVirt integration's services (inventory = ovirt), for tests and the demo. */
  ovirt?: OvirtServices;
  /** The libvirt event watcher (inventory = libvirt), for tests. */
  libvirtEvents?: LibvirtEventWatcher;
  /** Graceful stop: the HTTP server, watches and clients; jobs on agents go on. */
  stop(): Promise<void>;
}

export async function startEngine(partial: Partial<EngineConfig>): Promise<RunningEngine> {
  const config = withDefaults(partial);
  if (config.tokens.length === 0) throw new Error('no API token is configured ([tokens] in engine.conf): every request would be refused');
  const transport = apiTransport(config);
  const log = createLogger(config.logLevel, config.logFile);
  if (transport.warning) log.warn(transport.warning, { listen: config.listen });
  const restart = stopForRestart(log, config.logFile);
  // A lost database connection (a PostgreSQL restart): libpq does not connect again, and the
  // leader's lock went with the session. Stop; the service manager starts a new engine.
  // A turn of the event loop later: the request that found it answers its 503 first.
  const db = openDb(config.database, config.dataDir, (err) =>
    setImmediate(() => restart('the engine lost its database connection: stopping (its service manager starts it again)', { error: err.message })));

  const c = container.createChildContainer();
  c.register(EngineConfig, { useValue: config });
  c.register(Logger, { useValue: log });
  c.register(Db, { useValue: db });
  c.register(QemuImg, { useValue: qemuImg() });
  if (config.inventory === 'ovirt') {
    // oVirt owns VMs, pools, templates and hosts; it authorizes its users (docs/ovirt.md).
    if (!config.ovirt) throw new Error('inventory = ovirt needs the [ovirt] settings');
    c.register(OvirtConfig, { useValue: config.ovirt });
    for (const cls of OVIRT_SERVICES) c.registerSingleton(cls as never);
    c.register(Inventory, { useToken: OvirtInventory });
    c.register(InventoryActions, { useFactory: () => null });
    // Clone, power, snapshots and VM delete through oVirt's REST API (docs/ovirt.md).
    c.register(VmCloning, { useToken: OvirtCloning });
    c.register(VmPower, { useToken: OvirtPower });
    c.register(VmSnapshots, { useToken: OvirtSnapshots });
    c.register(InventoryDeletion, { useToken: OvirtDeletion });
    c.register(TemplateClones, { useFactory: () => null }); // OvirtAuthorizer asks oVirt
    c.register(JobAuthorizer, { useToken: OvirtAuthorizer });
  } else if (config.inventory === 'libvirt') {
    // libvirt owns domains, their state and disks (docs/libvirt.md); the actions (clone,
    // import, pools, power, delete) act on the domains, disks checked by the agents.
    c.register(LibvirtConfig, { useValue: config.libvirt });
    c.registerSingleton(LibvirtDaemons);
    c.registerSingleton(LibvirtInventory);
    // Disks and their backing chains are read by the agents (CheckDisks): outside clones carry no metadata.
    c.register(DiskChecker, { useClass: AgentDiskChecker });
    c.register(Inventory, { useToken: LibvirtInventory });
    c.registerSingleton(LibvirtActions);
    c.register(InventoryActions, { useToken: LibvirtActions });
    c.register(VmCloning, { useToken: LibvirtActions });
    c.register(VmPower, { useClass: LibvirtPower });
    c.register(VmSnapshots, { useClass: LibvirtSnapshots });
    c.register(InventoryDeletion, { useClass: LibvirtDeletion });
    c.registerSingleton(EngineDefinedDomains);
    c.registerSingleton(TemplateBacking);
    c.registerSingleton(LibvirtEventWatcher);
    c.register(TemplateClones, { useToken: TemplateBacking });
    c.register(JobAuthorizer, { useValue: ROLE_ONLY_AUTHORIZER });
  } else {
    c.registerSingleton(EmbeddedInventory);
    c.register(DiskChecker, { useClass: AgentDiskChecker });
    c.register(Inventory, { useToken: EmbeddedInventory });
    c.register(InventoryActions, { useToken: EmbeddedInventory });
    c.register(VmCloning, { useToken: EmbeddedInventory });
    c.register(VmPower, { useClass: EmbeddedVmPower });
    c.register(VmSnapshots, { useClass: EmbeddedSnapshots });
    c.register(InventoryDeletion, { useToken: EmbeddedInventory });
    c.register(TemplateClones, { useToken: EmbeddedInventory });
    c.register(JobAuthorizer, { useValue: ROLE_ONLY_AUTHORIZER });
  }
  c.register(GuestOsSource, { useClass: KnownGuestOs });
  for (const cls of [JobStore, JobBus, JobLifecycle, JobStream, VmLocks, ProfileStore, AgentPool, HostSelector, Inspector, Dispatcher, JobService, AutoReset]) c.registerSingleton(cls as never);
  for (const cls of [RoomState, RoomRollout, RoomFollowUp, RoomService]) c.registerSingleton(cls as never);
  c.register(JobRunner, { useToken: Dispatcher });
  for (const cls of [InspectionStore, InspectionService]) c.registerSingleton(cls as never);
  c.register(GuestOsLookup, { useToken: InspectionService });

  const actions = c.resolve<InventoryActions | null>(InventoryActions);
  for (const h of actions ? config.hosts : []) {
    await actions!.upsertHost({ id: h.id, name: h.name ?? h.id, agentAddress: h.address, storageRoots: h.storageRoots });
  }
  const agents = c.resolve(AgentPool);
  await agents.start();

  const deps: ApiDeps = {
    config,
    log,
    inventory: c.resolve<Inventory>(Inventory),
    actions,
    cloning: c.resolve<VmCloning | null>(VmCloning),
    authorizer: c.resolve<JobAuthorizer>(JobAuthorizer),
    power: c.resolve<VmPower | null>(VmPower),
    snapshots: c.resolve<VmSnapshots | null>(VmSnapshots),
    deletion: c.resolve<InventoryDeletion | null>(InventoryDeletion),
    jobs: c.resolve(JobService),
    jobStream: c.resolve(JobStream),
    locks: c.resolve(VmLocks),
    inspection: c.resolve(InspectionService),
    store: c.resolve(JobStore),
    lastSysprep: c.resolve(LastSysprep),
    bus: c.resolve(JobBus),
    profiles: c.resolve(ProfileStore),
    agents,
    dispatcher: c.resolve(Dispatcher),
    jobLog: c.resolve(AgentJobLog),
    autoReset: c.resolve(AutoReset),
    rooms: c.resolve(RoomService),
  };
  // A room's follow-up steps listen before resumed jobs can end.
  c.resolve(RoomFollowUp);
  // Metrics (engine-plugin/metrics/, GET /metrics): listen on the bus before resumed jobs publish.
  c.registerSingleton(EngineMetrics);
  deps.metrics = c.resolve(EngineMetrics);
  const ovirt: OvirtServices | undefined = config.inventory === 'ovirt' ? resolveOvirt(c) : undefined;
  if (ovirt) {
    deps.externalAuth = ovirt.authorizer.authenticate;
    deps.ovirtEvents = () => ovirt.watcher.status;
  }
  const libvirtEvents = config.inventory === 'libvirt' ? c.resolve(LibvirtEventWatcher) : undefined;
  const pruner = c.resolve(JobPruner);

  // What only the leader does (standby/Leadership.ts): on SQLite, or when this engine holds
  // the leader lock at start, before it listens; on a standby, once it takes over.
  const resumeAll = async () => {
    // oVirt: the mirror and the guard listen before resumed jobs publish anything.
    if (ovirt && config.ovirt!.externalJobs) ovirt.mirror.start();
    ovirt?.guard.start();
    const orphans = deps.store.removeOrphans();
    if (orphans) log.warn('removed the children of a bulk job that was never stored whole', { rows: orphans });
    deps.inspection.reconcile(); // before resume(): the dispatcher must never see an inspect leaf
    deps.dispatcher.resume();
    c.resolve(JobLifecycle).reconcileParents();
    await deps.autoReset.reconcile(deps.inventory);
    // Retention (retention/JobPruner.ts): ended jobs past job_retention_days go at start and hourly.
    pruner.start();
  };
  const watchAll = () => {
    ovirt?.watcher.start();
    // libvirt: domains defined outside the product are reset before their first start.
    libvirtEvents?.start();
  };
  const leadership = new Leadership(db, log, `${hostname()}:${process.pid}`, restart);
  deps.leadership = leadership;
  if (leadership.tryNow()) await resumeAll();
  else log.warn('another engine leads (it holds the leader lock of the database): this one serves the API as a standby', { database: db.location });

  // The access log (api/accessLog.ts): one JSON line per request.
  const accessFile = accessLogFile(config);
  if (accessFile) deps.accessLog = new AccessLog(accessFile, log);

  const { app } = createApp(deps);
  const { server, url } = await listenApi(app, config.listen, transport);
  log.info('engine listening', { url, dataDir: config.dataDir, hosts: agents.all().length, role: leadership.role });
  if (leadership.isLeader) watchAll();
  leadership.start(config.advertiseUrl || url, async () => {
    await resumeAll();
    watchAll();
  });

  let stopped = false;
  return {
    url,
    config,
    deps,
    ovirt,
    libvirtEvents,
    async stop() {
      if (stopped) return;
      stopped = true;
      await ovirt?.watcher.stop();
      await libvirtEvents?.stop();
      leadership.stop();
      deps.dispatcher.stop();
      deps.inspection.stop();
      deps.metrics?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agents.stop();
      if (ovirt) {
        await ovirt.mirror.stop();
        await ovirt.guard.stop();
        ovirt.client.close();
      }
      await pruner.stop();
      await deps.accessLog?.close();
      deps.store.close();
      db.close();
      log.close();
    },
  };
}

/** The oVirt integration (engine-plugin/ovirt/), registered when inventory = ovirt. */
const OVIRT_SERVICES = [OvirtClient, OvirtInventory, OvirtStateStore, OvirtAuthorizer, OvirtEventWatcher, ExternalJobMirror, LifecycleGuard, OvirtCloning, OvirtPower, OvirtSnapshots, OvirtDeletion];

export interface OvirtServices {
  client: OvirtClient;
  inventory: OvirtInventory;
  authorizer: OvirtAuthorizer;
  watcher: OvirtEventWatcher;
  mirror: ExternalJobMirror;
  guard: LifecycleGuard;
}

function resolveOvirt(c: DependencyContainer): OvirtServices {
  return {
    client: c.resolve(OvirtClient),
    inventory: c.resolve(OvirtInventory),
    authorizer: c.resolve(OvirtAuthorizer),
    watcher: c.resolve(OvirtEventWatcher),
    mirror: c.resolve(ExternalJobMirror),
    guard: c.resolve(LifecycleGuard),
  };
}
