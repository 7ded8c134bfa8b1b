// Several instances started at once on a new, empty PostgreSQL database: each runs the
// migrations on start. They must all come up (one migrates, the others wait for it and find
// the schema current) instead of failing with knex's MigrationLocked or a duplicate-table error.
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { migrationSource } from '../../src/store/migrations.js';

const available = await postgresAvailable();
const INSTANCES = 4;
const ROUNDS = 3;
const created: TempDatabase[] = [];

afterAll(async () => {
  for (const d of created) await d.drop();
});

describe.skipIf(!available)(available ? 'concurrent first migrations on PostgreSQL' : `concurrent first migrations on PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`, () => {
  it(`${INSTANCES} instances opening an empty database at once all succeed (${ROUNDS} fresh databases)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const pg = await createTempDatabase();
      created.push(pg);
      const settled = await Promise.allSettled(Array.from({ length: INSTANCES }, () => openDatabase(parseDatabaseSpec(pg.url))));
      const dbs = settled.filter((s): s is PromiseFulfilledResult<Db> => s.status === 'fulfilled').map((s) => s.value);
      try {
        const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => String((s.reason as Error)?.message ?? s.reason));
        expect(errors, `round ${round}`).toEqual([]);
        // Each migration ran exactly once, and every instance sees the whole schema.
        const ran = (await dbs[0]('knex_migrations').select('name')) as { name: string }[];
        expect(new Set(ran.map((r) => r.name)).size).toBe(ran.length);
        for (const db of dbs) {
          const [done, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
          expect(pending).toEqual([]);
          expect(done.length).toBe(ran.length);
          expect(await db.schema.hasTable('batches')).toBe(true);
        }
        const lock = (await dbs[0]('knex_migrations_lock').select('is_locked')) as { is_locked: number }[];
        expect(lock.map((l) => Number(l.is_locked))).toEqual([0]);
      } finally {
        await Promise.all(dbs.map((db) => db.destroy()));
      }
    }
  }, 60_000);
});
