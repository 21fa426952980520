#!/usr/bin/env node
// ovirt-sysprep-agent: the per-host agent executable.
import { Command } from 'commander';
import { describeKeys } from '../shared/config';
import { startAgent } from './agent';
import { AGENT_KEYS, DEFAULT_CONFIG_FILE, loadAgentConfig } from './config';
import { exitQuietlyOnBrokenPipe } from '../shared/brokenPipe';
import { VERSION } from '../shared/version';

exitQuietlyOnBrokenPipe();
const program = new Command('ovirt-sysprep-agent')
  .description('Per-host agent of ovirt-sysprep: runs virt-sysprep on this host\'s disks, with leases and safe overlays, over gRPC (mutual TLS).')
  .version(VERSION, '-V, --version', 'print the version and exit')
  .option('-c, --config <file>', `configuration file (vdsm-style ini, section [agent])`, DEFAULT_CONFIG_FILE)
  .option('--print-config', 'print the effective configuration as JSON and exit')
  .addHelpText('after', `\nConfiguration keys (file key, environment override):\n${describeKeys(AGENT_KEYS, 'text')}\n\nSee docs/agent-config.md.`)
  .parse();

async function main(): Promise<void> {
  const opts = program.opts<{ config: string; printConfig?: boolean }>();
  const explicit = process.argv.some((a) => a === '-c' || a.startsWith('--config'));
  const config = loadAgentConfig({ file: explicit ? opts.config : undefined });
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

main().catch((err) => {
  process.stderr.write(`ovirt-sysprep-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
