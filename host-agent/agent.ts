// The agent's composition root: builds every part from the config, recovers the
// journal (interrupted jobs, orphan overlays, leases of a dead predecessor), probes
// the installed tools and serves gRPC. main.ts (the executable) and the tests call
// startAgent; nothing else constructs these parts.
import * as grpc from '@grpc/grpc-js';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadProto, serverCredentials } from '../shared/grpc';
import { createLogger, Logger } from '../shared/logger';
import { executeBatch } from './batch/executeBatch';
import type { BatchScripter, BatchSessions } from './batch/ports';
import { batchScript } from './batch/batchScript';
import { BatchSession } from './batch/BatchSession';
import { hashPassword } from './tools/passwordHash';
import { describeCapabilities } from './capabilities';
import { AgentConfig, loadAgentConfig } from './config';
import { createHandlers } from './grpc/service';
import { Hypervisor } from './hypervisor';
import { Inspector } from './inspector';
import type { BatchRunner, Runner } from './jobs/AgentJob';
import { executeJob, ExecutionDeps } from './jobs/executeJob';
import { executeSparsify } from './jobs/executeSparsify';
import { JobManager } from './jobs/JobManager';
import { Journal } from './jobs/journal';
import { LogPruner } from './jobs/LogPruner';
import { AgentMetrics } from './metrics/AgentMetrics';
import { startMetricsServer } from './metrics/metricsServer';
import { LeaseManager } from './storage/leases';
import { Overlays } from './storage/overlays';
import { DiskChecker } from './storage/diskCheck';
import { PathGuard } from './storage/pathGuard';
import { SecretsDir } from './storage/secretsDir';
import { QemuImg } from '../shared/tools/qemuImg';
import { Guestfish } from './tools/guestfish';
import { VirtSparsify } from './tools/virtSparsify';
import { VirtSysprep } from './tools/virtSysprep';

export interface RunningAgent {
  address: string;
  hostId: string;
  config: AgentConfig;
  jobs: JobManager;
  leases: LeaseManager;
  /** host:port of GET /metrics (metrics_listen), when on. */
  metricsAddress?: string;
  stop(): Promise<void>;
}

/** The real parts of batch mode (issue 16) behind the two ports executeBatch drives. */
function batchParts(cfg: AgentConfig): { scripter: BatchScripter; sessions: BatchSessions } {
  return {
    scripter: { script: (input) => batchScript(input, { hashPassword }) },
    sessions: { open: (opts) => BatchSession.open({ bin: cfg.guestfish, ...opts }) },
  };
}

