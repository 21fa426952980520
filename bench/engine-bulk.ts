// Bulk throughput on the REAL virt-sysprep (not part of npm test): 8 VMs of a pool
// syspreped through the engine with concurrency 2, against 8 sequential bare
// virt-sysprep runs of the same operations on the same kind of disks, side by side.
// Run: npm run build && node dist/bench/engine-bulk.js [VMS=8] [CONCURRENCY=2]
import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startAgent } from '../host-agent/agent';
import { cachedGuestImage, libguestfsEnv } from '../test/helpers/guestImage';
import { api, startEngineProcess, waitJob } from './engineBenchKit';

const execFileAsync = promisify(execFile);
const VMS = Number(process.argv[2] ?? 8);
const CONCURRENCY = Number(process.argv[3] ?? 2);
const OPERATIONS = ['bash-history', 'logfiles', 'machine-id', 'ssh-hostkeys', 'customize'];

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-bulk-'));
  const storage = path.join(dir, 'storage');
  mkdirSync(storage);
  const template = path.join(storage, 'golden.qcow2');
  copyFileSync(await cachedGuestImage(), template);
  try {
    // 1. Sequential bare runs on copy-on-write clones.
    const bare = path.join(dir, 'bare');
    mkdirSync(bare);
    let t = performance.now();
    for (let i = 1; i <= VMS; i++) {
      const disk = path.join(bare, `vm${i}.qcow2`);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', template, '-F', 'qcow2', disk]);
      await execFileAsync('virt-sysprep', ['--format', 'qcow2', '-a', disk, '--operations', OPERATIONS.join(','), '--hostname', `bare-${i}`], { env: libguestfsEnv() });
      process.stdout.write(`bare run ${i}/${VMS} at ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    }
    const sequential = (performance.now() - t) / 1000;

    // 2. The engine: a pool of the same size, concurrency 2 on one local agent (safe mode).
    const agent = await startAgent({
      hostId: 'bench', listen: '127.0.0.1:0', plaintext: true, hypervisor: 'tcg', maxJobs: CONCURRENCY,
      dataDir: path.join(dir, 'agent'), logDir: path.join(dir, 'agent-logs'), secretsDir: path.join(dir, 'agent-secrets'), storageRoots: [storage], logLevel: 'warn',
    });
    const engine = await startEngineProcess(dir, [{ id: agent.hostId, address: agent.address, roots: [storage] }]);
    try {
      await api(engine.url, 'POST', '/templates', { name: 'golden', disks: [{ path: template }] });
      const pool = (await api(engine.url, 'POST', '/pools', { name: 'bench', template: 'golden', size: VMS })).body.pool;
      t = performance.now();
      const r = await api(engine.url, 'POST', `/pools/${pool.id}/sysprep`, { operations: { only: OPERATIONS }, params: { hostname: '${pool}-${index}' } });
      let last = -1;
      const job = await waitJob(engine.url, r.body.job.id, (j) => {
        if (j.progress.done !== last) process.stdout.write(`engine: ${(last = j.progress.done)}/${VMS} done at ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
      });
      const engineSeconds = (performance.now() - t) / 1000;
      console.log(JSON.stringify({
        vms: VMS, concurrency: CONCURRENCY, state: job.state, operations: OPERATIONS,
        sequentialBareSeconds: +sequential.toFixed(1), engineSeconds: +engineSeconds.toFixed(1),
        speedup: +(sequential / engineSeconds).toFixed(2), cores: os.cpus().length,
      }, null, 2));
    } finally {
      await engine.stop();
      await agent.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
