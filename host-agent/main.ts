#!/usr/bin/env node
// ovirt-sysprep-agent: the per-host agent executable.
import { Command } from 'commander';
import { describeKeys } from '../shared/config';
import { startAgent } from './agent';
import { AGENT_KEYS, DEFAULT_CONFIG_FILE, loadAgentConfig } from './config';
import { exitQuietlyOnBrokenPipe } from '../shared/brokenPipe';
import { VERSION } from '../shared/version';
import { COMPARE_EXIT, compareCommand } from './batch/compareCommand';

exitQuietlyOnBrokenPipe();
const program = new Command('ovirt-sysprep-agent')
  .description('Per-host agent of ovirt-sysprep: runs virt-sysprep on this host\'s disks, with leases and safe overlays, over gRPC (mutual TLS).')
  .version(VERSION, '-V, --version', 'print the version and exit')
  .option('-c, --config <file>', `configuration file (vdsm-style ini, section [agent])`, DEFAULT_CONFIG_FILE)
  .option('--print-config', 'print the effective configuration as JSON and exit')
  .addHelpText('after', `\nConfiguration keys (file key, environment override):\n${describeKeys(AGENT_KEYS, 'text')}\n\nSee docs/agent-config.md.`)
  .action(() => serve());

const collect = (v: string, prev: string[]) => [...prev, v];
program.command('compare')
  .description('Compare the file trees of two VMs (a and b), each given by its disks: types, modes, owners, contents and link targets; values random by design (machine-id, random seed, password hashes, ...) by their form; timestamps not compared. Read-only. Exit 0 equal, 1 different, 2 bad usage or unreadable disk.')
  .option('--a <disk>', 'a disk of VM a (repeat for each disk, in the VM\'s order)', collect, [])
  .option('--b <disk>', 'a disk of VM b (repeat for each disk, in the VM\'s order)', collect, [])
  .option('--format <format>', 'format of every disk (default: probed with qemu-img, read-only)')
  .option('--json', 'print {equal, entries, differences, seconds} as JSON')
  .option('--timeout <seconds>', 'give up reading a VM after this long', '600')
  .action(async (o: { a: string[]; b: string[]; format?: string; json?: boolean; timeout: string }) => {
    const config = agentConfig();
    try {
      process.exitCode = await compareCommand({ ...o, guestfish: config.guestfish, qemuImg: config.qemuImg, timeoutMs: Number(o.timeout) * 1000 }, (s) => process.stdout.write(s));
    } catch (err) {
      process.stderr.write(`ovirt-sysprep-agent compare: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = COMPARE_EXIT.usage;
    }
  });

function agentConfig() {
  const opts = program.opts<{ config: string }>();
  const explicit = process.argv.some((a) => a === '-c' || a.startsWith('--config'));
  return loadAgentConfig({ file: explicit ? opts.config : undefined });
}

async function serve(): Promise<void> {
  const opts = program.opts<{ config: string; printConfig?: boolean }>();
  const config = agentConfig();
  if (opts.printConfig) {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return;
  }
  const agent = await startAgent(config);
  // Machine-readable first line on stdout, so supervisors and tests learn the port.
  process.stdout.write(JSON.stringify({ listening: agent.address, hostId: agent.hostId }) + '\n');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: cancelling running jobs and stopping\n`);
    agent.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// compare's usage errors exit 2 (1 means "different"); --help exits 0. The agent itself keeps commander's 1.
program.commands.forEach((c) => c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : COMPARE_EXIT.usage)));
program.parseAsync().catch((err) => {
  process.stderr.write(`ovirt-sysprep-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
