// Opens the store (SQLite by default, PostgreSQL by URL) and brings its schema up to date.
import knexFactory, { type Knex } from 'knex';
import { mkdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { migrationSource } from './migrations.js';
import { LdmError, errorMessage } from '../errors.js';
import { createLogger } from '../log/logger.js';

export type Db = Knex;

export interface DatabaseSpec {
  /** `sqlite` (a file) or `postgres` (a connection URL). */
  client: 'sqlite' | 'postgres';
  filename?: string;
  url?: string;
  /** PostgreSQL: a file (mode 0600) whose first line is the password; otherwise pg reads PGPASSWORD. */
  passwordFile?: string;
}

/** 'postgres://…' or 'postgresql://…' selects PostgreSQL; anything else is an SQLite file path. */
export function parseDatabaseSpec(value: string): DatabaseSpec {
  if (/^postgres(ql)?:\/\//.test(value)) return { client: 'postgres', url: value };
  return { client: 'sqlite', filename: value.replace(/^sqlite:/, '') };
}

/** The store named by the config. */
export function databaseSpec(config: { database: string; databasePasswordFile?: string }): DatabaseSpec {
  const spec = parseDatabaseSpec(config.database);
  return spec.client === 'postgres' && config.databasePasswordFile ? { ...spec, passwordFile: config.databasePasswordFile } : spec;
}

/** The password file's first line; refused when group or others may read it (as for keys). */
export async function readPasswordFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new LdmError('DB_PASSWORD_FILE', `cannot read databasePasswordFile ${path}: ${errorMessage(err)}`, { exitCode: 2 });
  }
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new LdmError('KEY_PERMISSIONS', `databasePasswordFile ${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); restrict it with: chmod 600 ${JSON.stringify(path)}`, { exitCode: 2 });
  }
  return (await readFile(path, 'utf8')).split(/\r?\n/)[0];
}

/** A connection pool without touching the schema (`ldm-batch check` looks, it never migrates). */
export function connectDatabase(spec: DatabaseSpec): Db {
  if (spec.client === 'postgres') {
    const file = spec.passwordFile;
    // pg calls the function at every connect, so a rotated password is picked up without a restart.
    const connection = file ? { connectionString: spec.url, password: () => readPasswordFile(file) } : spec.url;
    return knexFactory({ client: 'pg', connection, pool: { min: 0, max: 8 }, log: driverLog });
  }
  const filename = spec.filename ?? ':memory:';
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return openSqlite(filename);
}

/** Names of the migrations this version has that the database has not run yet. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = (await migrationSource.getMigrations([])).map((m) => migrationSource.getMigrationName(m));
  if (!(await db.schema.hasTable('knex_migrations'))) return all;
  const done = new Set((await db('knex_migrations').select('name')).map((r: { name: string }) => r.name));
  return all.filter((n) => !done.has(n));
}

export async function openDatabase(spec: DatabaseSpec): Promise<Db> {
  const db = connectDatabase(spec);
  try {
    await migrateLatest(db, spec.client);
  } catch (err) {
    await db.destroy();
    throw openError(spec, err);
  }
  if (spec.client === 'postgres') openedAddress = pgAddress(spec.url);
  return db;
}

/**
 * knex prints its warnings with console.log, on stdout, stack traces included: that broke
 * `--json` output and showed operators a trace. They go to the structured log on stderr, first
 * line only (the error itself reaches the caller anyway); LDM_BATCH_DEBUG keeps them whole.
 */
const driverLogger = createLogger({ base: { component: 'db-driver' } });
const firstLine = (message: unknown): string => {
  const text = typeof message === 'string' ? message : errorMessage(message);
  return process.env.LDM_BATCH_DEBUG ? text : text.split('\n')[0];
};
/**
 * Warnings about an error that the caller receives anyway, and reports once with a code (see
 * openError): "Acquire connection error" repeats for every try while the database is down, and a
 * failed migration lock comes with advice to run `knex migrate:unlock`, which is not true here.
 */
