// `init` loads the shipped OCMW list into the store it configures, PostgreSQL as SQLite; and
// `init --force` keeps the configured store (before, it rewrote the config with the default
// SQLite file, so the list went there and the PostgreSQL store stayed without OCMWs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initInstance } from '../../src/cli/commands/init.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';

const available = await postgresAvailable();

describe.skipIf(!available)(available ? 'init on PostgreSQL' : `init on PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`, () => {
  let temp: TempDatabase;
  let dir: string;
  let db: Db;
  const ocmws = async (): Promise<number> => Number(((await db('ocmws').count({ n: '*' }))[0] as { n: number | string }).n);

  beforeAll(async () => {
    temp = await createTempDatabase();
    dir = await mkdtemp(join(tmpdir(), 'ldm-init-pg-'));
  });
  afterAll(async () => {
    await db?.destroy();
    await temp?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the OCMW list, and init --force keeps the PostgreSQL store', async () => {
    await initInstance(dir, { quiet: true, database: temp.url });
    db = await openDatabase({ client: 'postgres', url: temp.url });
    expect(await ocmws()).toBeGreaterThan(30);
    await db('ocmws').del();
    await initInstance(dir, { quiet: true, force: true });
    expect(JSON.parse(await readFile(join(dir, 'ldm-batch.config.json'), 'utf8')).database).toBe(temp.url);
    expect(await ocmws()).toBeGreaterThan(30);
  });
});
