// The [ovirt] section of engine.conf: where the oVirt engine is, how the plugin logs in,
// and the conventions that map oVirt objects to what the host agents see. Every key is
// documented in docs/ovirt.md; parseOvirtSection() is the one parser (config.ts calls it).
import * as path from 'node:path';
import type { Role } from '../Role';
import { KeySetter, parseSection } from '../configSection';

export type GuardMode = 'tag' | 'none';

export interface OvirtConfig {
  /** Engine base URL, e.g. https://engine.example.com (the API is <url>/ovirt-engine/api). */
  url: string;
  /** PEM file of the engine CA (/etc/pki/ovirt-engine/ca.pem); empty: the system CAs. */
  caFile: string;
  /** The plugin's own oVirt account (e.g. ovirt-sysprep@internal), password grant. */
  username: string;
  /** A 0600 file holding its password (preferred) ... */
  passwordFile: string;
  /** ... or the password itself. */
  password: string;
  /** Port of the host agent on every oVirt host (address = the host's address). */
  agentPort: number;
  /** Where the hosts mount file storage domains (vdsm: /rhev/data-center/mnt). */
  mountRoot: string;
  /** Seconds a listing page or host/storage-domain list stays cached. */
  cacheTtlSec: number;
  /** VMs per request when paging through oVirt (max= / "page N"). */
  pageSize: number;
  /** Seconds between two event polls while the engine answers. */
  eventsIntervalSec: number;
  /** Longest wait between polls while the engine is unreachable (back-off). */
  eventsMaxBackoffSec: number;
  /** How long a new VM may take to become Down with all disks OK before its reset is given up. */
  readyTimeoutSec: number;
  /** oVirt permits (any of them) a user's role on the VM must hold to run sysprep on it. */
  requiredPermits: string[];
  /** Engine role given to users who come with an oVirt SSO token (the UI plugin). */
  userRole: Role;
  /** Seconds a verified user token is trusted without asking oVirt again. */
  userTokenTtlSec: number;
  /** Lifecycle guard during a job: pin a tag on the VM and watch its status. */
  guard: GuardMode;
  guardTag: string;
  /** Seconds between two status checks of a VM under a job. */
  guardPollSec: number;
  /** Mirror jobs in oVirt's Tasks view (external jobs). */
  externalJobs: boolean;
}

export function defaultOvirtConfig(): OvirtConfig {
  return {
    url: '',
    caFile: '',
    username: '',
    passwordFile: '',
    password: '',
    agentPort: 54323,
    mountRoot: '/rhev/data-center/mnt',
    cacheTtlSec: 30,
    pageSize: 100,
    eventsIntervalSec: 10,
    eventsMaxBackoffSec: 300,
    readyTimeoutSec: 1800,
    requiredPermits: ['edit_vm_properties'],
    userRole: 'operator',
    userTokenTtlSec: 60,
    guard: 'tag',
    guardTag: 'ovirt-sysprep-busy',
    guardPollSec: 5,
    externalJobs: true,
  };
}

type Setter = KeySetter<OvirtConfig>;

