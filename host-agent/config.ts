// The agent's configuration keys: /etc/ovirt-sysprep/agent.conf, section [agent], each
// key overridable by its environment variable. docs/agent-config.md and `--help` are
// generated from this table (a test keeps the docs in step).
import { cpus, hostname } from 'node:os';
import { ConfigOf, loadConfig, parsers as p } from '../shared/config';

export const DEFAULT_CONFIG_FILE = '/etc/ovirt-sysprep/agent.conf';

export const AGENT_KEYS = {
  hostId: { key: 'host_id', env: 'OVIRT_SYSPREP_HOST_ID', default: hostname(), description: 'Identity of this host in lease owner records and job records.', parse: p.string },
  listen: { key: 'listen', env: 'OVIRT_SYSPREP_LISTEN', default: '127.0.0.1:54323', description: 'Address the gRPC server binds, host:port (port 0: any free port).', parse: p.string },
  plaintext: { key: 'plaintext', env: 'OVIRT_SYSPREP_PLAINTEXT', default: 'false', description: 'Serve gRPC without TLS. Refused unless `listen` is a loopback address.', parse: p.bool },
  tlsCa: { key: 'tls_ca', env: 'OVIRT_SYSPREP_TLS_CA', default: '/etc/pki/ovirt-sysprep/ca.pem', description: 'CA certificate that signs client (engine) certificates: mutual TLS.', parse: p.string },
  tlsCert: { key: 'tls_cert', env: 'OVIRT_SYSPREP_TLS_CERT', default: '/etc/pki/ovirt-sysprep/agent.pem', description: 'This agent\'s certificate.', parse: p.string },
  tlsKey: { key: 'tls_key', env: 'OVIRT_SYSPREP_TLS_KEY', default: '/etc/pki/ovirt-sysprep/agent-key.pem', description: 'This agent\'s private key.', parse: p.string },
  storageRoots: { key: 'storage_roots', env: 'OVIRT_SYSPREP_STORAGE_ROOTS', default: '/var/lib/libvirt/images,/rhev/data-center/mnt', description: 'Comma-separated directories that disks must resolve into (after realpath). Leases live in `<root>/.ovirt-sysprep-leases/`.', parse: p.list },
  allowBlockDevices: { key: 'allow_block_devices', env: 'OVIRT_SYSPREP_ALLOW_BLOCK_DEVICES', default: 'false', description: 'Accept block devices (e.g. LVs of block storage domains) as disks, not only regular files.', parse: p.bool },
  dataDir: { key: 'data_dir', env: 'OVIRT_SYSPREP_DATA_DIR', default: '/var/lib/ovirt-sysprep-agent', description: 'Job journal, overlays of running safe-mode jobs, cached hypervisor verdict.', parse: p.string },
  secretsDir: { key: 'secrets_dir', env: 'OVIRT_SYSPREP_SECRETS_DIR', default: '/run/ovirt-sysprep-agent', description: 'Per-job secret and script files (passwords, SSH keys, scripts) while virt-sysprep reads them: a 0700 directory per job, 0600 files, removed when the run ends. The agent creates it 0700 (and enforces that mode), and at start, before serving, removes everything in it, whatever the journal says (a job killed with the agent leaves its files). The default is on /run, a tmpfs under systemd, so a host crash or power loss loses them too; on a disk-backed directory the start-up removal is what clears them. One agent per directory: an agent refuses a directory in use by a live agent of another data_dir.', parse: p.string },
  logDir: { key: 'log_dir', env: 'OVIRT_SYSPREP_LOG_DIR', default: '/var/log/ovirt-sysprep', description: 'One virt-sysprep log file per job (`<job-id>.log`, verbose `-v -x` trace).', parse: p.string },
  logRetentionDays: { key: 'log_retention_days', env: 'OVIRT_SYSPREP_LOG_RETENTION_DAYS', default: '30', description: 'Days a job\'s log (`<log_dir>/<job-id>.log`, a batch\'s `<log_dir>/batches/<batch-id>.log`) and its journal record are kept after the job ended, checked at start and hourly (host-agent/jobs/LogPruner.ts): every `*.log` file directly in `log_dir` or `log_dir/batches` last written longer ago is deleted, so `log_dir` must be the agent\'s own directory. The log of a job that is not final, or of a batch with such a member, is never deleted. 0: keep them for ever.', parse: p.intIn(0, 36500) },
  maxJobs: { key: 'max_jobs', env: 'OVIRT_SYSPREP_MAX_JOBS', default: String(cpus().length), description: 'Jobs run at once; more wait in `pending`. Default: number of CPU cores.', parse: p.positiveInt },
  maxBatchSize: { key: 'max_batch_size', env: 'OVIRT_SYSPREP_MAX_BATCH_SIZE', default: '16', description: 'Batch mode (issue 16): the most VMs one batch may hold, all run in ONE libguestfs appliance (one guestfish session) and each committed on its own (host-agent/batch/). A batch takes one of `max_jobs` slots. 0 disables batch mode: requests that carry a batch are refused (INVALID_ARGUMENT naming batch.size). Reported in Capabilities.max_batch_size, from which the engine sizes its batches. At most 255 (disks a libguestfs appliance takes).', parse: p.intIn(0, 255) },
  jobTimeoutSec: { key: 'job_timeout', env: 'OVIRT_SYSPREP_JOB_TIMEOUT', default: '3600', description: 'Default time limit of one virt-sysprep run, seconds (a request may ask for less or more).', parse: p.positiveInt },
  leaseTimeoutSec: { key: 'lease_timeout', env: 'OVIRT_SYSPREP_LEASE_TIMEOUT', default: '20', description: 'A lease whose heartbeat stopped this long ago is stale and may be taken over (seconds, >= 2). Heartbeat: every timeout/4.', parse: p.positiveInt },
  hypervisor: { key: 'hypervisor', env: 'OVIRT_SYSPREP_HYPERVISOR', default: 'auto', description: 'libguestfs appliance acceleration: `auto` (try KVM once, fall back to TCG, cache the verdict), `kvm` or `tcg`.', parse: p.oneOf('auto', 'kvm', 'tcg') },
  defaultMode: { key: 'default_mode', env: 'OVIRT_SYSPREP_DEFAULT_MODE', default: 'safe', description: '`safe` (qcow2 overlays, commit only on success) or `in_place`, for requests that do not say.', parse: p.oneOf('safe', 'in_place') },
  minFreeBytesForPackages: { key: 'min_free_bytes_for_packages', env: 'OVIRT_SYSPREP_MIN_FREE_BYTES_FOR_PACKAGES', default: '1073741824', description: 'Free bytes a storage root must have before a job that installs or updates packages (`install`, `update`) runs on a disk in it (INSUFFICIENT_SPACE otherwise). Reported in Capabilities: the engine\'s pre-check uses this value, so it is set here only.', parse: p.positiveInt },
  virtSysprep: { key: 'virt_sysprep', env: 'OVIRT_SYSPREP_VIRT_SYSPREP', default: 'virt-sysprep', description: 'The virt-sysprep executable.', parse: p.string },
  virtSparsify: { key: 'virt_sparsify', env: 'OVIRT_SYSPREP_VIRT_SPARSIFY', default: 'virt-sparsify', description: 'The virt-sparsify executable (the sparsify action, `--in-place`).', parse: p.string },
  qemuImg: { key: 'qemu_img', env: 'OVIRT_SYSPREP_QEMU_IMG', default: 'qemu-img', description: 'The qemu-img executable.', parse: p.string },
  guestfish: { key: 'guestfish', env: 'OVIRT_SYSPREP_GUESTFISH', default: 'guestfish', description: 'The guestfish executable (hypervisor probe and inspection).', parse: p.string },
  toolTrace: { key: 'tool_trace', env: 'OVIRT_SYSPREP_TOOL_TRACE', default: 'true', description: 'Run virt-sysprep with `-v -x` so the job log has the full libguestfs trace. Costs about 4 s per run under TCG (verbose appliance console), nothing noticeable with KVM.', parse: p.bool },
  logLevel: { key: 'log_level', env: 'OVIRT_SYSPREP_LOG_LEVEL', default: 'info', description: 'error, warn, info or debug.', parse: p.oneOf('error', 'warn', 'info', 'debug') },
  metricsListen: { key: 'metrics_listen', env: 'OVIRT_SYSPREP_METRICS_LISTEN', default: '', description: 'HOST:PORT of the agent\'s Prometheus metrics (`GET /metrics`, docs/metrics.md); empty: off. Plain HTTP without a token (any address is allowed): the page holds counts and durations only, no job ids, names or paths; bind it to loopback or a monitoring network.', parse: p.string },
};

export type AgentConfig = ConfigOf<typeof AGENT_KEYS>;

/** file: undefined reads the default file if it exists; null reads no file. */
export function loadAgentConfig(opts: { file?: string | null; env?: NodeJS.ProcessEnv; overrides?: Partial<AgentConfig> } = {}): AgentConfig {
  const file = opts.file === null ? undefined : opts.file ?? DEFAULT_CONFIG_FILE;
  return loadConfig(AGENT_KEYS, 'agent', { file, env: opts.env, overrides: opts.overrides, required: !!opts.file });
}
