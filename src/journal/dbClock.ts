// Journal times come from the database's clock, as graphile-worker's `now()`: every instance
// compares leases on one clock, so a host whose clock runs fast can neither take over a live
// batch nor, running slow, keep a dead one. On SQLite the database's clock is the clock of the
// host the file lives on (SQLite cannot be shared across hosts).
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import { isSqlite } from '../store/db.js';

/** SQL for the database's time plus `seconds`, as an ISO instant with milliseconds ('…T…Z'), the journal's text format. */
export function dbInstant(db: Db, seconds = 0): Knex.Raw {
  if (isSqlite(db)) return db.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`, [`${seconds >= 0 ? '+' : ''}${seconds} seconds`]);
  return db.raw(`to_char((clock_timestamp() at time zone 'UTC') + make_interval(secs => ?), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, [seconds]);
}

/** The database's time now, in epoch milliseconds. */
export async function dbNowMs(db: Db): Promise<number> {
  const rows = (await db.select(dbInstant(db).wrap('(', ') as now'))) as { now: string }[];
  const t = Date.parse(rows[0].now);
  if (Number.isNaN(t)) throw new Error(`the database returned an unreadable time: ${rows[0].now}`);
  return t;
}