const posInt = (v: string, err: (m: string) => never, key: string): number => {
  if (!/^\d+$/.test(v) || Number(v) === 0) err(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
};
const bool = (v: string, err: (m: string) => never, key: string): boolean => {
  if (['true', 'on', 'yes', '1'].includes(v)) return true;
  if (['false', 'off', 'no', '0'].includes(v)) return false;
  return err(`${key} must be on or off, got ${JSON.stringify(v)}`);
};

export const OVIRT_KEYS: Record<string, Setter> = {
  url: (c, v, err) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return err(`url must be the engine URL (https://engine.example.com), got ${JSON.stringify(v)}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') err('url must be http(s)');
    // Accept the API or engine URL too: keep the origin plus any prefix before /ovirt-engine.
    c.url = `${u.origin}${u.pathname.replace(/\/ovirt-engine(\/.*)?$/, '').replace(/\/$/, '')}`;
  },
  ca_file: (c, v) => { c.caFile = path.resolve(v); },
  username: (c, v) => { c.username = v; },
  password_file: (c, v) => { c.passwordFile = path.resolve(v); },
  password: (c, v) => { c.password = v; },
  agent_port: (c, v, err) => { c.agentPort = posInt(v, err, 'agent_port'); },
  mount_root: (c, v) => { c.mountRoot = path.resolve(v); },
  cache_ttl_sec: (c, v, err) => { c.cacheTtlSec = posInt(v, err, 'cache_ttl_sec'); },
  page_size: (c, v, err) => { c.pageSize = Math.min(posInt(v, err, 'page_size'), 1000); },
  events_interval_sec: (c, v, err) => { c.eventsIntervalSec = posInt(v, err, 'events_interval_sec'); },
  events_max_backoff_sec: (c, v, err) => { c.eventsMaxBackoffSec = posInt(v, err, 'events_max_backoff_sec'); },
  ready_timeout_sec: (c, v, err) => { c.readyTimeoutSec = posInt(v, err, 'ready_timeout_sec'); },
  required_permits: (c, v, err) => {
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) err('required_permits must name at least one permit (e.g. edit_vm_properties)');
    c.requiredPermits = list;
  },
  user_role: (c, v, err) => {
    if (v !== 'operator' && v !== 'viewer' && v !== 'admin') err(`user_role must be viewer, operator or admin, got ${JSON.stringify(v)}`);
    c.userRole = v as Role;
  },
  user_token_ttl_sec: (c, v, err) => { c.userTokenTtlSec = posInt(v, err, 'user_token_ttl_sec'); },
  guard: (c, v, err) => {
    if (v !== 'tag' && v !== 'none') err(`guard must be tag or none, got ${JSON.stringify(v)}`);
    c.guard = v as GuardMode;
  },
  guard_tag: (c, v, err) => {
    if (!/^[A-Za-z0-9_.-]{1,50}$/.test(v)) err('guard_tag must be 1-50 letters, digits, "_", "." or "-"');
    c.guardTag = v;
  },
  guard_poll_sec: (c, v, err) => { c.guardPollSec = posInt(v, err, 'guard_poll_sec'); },
  external_jobs: (c, v, err) => { c.externalJobs = bool(v, err, 'external_jobs'); },
};

/** Parses the [ovirt] section; throws naming the file and key. */
export function parseOvirtSection(values: Record<string, string>, file = 'engine.conf'): OvirtConfig {
  const c = parseSection('ovirt', OVIRT_KEYS, defaultOvirtConfig(), values, file);
  checkOvirtConfig(c, file);
  return c;
}

export function checkOvirtConfig(c: OvirtConfig, file = 'engine.conf'): void {
  if (!c.url) throw new Error(`${file}: [ovirt] url is required with inventory = ovirt`);
  if (!c.username) throw new Error(`${file}: [ovirt] username is required (the plugin's oVirt account, e.g. ovirt-sysprep@internal)`);
  // The SSO takes the profile from after the last "@" and refuses a name without one
  // (ovirt-engine enginesso SsoService.translateUser, areCredentialsValid).
  if (!/@[^@]+$/.test(c.username)) {
    throw new Error(`${file}: [ovirt] username must end with its oVirt profile: ovirt-sysprep@internal (aaa-jdbc) or ovirt-sysprep@ovirt@internalsso (Keycloak), see docs/ovirt.md 1.1`);
  }
  if (!c.password && !c.passwordFile) throw new Error(`${file}: [ovirt] needs password_file (preferred) or password`);
}

/** Fills defaults into a partial [ovirt] config (tests and startEngine callers). */
export function ovirtWithDefaults(partial: Partial<OvirtConfig>): OvirtConfig {
  return { ...defaultOvirtConfig(), ...partial };
}

export const OvirtConfig = Symbol('OvirtConfig');
