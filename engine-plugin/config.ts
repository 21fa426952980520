// Engine configuration: defaults for a single machine, a vdsm-style ini file
// (/etc/ovirt-sysprep/engine.conf, every key documented in docs/engine.md) and a few
// environment overrides. The file is parsed into the same camelCase shape that
// startEngine() takes, so tests and the CLI share one path.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseIni, parsers } from '../shared/config';
import type { TlsFiles } from '../shared/grpc';
import { checkLibvirtUri, defaultLibvirtConfig, LibvirtConfig, parseLibvirtSection } from './libvirt/LibvirtConfig';
import { OvirtConfig, parseOvirtSection } from './ovirt/OvirtConfig';
import type { Role } from './Role';
import { DATABASE_URL, DEFAULT_DATABASE, redactUrl } from './store/databaseUrl';

/** A setting the engine cannot start with; the message names the key to fix. */
export class ConfigError extends Error {}


export interface TokenConfig {
  /** The bearer token itself. */
  token: string;
  /** Who the token stands for: recorded on every job as requestedBy. */
  name: string;
  role: Role;
}

export interface HostConfig {
  id: string;
  name?: string;
  /** host:port of the host's agent. */
  address: string;
  storageRoots: string[];
  /** inventory = libvirt: the daemon holding this host's domains; undefined: [libvirt] uri. */
  libvirtUri?: string;
}

/**
 * Automatic reset triggers of the inventory: a VM cloned, imported, or created in a pool;
 * libvirt_defined: a domain defined outside the product (LibvirtEventWatcher.ts).
 */
export type Trigger = 'clone' | 'import' | 'pool' | 'libvirt_defined';
export const TRIGGERS: readonly Trigger[] = ['clone', 'import', 'pool', 'libvirt_defined'];

export interface TriggerConfig {
  enabled: boolean;
  profile: string;
  /**
   * libvirt_defined only (`all:PROFILE`): every domain defined outside the product is
   * reset, not only those whose disk has a template's disk in its backing chain.
   */
  everyDomain?: boolean;
}

/**
 * The [auto_reset] triggers. libvirt_defined may be left out of a Partial<EngineConfig>
 * (callers written before it existed list the first three): triggerConfig() fills it.
 */
export type AutoResetConfig = Record<Exclude<Trigger, 'libvirt_defined'>, TriggerConfig> & { libvirt_defined?: TriggerConfig };

/** A trigger's settings, its default when the config leaves it out. */
export function triggerConfig(c: Pick<EngineConfig, 'autoReset'>, trigger: Trigger): TriggerConfig {
  return c.autoReset[trigger] ?? defaultConfig().autoReset[trigger]!;
}

/** An [auto_reset] value: PROFILE, off, or (libvirt_defined only) all:PROFILE. */
export function parseTrigger(trigger: Trigger, v: string, current: TriggerConfig, file: string): TriggerConfig {
  if (v === 'off') return { enabled: false, profile: current.profile };
  const all = /^all:(.+)$/.exec(v);
  if (!all) return { enabled: true, profile: v };
  if (trigger !== 'libvirt_defined') throw new Error(`${file}: [auto_reset] ${trigger}: "all:" is for libvirt_defined only, got ${JSON.stringify(v)}`);
  return { enabled: true, profile: all[1].trim(), everyDomain: true };
}

export interface EngineConfig {
  /** host:port of the REST API; port 0 picks a free one. */
  listen: string;
  /** PEM certificate (chain) and private key of the REST API: both set, HTTPS only (apiServer.ts). */
  tlsCert: string;
  tlsKey: string;
  /** Plain HTTP on a non-loopback `listen` (without it the engine refuses to start). */
  allowInsecureHttp: boolean;
  /** Holds engine.db (inventory, jobs, profiles) by default, and the access log. */
  dataDir: string;
  /** Where other engines on the same database reach this one when it leads (standby/leaderProxy.ts); '': the URL it listens on. */
  advertiseUrl: string;
  /** `sqlite:PATH` (relative to dataDir) or `postgresql://...` (db.ts); default `sqlite:engine.db`. */
  database: string;
  logLevel: string;
  /** JSON-lines log file; empty: stderr. */
  logFile: string;
  tokens: TokenConfig[];
  /** Agents known from the config (stored into the embedded inventory at start). */
  hosts: HostConfig[];
  /** Client certificate for mutual TLS to the agents; null: plaintext (loopback agents only). */
  agentTls: TlsFiles | null;
  /** Jobs in flight per host; 0: what the agent reports as its own limit. A batch counts once. */
  maxJobsPerHost: number;
  /** VMs per batch (one appliance for all, issue 16); 0 or 1: one VM per run. Capped by the agent's max_batch_size. */
  batchSize: number;
  /** Per-run timeout passed to the agents; 0: the agent's default. */
  jobTimeoutSec: number;
  /** How long a dispatched job may stay out of reach before it is failed with AGENT_LOST. */
  agentLostTimeoutSec: number;
  /** Seconds between agent health probes. */
  healthIntervalSec: number;
  /** GET /metrics without a token (a scraper on a trusted network); else any API token. */
  metricsPublic: boolean;
  autoReset: AutoResetConfig;
  /** Where VMs, pools, templates and hosts come from: the engine's own database, oVirt, or libvirt. */
  inventory: InventoryKind;
  /** The [ovirt] section (docs/ovirt.md); required with inventory = ovirt. */
  ovirt: OvirtConfig | null;
  /** The [libvirt] section (docs/libvirt.md), read with inventory = libvirt; defaults without one. */
  libvirt: LibvirtConfig;
  /** Ended jobs (a bulk job with its children) older than this many days are deleted (retention/JobPruner.ts); 0: kept forever. */
  jobRetentionDays: number;
  /** Access log file, one JSON line per API request (api/accessLog.ts); '': off; undefined: `<dataDir>/access.log`. */
  accessLog?: string;
}

