// The database a test's engine keeps its state in: SQLite (engine.db in its data dir), or,
// in the `engine-pg` jest project (jest.config.js: the engine's tests once more, on
// PostgreSQL), a new database on the PostgreSQL server that project's global set-up
// started (test/postgresGlobal.ts).
import { DEFAULT_DATABASE } from '../../engine-plugin/store/databaseUrl';
import { createDatabaseSync } from './postgres';

/** Where the engine-pg project's server listens (its socket directory), set by its global set-up. */
export const TEST_PG_ENV = 'OVIRT_SYSPREP_TEST_PG';

/** 'postgresql' in the engine-pg project (jest `globals`), else 'sqlite'. */
export const testStore = (): 'sqlite' | 'postgresql' =>
  (globalThis as { OVIRT_SYSPREP_TEST_STORE?: string }).OVIRT_SYSPREP_TEST_STORE === 'postgresql' ? 'postgresql' : 'sqlite';

/** The `[engine] database` of a new engine in a test: a fresh, empty one. */
export function testDatabase(): string {
  if (testStore() === 'sqlite') return DEFAULT_DATABASE;
  const host = process.env[TEST_PG_ENV];
  if (!host) throw new Error(`${TEST_PG_ENV} is not set: the engine-pg project's global set-up did not start PostgreSQL`);
  return createDatabaseSync(host, 't');
}
