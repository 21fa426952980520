// Global set-up and tear-down of the engine-pg jest project: one PostgreSQL server for all
// its test files (test/helpers/postgres.ts), each engine in a database of its own
// (test/helpers/testDatabase.ts). The workers find it through the environment.
import { startPostgres, TestPostgres } from './helpers/postgres';
import { TEST_PG_ENV } from './helpers/testDatabase';

// Set-up and tear-down may load this module apart: the server is kept on globalThis.
const slot = globalThis as { ovirtSysprepTestPg?: TestPostgres };

export async function setup(): Promise<void> {
  slot.ovirtSysprepTestPg = await startPostgres();
  process.env[TEST_PG_ENV] = slot.ovirtSysprepTestPg.socketDir;
}

export async function teardown(): Promise<void> {
  await slot.ovirtSysprepTestPg?.stop();
}