export const INVENTORY_KINDS = ['embedded', 'ovirt', 'libvirt'] as const;
export type InventoryKind = (typeof INVENTORY_KINDS)[number];

export function defaultConfig(): EngineConfig {
  return {
    listen: '127.0.0.1:8080',
    tlsCert: '',
    tlsKey: '',
    allowInsecureHttp: false,
    dataDir: '/var/lib/ovirt-sysprep-engine',
    database: DEFAULT_DATABASE,
    advertiseUrl: '',
    logLevel: 'info',
    logFile: '',
    tokens: [],
    hosts: [],
    agentTls: null,
    maxJobsPerHost: 0,
    batchSize: 8,
    jobTimeoutSec: 0,
    agentLostTimeoutSec: 120,
    healthIntervalSec: 15,
    metricsPublic: false,
    autoReset: {
      clone: { enabled: true, profile: 'clone-reset' },
      import: { enabled: true, profile: 'clone-reset' },
      pool: { enabled: true, profile: 'clone-reset' },
      libvirt_defined: { enabled: true, profile: 'clone-reset' },
    },
    inventory: 'embedded',
    ovirt: null,
    libvirt: defaultLibvirtConfig(),
    jobRetentionDays: 30,
  };
}

/** Fills defaults in; nested autoReset triggers merge one by one. */
export function withDefaults(partial: Partial<EngineConfig>): EngineConfig {
  const d = defaultConfig();
  const autoReset = { ...d.autoReset };
  for (const t of TRIGGERS) autoReset[t] = { ...d.autoReset[t]!, ...partial.autoReset?.[t] };
  return { ...d, ...partial, autoReset };
}

export type IniSections = Record<string, Record<string, string>>;

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

