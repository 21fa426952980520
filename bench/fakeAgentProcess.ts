// A STAND-IN host agent as its own process, for the orchestration benchmark only
// (bench/engine-scale.ts with `agents=stand-in`): test/unit/engine/fakeAgent.ts, a real
// gRPC server speaking the HostAgent contract whose jobs are timers (no qemu-img, no
// virt-sysprep, no disk touched), so the engine is measured at 100,000 VMs without hours
// of the real agents' qemu-img work. It prints its address and runs until SIGTERM.
// Run: node dist/bench/fakeAgentProcess.js HOST_ID STORAGE_ROOT MAX_JOBS JOB_MS
import { FakeAgent } from '../test/unit/engine/fakeAgent';

async function main(): Promise<void> {
  const [hostId, root, maxJobs, jobMs] = process.argv.slice(2);
  const agent = new FakeAgent({ hostId, storageRoots: [root], maxJobs: Number(maxJobs), jobMs: Number(jobMs) });
  process.stdout.write(`${await agent.start()}\n`);
  process.once('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
