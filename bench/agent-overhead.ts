// Benchmark: what the agent costs on top of virt-sysprep itself.
//
//  1. End-to-end job through the agent (gRPC over mutual TLS + lease + overlay +
//     virt-sysprep + commit) versus bare `virt-sysprep` on a copy of the same image,
//     measured side by side in one run, alternating which goes first, PAIRS pairs.
//  2. Idle RSS of an agent process.
//  3. GetJob round trip on loopback (mutual TLS), median of many.
//
// Both sides run virt-sysprep with the same flags: by default the agent's `-v -x` trace
// (its output into a log file, as the agent does); with --no-trace the agent runs with
// tool_trace = false and the bare runs are plain.
//
// Run: npm run build && node dist/bench/agent-overhead.js [pairs] [--no-trace]   (default 5)
import { execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { agentConfig, clientFor, fixtureDisk, makeAgentDirs, spawnAgentProcess, waitForJob } from '../test/helpers/agentHarness';
import { cachedGuestImage } from '../test/helpers/guestImage';
import { makeTestPki } from '../test/helpers/tls';
import { toWireParams } from '../shared/wireParams';

const OPS = ['ssh-hostkeys', 'machine-id', 'bash-history', 'logfiles', 'dhcp-client-state', 'udev-persistent-net'];
const ENV = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const TRACE = !process.argv.includes('--no-trace');

function bare(disk: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const log = TRACE ? openSync(`${disk}.log`, 'w') : 'ignore';
    const args = [...(TRACE ? ['-v', '-x'] : []), '--format', 'qcow2', '-a', disk, '--operations', [...OPS, 'customize'].join(','), '--hostname', 'bench', '--no-network'] // customize too: without it --hostname is silently ignored;
    const p = spawn('virt-sysprep', args, { env: ENV, stdio: ['ignore', log, log] });
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`virt-sysprep exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const pairs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 5);
  await cachedGuestImage();
  const dirs = makeAgentDirs('bench-agent-');
  const pki = await makeTestPki(path.join(dirs.base, 'pki'));
  const { child, address } = await spawnAgentProcess(agentConfig(dirs, pki, { maxJobs: 1, toolTrace: TRACE }), dirs.base);
  const client = clientFor(address, pki);
  try {
    // Idle memory of the agent process, before any job.
    await client.getCapabilities();
    await new Promise((r) => setTimeout(r, 1000));
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;

    // GetJob round trips (needs a job to get): a quick dry-run job.
    const probe = await fixtureDisk(dirs, 'probe.qcow2');
    await client.startSysprep({ jobId: 'rtt', disks: [{ path: probe }], spec: { only: ['logfiles'] }, dryRun: true });
    await waitForJob(client, 'rtt');
    for (let i = 0; i < 200; i++) await client.getJob('rtt'); // warm-up
    const rtts: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await client.getJob('rtt');
      rtts.push(performance.now() - t0);
    }

    const agentTimes: number[] = [];
    const bareTimes: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const a = await fixtureDisk(dirs, `agent-${i}.qcow2`);
      const b = await fixtureDisk(dirs, `bare-${i}.qcow2`);
      const viaAgent = async () => {
        const t0 = performance.now();
        await client.startSysprep({ jobId: `bench-${i}`, disks: [{ path: a, format: 'qcow2' }], spec: { only: OPS, ...toWireParams({ hostname: 'bench' }) } });
        const job = await waitForJob(client, `bench-${i}`);
        if (job.state !== 'SUCCEEDED') throw new Error(`agent job ${job.state}: ${job.error?.message}`);
        return performance.now() - t0;
      };
      let ta: number, tb: number;
      if (i % 2 === 0) {
        ta = await viaAgent();
        tb = await bare(b);
      } else {
        tb = await bare(b);
        ta = await viaAgent();
      }
      agentTimes.push(ta);
      bareTimes.push(tb);
      ratios.push(ta / tb);
      console.log(`pair ${i + 1}/${pairs}: agent ${(ta / 1000).toFixed(2)} s, bare ${(tb / 1000).toFixed(2)} s, ratio ${(ta / tb).toFixed(3)}`);
    }
    const result = {
      pairs,
      toolTrace: TRACE,
      agentMedianS: +(median(agentTimes) / 1000).toFixed(2),
      bareMedianS: +(median(bareTimes) / 1000).toFixed(2),
      medianRatio: +median(ratios).toFixed(3),
      idleRssMb: +rssMb.toFixed(1),
      getJobMedianMs: +median(rtts).toFixed(3),
      getJobP99Ms: +[...rtts].sort((x, y) => x - y)[Math.floor(rtts.length * 0.99)].toFixed(3),
      virtSysprep: execFileSync('virt-sysprep', ['--version'], { encoding: 'utf8' }).trim(),
    };
    console.log(JSON.stringify(result, null, 2));
    const ok = result.medianRatio <= 1.05 && result.idleRssMb < 80 && result.getJobMedianMs < 2;
    console.log(ok ? 'targets met: ratio <= 1.05, idle RSS < 80 MB, GetJob < 2 ms' : 'TARGETS NOT MET');
  } finally {
    client.close();
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