function int(file: string, key: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${file}: ${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function bool(file: string, key: string, v: string): boolean {
  try {
    return parsers.bool(v);
  } catch (err) {
    throw new Error(`${file}: ${key}: ${(err as Error).message}`);
  }
}

/** The [engine] keys (docs/engine.md has one row for each; a unit test checks it). */
export const ENGINE_KEYS: Record<string, (c: EngineConfig, v: string, file: string) => void> = {
  listen: (c, v) => { c.listen = v; },
  tls_cert: (c, v) => { c.tlsCert = v; },
  tls_key: (c, v) => { c.tlsKey = v; },
  allow_insecure_http: (c, v, f) => { c.allowInsecureHttp = bool(f, 'allow_insecure_http', v); },
  data_dir: (c, v) => { c.dataDir = v; },
  advertise_url: (c, v, f) => {
    if (!/^https?:\/\/[^/]+\/?$/.test(v)) throw new Error(`${f}: advertise_url must be http(s)://HOST:PORT, got ${JSON.stringify(v)}`);
    c.advertiseUrl = v.replace(/\/$/, '');
  },
  database: (c, v, f) => {
    if (!DATABASE_URL.test(v)) throw new Error(`${f}: database must be sqlite:PATH or postgresql://..., got ${JSON.stringify(redactUrl(v))}`);
    c.database = v;
  },
  log_level: (c, v) => { c.logLevel = v; },
  log_file: (c, v) => { c.logFile = v; },
  max_jobs_per_host: (c, v, f) => { c.maxJobsPerHost = int(f, 'max_jobs_per_host', v); },
  batch_size: (c, v, f) => { c.batchSize = int(f, 'batch_size', v); },
  job_timeout_sec: (c, v, f) => { c.jobTimeoutSec = int(f, 'job_timeout_sec', v); },
  agent_lost_timeout_sec: (c, v, f) => { c.agentLostTimeoutSec = int(f, 'agent_lost_timeout_sec', v); },
  health_interval_sec: (c, v, f) => { c.healthIntervalSec = int(f, 'health_interval_sec', v); },
  job_retention_days: (c, v, f) => { c.jobRetentionDays = int(f, 'job_retention_days', v); },
  access_log: (c, v) => { c.accessLog = v; },
  metrics_public: (c, v, f) => { c.metricsPublic = bool(f, 'metrics_public', v); },
  // Deprecated, ignored: the room for packages is each agent's min_free_bytes_for_packages
  // (reported in its Capabilities). Still accepted so that an existing engine.conf starts.
  min_free_bytes_for_install: (_c, v, f) => {
    int(f, 'min_free_bytes_for_install', v);
    process.emitWarning(`${f}: min_free_bytes_for_install is ignored; set min_free_bytes_for_packages in each agent's agent.conf`, 'DeprecationWarning');
  },
  inventory: (c, v, f) => {
    if (!(INVENTORY_KINDS as readonly string[]).includes(v)) throw new Error(`${f}: inventory must be ${INVENTORY_KINDS.slice(0, -1).join(', ')} or ${INVENTORY_KINDS.at(-1)}, got ${JSON.stringify(v)}`);
    c.inventory = v as InventoryKind;
  },
};

/**
 * Parses an engine.conf text. Sections: [engine] (keys above), [tls] (ca, cert, key: the
 * engine's client certificate towards the agents), [tokens] (`name = role:token`),
 * [host:ID] (address, storage_roots, name, libvirt_uri), [libvirt] (docs/libvirt.md), [auto_reset] (`clone|import|pool|libvirt_defined = PROFILE|off`, `libvirt_defined = all:PROFILE`).
 * Other sections (e.g. [local_agent], read by main.ts) are returned untouched.
 */
export function parseEngineConfig(text: string, file = 'engine.conf'): { config: EngineConfig; sections: IniSections } {
  let sections: IniSections;
  try {
    sections = parseIni(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const c = defaultConfig();
  for (const [name, values] of Object.entries(sections)) {
    const kv = new Map(Object.entries(values));
    if (name === 'engine') {
      for (const [k, v] of kv) {
        const set = ENGINE_KEYS[k];
        if (!set) throw new Error(`${file}: [engine] has no key "${k}" (known: ${Object.keys(ENGINE_KEYS).join(', ')})`);
        set(c, v, file);
      }
    } else if (name === 'tls') {
      const ca = kv.get('ca'), cert = kv.get('cert'), key = kv.get('key');
      if (!ca || !cert || !key) throw new Error(`${file}: [tls] needs ca, cert and key`);
      c.agentTls = { caFile: ca, certFile: cert, keyFile: key };
    } else if (name === 'tokens') {
      for (const [who, v] of kv) {
        const m = /^(admin|operator|viewer):(\S{16,})$/.exec(v);
        if (!m) throw new Error(`${file}: [tokens] ${who} must be "admin|operator|viewer:TOKEN" with a token of at least 16 characters`);
        c.tokens.push({ name: who, role: m[1] as Role, token: m[2] });
      }
    } else if (name.startsWith('host:')) {
      const id = name.slice(5).trim();
      const address = kv.get('address');
      if (!address) throw new Error(`${file}: [${name}] needs address = HOST:PORT`);
      const libvirtUri = kv.get('libvirt_uri');
      const err = (msg: string): never => {
        throw new Error(`${file}: [${name}] ${msg}`);
      };
      c.hosts.push({
        id,
        name: kv.get('name') ?? id,
        address,
        storageRoots: list(kv.get('storage_roots') ?? '').map((p) => path.resolve(p)),
        ...(libvirtUri !== undefined && { libvirtUri: checkLibvirtUri(libvirtUri, 'libvirt_uri', err) }),
      });
    } else if (name === 'ovirt') {
      c.ovirt = parseOvirtSection(values, file);
    } else if (name === 'libvirt') {
      c.libvirt = parseLibvirtSection(values, file);
    } else if (name === 'auto_reset') {
      for (const [k, v] of kv) {
        if (!(TRIGGERS as string[]).includes(k)) throw new Error(`${file}: [auto_reset] knows ${TRIGGERS.join(', ')}, not "${k}"`);
        c.autoReset[k as Trigger] = parseTrigger(k as Trigger, v, triggerConfig(c, k as Trigger), file);
      }
    }
  }
  if (c.inventory === 'ovirt' && !c.ovirt) throw new Error(`${file}: inventory = ovirt needs an [ovirt] section (url, username, password_file; docs/ovirt.md)`);
  return { config: c, sections };
}

export function loadEngineConfigFile(file: string): { config: EngineConfig; sections: IniSections } {
  const parsed = parseEngineConfig(readFileSync(file, 'utf8'), file);
  // Environment overrides, for containers and quick runs.
  const env = process.env;
  if (env.OVIRT_SYSPREP_ENGINE_LISTEN) parsed.config.listen = env.OVIRT_SYSPREP_ENGINE_LISTEN;
  if (env.OVIRT_SYSPREP_ENGINE_DATA_DIR) parsed.config.dataDir = env.OVIRT_SYSPREP_ENGINE_DATA_DIR;
  if (env.OVIRT_SYSPREP_ENGINE_LOG_LEVEL) parsed.config.logLevel = env.OVIRT_SYSPREP_ENGINE_LOG_LEVEL;
  return parsed;
}

export const EngineConfig = Symbol('EngineConfig');