const REPORTED_BY_CALLER = /^(Acquire connection error|Can't take lock to run migrations|If you are sure migrations are not running|migration failed with error|migration file)/;
const driverLog = {
  debug: (): void => undefined,
  warn: (m: unknown): void => (REPORTED_BY_CALLER.test(firstLine(m)) ? driverLogger.debug : driverLogger.warn)('db.driver', { message: firstLine(m) }),
  error: (m: unknown): void => driverLogger.error('db.driver', { message: firstLine(m) }),
  deprecate: (): void => undefined,
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** PostgreSQL SQLSTATEs of a connection the server refused. */
const REFUSED: Record<string, string> = {
  '3D000': 'no such database',
  '28P01': 'wrong password',
  '28000': 'role not allowed to connect',
};

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  // Node reports a name with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError
  if (err instanceof AggregateError) return err.errors.map(errorCode).find((c) => c !== undefined);
  return undefined;
}

/** Where a PostgreSQL URL points, without its credentials. */
function pgAddress(url: string | undefined): string {
  try {
    const u = new URL(url ?? '');
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname.length > 1 ? ` (database ${decodeURIComponent(u.pathname.slice(1))})` : ''}`;
  } catch {
    return 'the configured address';
  }
}

/** The PostgreSQL address this process opened last (a CLI command opens one store), for messages. */
let openedAddress: string | undefined;

/**
 * A database that stopped answering after it was opened (a command's query met a closed or
 * refused connection), as the coded error an operator reads; undefined for any other error.
 */
export function databaseFault(err: unknown): LdmError | undefined {
  if (err instanceof LdmError || openedAddress === undefined) return undefined;
  const code = errorCode(err);
  const message = errorMessage(err);
  const lost = /Connection terminated|Connection ended unexpectedly|Timeout acquiring a connection/.test(message);
  if (!UNREACHABLE.has(code ?? '') && !lost) return undefined;
  return new LdmError('DB_UNREACHABLE', `the PostgreSQL database at ${openedAddress} stopped answering: ${code ?? message.split('\n')[0]}`, { cause: err });
}

/** The store could not be opened: a coded error saying what is true, for the operator. */
function openError(spec: DatabaseSpec, err: unknown): unknown {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (spec.client === 'postgres' && (UNREACHABLE.has(code ?? '') || (err as { name?: unknown })?.name === 'KnexTimeoutError')) {
    return new LdmError('DB_UNREACHABLE', `cannot reach the PostgreSQL database at ${pgAddress(spec.url)}: ${code ?? 'no connection within the timeout'}. Is it running, and are the host and port in "database" right?`, {
      cause: err,
    });
  }
  if (spec.client === 'postgres' && REFUSED[code ?? ''] !== undefined) {
    // The server answered: the address is right, the config names a database or role it does not know.
    return new LdmError('DB_REFUSED', `the PostgreSQL server at ${pgAddress(spec.url)} refused the connection: ${REFUSED[code ?? '']} (${message}). Check "database" in the config`, {
      exitCode: 2,
      cause: err,
    });
  }
  if (spec.client === 'sqlite' && /SQLITE_BUSY/.test(message)) {
    return new LdmError(
      'DB_BUSY',
      `the database file ${spec.filename} stayed locked by another process for 10 s (another ldm-batch command, or a tool holding a write transaction on it). Nothing was changed; run the command again once that process has finished`,
      { cause: err },
    );
  }
  if (/Migration table is already locked/.test(message)) {
    // knex's own lock row says a migration is running: another instance is upgrading the schema
    // now, or one died doing it (then the row stays set).
    return new LdmError(
      'DB_MIGRATION_LOCKED',
      'the database schema is being upgraded by another ldm-batch (its migration lock is set). Run the command again when it has finished; if no other ldm-batch is running, a run that died left the lock: set is_locked = 0 in knex_migrations_lock',
      { cause: err },
    );
  }
  return err;
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
    log: driverLog,
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
