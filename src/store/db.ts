// Opens the store (SQLite by default, PostgreSQL by URL) and brings its schema up to date.
import knexFactory, { type Knex } from 'knex';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrationSource } from './migrations.js';

export type Db = Knex;

export interface DatabaseSpec {
  /** `sqlite` (a file) or `postgres` (a connection URL). */
  client: 'sqlite' | 'postgres';
  filename?: string;
  url?: string;
}

/** 'postgres://…' or 'postgresql://…' selects PostgreSQL; anything else is an SQLite file path. */
export function parseDatabaseSpec(value: string): DatabaseSpec {
  if (/^postgres(ql)?:\/\//.test(value)) return { client: 'postgres', url: value };
  return { client: 'sqlite', filename: value.replace(/^sqlite:/, '') };
}

export async function openDatabase(spec: DatabaseSpec): Promise<Db> {
  let db: Knex;
  if (spec.client === 'postgres') {
    db = knexFactory({ client: 'pg', connection: spec.url, pool: { min: 0, max: 8 } });
  } else {
    const filename = spec.filename ?? ':memory:';
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    db = openSqlite(filename);
  }
  try {
    await migrateLatest(db, spec.client);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/** The advisory lock key that serializes ldm-batch migrations on one database (any fixed number). */
const MIGRATION_LOCK_KEY = 0x6c646d62; // 'ldmb'

/**
 * On PostgreSQL several instances may start at once on a new database: knex's own lock table is
 * created by the migration run itself (two creators collide) and a second runner fails with
 * MigrationLocked instead of waiting. A transaction-scoped advisory lock, held on its own pooled
 * connection while knex migrates on the others, makes the rest wait; they then find the
 * migrations done. The lock goes with the transaction, also when the process dies.
 */
async function migrateLatest(db: Knex, client: DatabaseSpec['client']): Promise<void> {
  if (client !== 'postgres') {
    await db.migrate.latest({ migrationSource });
    return;
  }
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await db.migrate.latest({ migrationSource });
  });
}

function openSqlite(filename: string, cacheMiB = 8): Knex {
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      // WAL lets `batches list` read while a run writes; busy_timeout rides out short locks
      // taken by another ldm-batch process (or a second connection of this one) on the same file.
      afterCreate(conn: { exec(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        // cache_size: a few MiB of page cache (default 2 MiB) keeps more of the audit index and of
        // the lookups' index pages in memory for big batches; it is a bound, not an allocation.
        conn.exec(
          `PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA cache_size=-${cacheMiB * 1024};`,
          (err) => done(err, conn),
        );
      },
    },
  });
}

/**
 * A second connection to the same SQLite file (already migrated), for bulk writes that should
 * not queue behind the lookups of the main connection (its one connection serializes them);
 * SQLite runs each connection's statements in its own thread. The caller destroys it.
 * Elsewhere (PostgreSQL has a pool) it is `db` itself, and `release` does nothing.
 */
export function siblingConnection(db: Db): { db: Db; release: () => Promise<void> } {
  const filename = isSqlite(db) ? (db.client as { config: { connection?: { filename?: string } } }).config.connection?.filename : undefined;
  if (filename === undefined || filename === ':memory:' || filename === '') return { db, release: async () => undefined };
  const sibling = openSqlite(filename, 4);
  return { db: sibling, release: () => sibling.destroy() };
}

/** SQLite limits bound variables per statement; keep chunks of keys well below it on both engines. */
export const KEYS_PER_QUERY = 500;

/** Whether the store is the embedded SQLite (the lookups then use its JSON functions: see lookup*.ts). */
export function isSqlite(db: Db): boolean {
  return (db.client as { config?: { client?: unknown } }).config?.client === 'sqlite3';
}

/**
 * Lines per chunk on SQLite: the keys travel as one JSON parameter (json_each), not as bound
 * variables, so a chunk can be large; it bounds memory (a few MB per chunk in flight).
 */
export const SQLITE_LINES_PER_CHUNK = 1024;
