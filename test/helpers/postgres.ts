// A fresh PostgreSQL database per test file on the machine's server (127.0.0.1:5432, trust auth;
// LDM_TEST_PG_URL overrides the server URL). When no server answers, the tests that need one
// skip and say why.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.LDM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Whether a PostgreSQL server answers at PG_URL (checked once, before the tests are declared). */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await admin((c) => c.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

export const PG_SKIP_REASON = `no PostgreSQL server answers at ${PG_URL} (set LDM_TEST_PG_URL, or start one: scripts/test-setup.sh starts the local cluster)`;

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTempDatabase(): Promise<TempDatabase> {
  const name = `ldm_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
