// ovirt-sysprep-engine: parses argv and the config file, then starts the engine
// (engine.ts is the composition root). `--local` also starts a host agent in-process.
import 'reflect-metadata';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { defaultConfig, ENGINE_KEYS, EngineConfig, loadEngineConfigFile } from './config';
import { openDb } from './db';
import { startEngine } from './engine';
import { copyDatabase } from './store/copyDatabase';
import { redactUrl } from './store/databaseUrl';
import { startLocalStack } from './local';
import { writeLocalEngineFile } from './localEngineFile';
import { exitQuietlyOnBrokenPipe } from '../shared/brokenPipe';
import { VERSION } from '../shared/version';

export const DEFAULT_CONFIG_FILE = '/etc/ovirt-sysprep/engine.conf';

const CONFIG_HELP = `
Configuration file (vdsm-style ini; every key in docs/engine.md):
  [engine]      listen, tls_cert, tls_key, allow_insecure_http, data_dir, log_level,
                log_file, max_jobs_per_host, job_timeout_sec, agent_lost_timeout_sec,
                health_interval_sec, metrics_public, inventory (embedded | ovirt | libvirt),
                job_retention_days (30; 0: keep), access_log (<data_dir>/access.log; empty: off)
                (a non-loopback listen needs tls_cert + tls_key: HTTPS; or allow_insecure_http = true)
  [tls]         ca, cert, key            client certificate towards the agents (mutual TLS)
  [tokens]      NAME = admin|operator|viewer:TOKEN
  [host:ID]     address = HOST:PORT, storage_roots = DIR[,DIR...], name, libvirt_uri
  [auto_reset]  clone|import|pool = PROFILE | off     (default clone-reset)
  [ovirt]       url, ca_file, username, password_file, agent_port, mount_root, ...
                (with [engine] inventory = ovirt; every key in docs/ovirt.md)
  [libvirt]     uri (default qemu:///system), timeout_sec, cache_ttl_sec
                (with [engine] inventory = libvirt; every key in docs/libvirt.md)
  [local_agent] agent.conf keys for the --local agent (e.g. max_jobs = 2)

Examples:
  ovirt-sysprep-engine --config /etc/ovirt-sysprep/engine.conf
  ovirt-sysprep-engine --local --data-dir /var/tmp/ovirt-sysprep --listen 127.0.0.1:8080
  ovirt-sysprep-engine --config engine.conf --listen 0.0.0.0:8443   # with tls_cert, tls_key in engine.conf
  ovirt-sysprep-engine --config engine.conf --copy-database-to 'postgresql://ovirt-sysprep@db.example/ovirt_sysprep?passfile=/etc/ovirt-sysprep/pgpass'
`;

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnBrokenPipe();
  const program = new Command()
    .name('ovirt-sysprep-engine')
    .description('ovirt-sysprep engine: REST API (/api/v1), embedded inventory, job dispatch to host agents, automatic reset on clone and import')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .option('-c, --config <file>', 'engine configuration file', DEFAULT_CONFIG_FILE)
    .option('--listen <host:port>', 'REST API address (overrides [engine] listen)')
    .option('--data-dir <dir>', 'where engine.db lives (overrides [engine] data_dir)')
    .option('--local', 'single machine: start a host agent in this process serving <data-dir>/images, and keep an admin token in <data-dir>/admin.token')
    .option('--copy-database-to <url>', 'copy the configured database ([engine] database) into a new, empty one (postgresql://... or sqlite:PATH), then exit; stop the engine first. A password goes in a passfile, not in the URL')
    .addHelpText('after', CONFIG_HELP)
    .parse(argv);
  const opts = program.opts<{ config: string; listen?: string; dataDir?: string; local?: boolean; copyDatabaseTo?: string }>();

  const explicitConfig = program.getOptionValueSource('config') !== 'default';
  let config: EngineConfig = defaultConfig();
  let sections: Record<string, Record<string, string>> = {};
  if (explicitConfig || existsSync(opts.config)) ({ config, sections } = loadEngineConfigFile(opts.config));
  if (opts.listen) config.listen = opts.listen;
  if (opts.dataDir) config.dataDir = opts.dataDir;
  if (opts.copyDatabaseTo !== undefined) return copyDatabaseTo(config, opts.copyDatabaseTo);

  const running = opts.local ? await startLocalStack(config, sections.local_agent) : { engine: await startEngine(config), tokenFile: undefined, stop: undefined };
  const stop = running.stop ?? (() => running.engine.stop());
  process.stdout.write(`ovirt-sysprep engine listening on ${running.engine.url}/api/v1\n`);
  // The token itself is a secret: say where it is, never print it.
  if (running.tokenFile) process.stdout.write(`admin bearer token: in ${running.tokenFile}\n`);
  // ... and tell this user's CLI (localEngineFile.ts), so `ovirt-sysprep vms` works with no flags.
  const forget = running.tokenFile ? writeLocalEngineFile(process.env, { url: running.engine.url, tokenFile: running.tokenFile }) : undefined;
  const shutdown = () => {
    forget?.();
    void stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** `--copy-database-to URL` (docs/postgresql.md "Moving from SQLite"). */
function copyDatabaseTo(config: EngineConfig, url: string): void {
  // argv is visible to every user of the machine (ps): no password there.
  if (redactUrl(url) !== url) throw new Error('--copy-database-to: the URL holds a password: put it in a passfile (passfile=... in the URL, or PGPASSFILE)');
  ENGINE_KEYS.database(defaultConfig(), url, '--copy-database-to'); // the check of `[engine] database`
  const from = openDb(config.database, config.dataDir);
  try {
    const to = openDb(url, config.dataDir);
    try {
      if (to.location === from.location) throw new Error(`--copy-database-to: ${to.location} is the configured database itself`);
      process.stdout.write(`copying ${from.location} into ${to.location}\n`);
      const started = Date.now();
      const tables = copyDatabase(from, to, ({ table, rows }) => process.stdout.write(`  ${table}: ${rows} row(s)\n`));
      const rows = tables.reduce((n, t) => n + t.rows, 0);
      process.stdout.write(`copied ${rows} row(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; now set [engine] database = ${url} and start the engine\n`);
    } finally {
      to.close();
    }
  } finally {
    from.close();
  }
}

if (require.main === module) {
  main(process.argv).catch((err) => {
    process.stderr.write(`ovirt-sysprep-engine: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
