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
    db = knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // WAL lets `batches list` read while a run writes; busy_timeout rides out short locks
        // taken by another ldm-batch process on the same file.
        afterCreate(conn: { exec(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
          conn.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;', (err) => done(err, conn));
        },
      },
    });
  }
  await db.migrate.latest({ migrationSource });
  return db;
}

/** SQLite limits bound variables per statement; keep chunks of keys well below it on both engines. */
export const KEYS_PER_QUERY = 500;
