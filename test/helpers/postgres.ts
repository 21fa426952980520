// A real PostgreSQL server for the tests that need one, started by the test itself: a
// cluster made with initdb in a temporary directory, listening only on a unix socket in
// that directory (no TCP port at all), fsync off (a test's data need not survive a power
// cut). PostgreSQL refuses to run as root: as root (CI) the cluster belongs to the
// `postgres` user the Debian package creates, and its commands run through runuser.
//
// One server per test file (startPostgres), a fresh database per test (createDatabase):
// initdb and start take about 1.5 s here.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest installed server's bin directory (Debian: /usr/lib/postgresql/15/bin). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (scripts/setup.sh installs it): no /usr/lib/postgresql/*/bin/initdb');
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

export interface TestPostgres {
  /** The server's socket directory. */
  readonly socketDir: string;
  /** libpq URI of database `name` (default: postgres) on this server. */
  url(name?: string): string;
  /** A new empty database; its URI. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): Promise<void>;
}

const USER = 'ovirt_sysprep';
let databases = 0;

/** libpq URI of database `name` on the test server listening in `socketDir`. */
export const postgresUrl = (socketDir: string, name = 'postgres'): string => `postgresql:///${name}?host=${encodeURIComponent(socketDir)}&user=${USER}`;

/** A new empty database on the test server in `socketDir`; its URI. */
export function createDatabaseSync(socketDir: string, prefix = 'test'): string {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++databases}`;
  execFileSync(path.join(postgresBin(), 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', postgresUrl(socketDir), '-c', `CREATE DATABASE ${name}`]);
  return postgresUrl(socketDir, name);
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ovs-pg-'));
  const asRoot = process.getuid?.() === 0;
  // As root: the cluster's files belong to `postgres`, and so does the directory around them.
  const owner = asRoot ? await run('id', ['-u', 'postgres']).then((r) => Number(r.stdout.trim())) : undefined;
  if (owner !== undefined) chownSync(dir, owner, owner);
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);
  const data = path.join(dir, 'data');
  await pg('initdb', ['-D', data, '-U', USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  await pg('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o',
    `-k ${dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
  return {
    socketDir: dir,
    url: (name) => postgresUrl(dir, name),
    async createDatabase(prefix) {
      return createDatabaseSync(dir, prefix);
    },
    async stop() {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