/** Starts an agent. `config` is complete, or partial overrides on top of defaults (no file, no env). */
export async function startAgent(config: Partial<AgentConfig> | AgentConfig, logger?: Logger): Promise<RunningAgent> {
  const cfg: AgentConfig = loadAgentConfig({ file: null, env: {}, overrides: config });
  const log = logger ?? createLogger({ level: cfg.logLevel, service: 'ovirt-sysprep-agent' });
  for (const dir of [cfg.dataDir, cfg.logDir]) mkdirSync(dir, { recursive: true, mode: 0o750 });

  const virtSysprep = new VirtSysprep(cfg.virtSysprep);
  const qemuImg = new QemuImg(cfg.qemuImg);
  const [operations, virtSysprepVersion, qemuImgVersion] = await Promise.all([
    virtSysprep.listOperations(),
    virtSysprep.version(),
    qemuImg.version(),
  ]);
  const hypervisor = new Hypervisor(cfg.hypervisor, cfg.dataDir, cfg.guestfish, log);
  void hypervisor.mode(); // probe in the background; the first job waits for the verdict
  const guard = new PathGuard(cfg.storageRoots, cfg.allowBlockDevices);
  const diskChecker = new DiskChecker(guard, qemuImg);
  const secrets = new SecretsDir(cfg.secretsDir, cfg.dataDir, log);
  // Secret files a dead predecessor left (its jobs' passwords, keys, scripts) go first,
  // whatever its journal says; refused if another live agent uses the directory.
  const secretsRemoved = await secrets.recover();
  const leases = new LeaseManager(cfg.hostId, cfg.leaseTimeoutSec * 1000, log);
  const overlays = new Overlays(qemuImg, path.join(cfg.dataDir, 'overlays'));
  const execution: ExecutionDeps = {
    leases, overlays, qemuImg, virtSysprep, guestfish: new Guestfish(cfg.guestfish), virtSparsify: new VirtSparsify(cfg.virtSparsify), hypervisor, secrets, trace: cfg.toolTrace, minFreeBytesForPackages: cfg.minFreeBytesForPackages, logger: log,
  };
  const runOne: Runner = (job, work, signal) => (job.record.action === 'sparsify' ? executeSparsify : executeJob)(execution, job, work, signal);
  const batch = batchParts(cfg);
  const maxBatchSize = cfg.maxBatchSize;
  const runBatch: BatchRunner = (batchId, members) => executeBatch({ execution, ...batch, toolVersion: virtSysprepVersion, runAlone: runOne }, batchId, members);
  const jobs = new JobManager(
    { hostId: cfg.hostId, maxJobs: cfg.maxJobs, defaultTimeoutSec: cfg.jobTimeoutSec, defaultMode: cfg.defaultMode, logDir: cfg.logDir, operations, maxBatchSize },
    new Journal(path.join(cfg.dataDir, 'jobs')),
    diskChecker,
    runOne,
    log,
    runBatch,
  );

  // Metrics (host-agent/metrics/, metrics_listen): subscribed before the recovery, whose
  // endings count; served once gRPC is (below).
  const metrics = cfg.metricsListen ? new AgentMetrics({ jobs, leases }) : undefined;

  // Recovery of a predecessor that died: its secret files (above), commits it left half
  // done (under its leases), its unfinished jobs, overlays and leases.
  const committed = await overlays.finishCommits();
  const interrupted = jobs.recover(committed);
  const orphans = await overlays.removeOrphans(jobs.liveJobIds());
  const freed = await leases.releaseOwnedBy(guard.storageRoots);
  if (interrupted.length || orphans.length || freed || secretsRemoved.length) {
    log.warn('recovered after an unclean stop', { interrupted, orphans, leasesFreed: freed, secretFilesRemoved: secretsRemoved });
  }

  // Retention (jobs/LogPruner.ts): job logs and journal records past log_retention_days, at start and hourly.
  const logPruner = new LogPruner({ logDir: cfg.logDir, retentionDays: cfg.logRetentionDays }, jobs, log);
  logPruner.start();

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 << 20 });
  const proto = loadProto();
  server.addService(
    proto.ovirt_sysprep.v1.HostAgent.service,
    createHandlers({
      jobs,
      disks: diskChecker,
      inspector: new Inspector(hypervisor, cfg.guestfish),
      operations,
      virtSysprepVersion,
      logger: log,
      capabilities: async () =>
        describeCapabilities(
          { virtSysprepVersion, qemuImgVersion, operations },
          { hostId: cfg.hostId, roots: guard.storageRoots, maxJobs: cfg.maxJobs, runningJobs: jobs.runningCount, allowBlockDevices: cfg.allowBlockDevices, hypervisor: hypervisor.current(), minFreeBytesForPackages: cfg.minFreeBytesForPackages, maxBatchSize },
        ),
    }),
  );
  const host = cfg.listen.replace(/:\d+$/, '');
  const creds = serverCredentials(cfg.plaintext ? null : { caFile: cfg.tlsCa, certFile: cfg.tlsCert, keyFile: cfg.tlsKey }, host.replace(/^\[|\]$/g, ''));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(cfg.listen, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `${host}:${port}`;
  const metricsServer = metrics && (await startMetricsServer(cfg.metricsListen, metrics.registry, log));
  log.info('agent listening', { address, hostId: cfg.hostId, tls: !cfg.plaintext, virtSysprepVersion, operations: operations.length });

  return {
    address,
    hostId: cfg.hostId,
    config: cfg,
    jobs,
    leases,
    metricsAddress: metricsServer?.address,
    async stop() {
      await logPruner.stop();
      await jobs.shutdown();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await metricsServer?.close();
      metrics?.stop();
      await secrets.release();
    },
  };
}
