// Log retention on the agent (log_retention_days) against a temp log_dir and the real
// JobManager and journal: old logs and batch session logs go, with the ended jobs'
// records (memory and journal); a job that is not final keeps its log however old, and
// so does a batch with such a member. The disk checker and the runs are IN-TEST
// STAND-INS (runs end when the test says); nothing runs a tool.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BatchRunner, Runner } from '../../../host-agent/jobs/AgentJob';
import { JobManager } from '../../../host-agent/jobs/JobManager';
import { Journal } from '../../../host-agent/jobs/journal';
import { LogPruner } from '../../../host-agent/jobs/LogPruner';
import type { DiskChecker } from '../../../host-agent/storage/diskCheck';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 't', silent: true });
const DAY = 86_400_000;
const tick = () => new Promise((r) => setTimeout(r, 10));

/** STAND-IN disk checker: every path is a qcow2 in /images. */
const checker = {
  async check(disks: { path: string }[]) {
    return disks.map((d) => ({ path: d.path, real: d.path, root: '/images', format: 'qcow2', virtualSize: 1, actualSize: 1, backingFile: '', inUse: false }));
  },
} as unknown as DiskChecker;

describe('LogPruner', () => {
  let dir: string;
  let logDir: string;
  let release: (() => void)[];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'log-pruner-'));
    logDir = path.join(dir, 'log');
    mkdirSync(path.join(logDir, 'batches'), { recursive: true });
    release = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Jobs whose run ends at once, except those named "live*", which run until the test ends. */
  function manager() {
    const hold = () => new Promise<void>((resolve) => release.push(resolve));
    const single: Runner = (job) => (job.id.startsWith('live') ? hold() : Promise.resolve());
    const batchRunner: BatchRunner = (_id, members) => members.map(() => hold());
    return new JobManager(
      { hostId: 'h', maxJobs: 3, defaultTimeoutSec: 60, defaultMode: 'safe', logDir, operations: [{ name: 'machine-id', description: '', defaultEnabled: true }], maxBatchSize: 4 },
      new Journal(path.join(dir, 'jobs')),
      checker,
      single,
      log,
      batchRunner,
    );
  }
  const req = (jobId: string, batch?: { id: string; size: number }) => ({ jobId, disks: [{ path: `/images/${jobId}.qcow2` }], spec: { only: ['machine-id'], params: {} }, batch });
  /** A log file last written `daysAgo` days ago. */
  const logFile = (rel: string, daysAgo: number) => {
    const file = path.join(logDir, rel);
    writeFileSync(file, 'trace\n');
    const t = new Date(Date.now() - daysAgo * DAY);
    utimesSync(file, t, t);
    return file;
  };

  it('deletes old job and batch logs and forgets old ended jobs; keeps live jobs, live batches, recent logs and other files', async () => {
    const jobs = manager();
    await jobs.start(req('done'));
    await jobs.start(req('done-too'));
    await jobs.start(req('live-running'));
    await jobs.start(req('live-batch-member', { id: 'B-live', size: 1 }));
    await tick();
    expect(jobs.get('done').state).toBe('SUCCEEDED');
    expect(jobs.get('live-running').state).toBe('RUNNING');
    expect(jobs.get('live-batch-member').state).toBe('RUNNING');
    const journalDir = path.join(dir, 'jobs');
    expect(readdirSync(journalDir)).toEqual(expect.arrayContaining(['done.json', 'done.events.jsonl']));

    const files = {
      done: logFile('done.log', 40),
      ghost: logFile('ghost.log', 40), // a job this agent no longer knows
      recent: logFile('recent.log', 29),
      live: logFile('live-running.log', 40), // started long ago, still running
      liveMember: logFile('live-batch-member.log', 40),
      oldBatch: logFile('batches/B-old.log', 40),
      liveBatch: logFile('batches/B-live.log', 40),
      other: logFile('notes.txt', 40), // not a *.log: not ours to judge
    };

    const pruner = new LogPruner({ logDir, retentionDays: 30 }, jobs, log);
    // Now: the logs last written more than 30 days ago go; the jobs, ended a moment ago, stay.
    expect(await pruner.prune(new Date())).toEqual({ logs: 2, batchLogs: 1, records: 0 });
    expect(existsSync(files.done)).toBe(false);
    expect(existsSync(files.ghost)).toBe(false);
    expect(existsSync(files.oldBatch)).toBe(false);
    for (const kept of [files.recent, files.live, files.liveMember, files.liveBatch, files.other]) expect(existsSync(kept)).toBe(true);
    expect(jobs.get('done').state).toBe('SUCCEEDED');

    // 31 days on: the ended jobs' records go (memory and journal); the live ones stay, with their logs.
    const r = await pruner.prune(new Date(Date.now() + 31 * DAY));
    expect(r.records).toBe(2);
    expect(() => jobs.get('done')).toThrow(/no job "done"/);
    expect(() => jobs.get('done-too')).toThrow(/no job/);
    expect(readdirSync(journalDir).sort()).toEqual(['live-batch-member.events.jsonl', 'live-batch-member.json', 'live-running.events.jsonl', 'live-running.json']);
    for (const kept of [files.live, files.liveMember, files.liveBatch, files.other]) expect(existsSync(kept)).toBe(true);
    expect(existsSync(files.recent)).toBe(false);
    expect(jobs.list().map((j) => j.id).sort()).toEqual(['live-batch-member', 'live-running']);

    release.forEach((r) => r());
    await tick();
  });

  it('log_retention_days = 0 keeps everything; a missing batches directory is no error', async () => {
    rmSync(path.join(logDir, 'batches'), { recursive: true });
    const jobs = manager();
    const old = logFile('old.log', 400);
    expect(await new LogPruner({ logDir, retentionDays: 0 }, jobs, log).prune()).toEqual({ logs: 0, batchLogs: 0, records: 0 });
    expect(existsSync(old)).toBe(true);
    expect(await new LogPruner({ logDir, retentionDays: 30 }, jobs, log).prune()).toEqual({ logs: 1, batchLogs: 0, records: 0 });
  });
});
