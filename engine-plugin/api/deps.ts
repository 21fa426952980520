import type { AccessLog } from './accessLog';
import type { Leadership } from '../standby/Leadership';
import type { ExternalAuthenticator } from './auth';
import type { AutoReset } from '../autoreset/AutoReset';
import type { EngineConfig } from '../config';
import type { AgentJobLog } from '../dispatch/AgentJobLog';
import type { AgentPool } from '../dispatch/AgentPool';
import type { Dispatcher } from '../dispatch/Dispatcher';
import type { InspectionService } from '../inspection/InspectionService';
import type { Inventory } from '../inventory/Inventory';
import type { InventoryActions } from '../inventory/InventoryActions';
import type { InventoryDeletion } from '../inventory/InventoryDeletion';
import type { VmCloning } from '../inventory/VmCloning';
import type { VmPower } from '../inventory/VmPower';
import type { JobAuthorizer } from '../jobs/JobAuthorizer';
import type { VmSnapshots } from '../inventory/VmSnapshots';
import type { JobBus } from '../jobs/JobBus';
import type { JobService } from '../jobs/JobService';
import type { JobStream } from '../jobs/JobStream';
import type { VmLocks } from '../jobs/VmLocks';
import type { JobStore } from '../jobs/JobStore';
import type { LastSysprep } from '../jobs/LastSysprep';
import type { Logger } from '../logger';
import type { EngineMetrics } from '../metrics/EngineMetrics';
import type { ProfileStore } from '../profiles/ProfileStore';
import type { RoomService } from '../rooms/RoomService';
import type { EventWatchStatus } from '../ovirt/OvirtEventWatcher';

/** What the routers use, resolved once by the composition root. */
export interface ApiDeps {
  config: EngineConfig;
  log: Logger;
  inventory: Inventory;
  /** null with an inventory the engine does not own (oVirt): embedded actions answer 501. */
  actions: InventoryActions | null;
  /** A clone from a template (POST /vms with a template): every inventory (oVirt through its API). */
  cloning: VmCloning | null;
  /** May the caller act on these VMs / templates (oVirt asks oVirt; else engine roles only). */
  authorizer: JobAuthorizer;
  /** Start, shutdown, stop of the inventory's VMs; null where the inventory does not allow it (oVirt): NOT_SUPPORTED. */
  power: VmPower | null;
  /** A VM's snapshots; null where the inventory keeps none through the API (embedded, oVirt): NOT_SUPPORTED. */
  snapshots: VmSnapshots | null;
  /** DELETE of VMs, templates, pools; null where the inventory does not allow it (oVirt): NOT_SUPPORTED. */
  deletion: InventoryDeletion | null;
  jobs: JobService;
  jobStream: JobStream;
  locks: VmLocks;
  inspection: InspectionService;
  store: JobStore;
  /** Adds each VM's last sysprep and host to the VM listings. */
  lastSysprep: LastSysprep;
  bus: JobBus;
  profiles: ProfileStore;
  agents: AgentPool;
  dispatcher: Dispatcher;
  /** Job logs, read from the agents. */
  jobLog: AgentJobLog;
  autoReset: AutoReset;
  /** The room commands (show, rollout, reset, delete) on a room file's plan. */
  rooms: RoomService;
  /** Tokens that are not in [tokens]: asked of oVirt (inventory = ovirt), else refused. */
  externalAuth?: ExternalAuthenticator;
  /** The engine's metrics (GET /metrics and the request timing); absent: neither. */
  metrics?: EngineMetrics;
  /** Leader or standby (standby/Leadership.ts); absent: leader (tests that build the app alone). */
  leadership?: Leadership;
  /** oVirt's event watcher (inventory = ovirt): last poll, error, discontinuities. */
  ovirtEvents?: () => EventWatchStatus;
  /** [engine] access_log: one JSON line per request; absent: off. */
  accessLog?: AccessLog;
}
