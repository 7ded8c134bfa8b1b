// Retention: audit entries older than the retention period are deleted (storage limitation).
// Every run — the daemon's (audit.retentionYears, on audit.retentionSchedule) or an operator's
// `audit purge` — leaves one row in audit_retention_runs.
import type { Knex } from 'knex';
import { AUDIT_BATCHES, AUDIT_PERSONS, AUDIT_RETENTION_RUNS } from './packed.js';
import { parseSince } from './since.js';
import { LdmError, errorMessage } from '../errors.js';

export interface PurgeResult {
  /** Consultations (batches) removed. */
  batches: number;
  /** (SSIN, batch) rows removed: persons named in those batches, counted once per batch. */
  persons: number;
}

/** Deletes what was consulted strictly before `beforeIso` (a date or an ISO instant), in one transaction. */
export async function purgeAudit(db: Knex | Knex.Transaction, beforeIso: string): Promise<PurgeResult> {
  return db.transaction(async (trx) => {
    const old = trx(AUDIT_BATCHES).where('consulted_at', '<', beforeIso).select('batch_id');
    const persons = Number(await trx(AUDIT_PERSONS).whereIn('batch_id', old).delete());
    const batches = Number(await trx(AUDIT_BATCHES).where('consulted_at', '<', beforeIso).delete());
    return { batches, persons };
  });
}

/** The first day kept when keeping `years` years before `today` (a date YYYY-MM-DD). */
export function retentionCutoff(today: string, years: number): string {
  return parseSince(`${years}y`, today, 'audit.retentionYears');
}

export interface RetentionRun extends PurgeResult {
  id: number;
  ranAt: string;
  trigger: 'daemon' | 'operator';
  purgedBefore: string;
  outcome: 'OK' | 'FAILED';
  error: string | null;
}

/**
 * Purges before `purgedBefore` and journals the run (one row, also when it failed; the error is
 * rethrown). `ranAt` is the run's instant (ISO).
 */
export async function runRetention(
  db: Knex,
  o: { purgedBefore: string; ranAt: string; trigger: 'daemon' | 'operator'; instanceId: string | null },
): Promise<RetentionRun> {
  let result: PurgeResult = { batches: 0, persons: 0 };
  let error: string | null = null;
  try {
    result = await purgeAudit(db, o.purgedBefore);
  } catch (err) {
    error = errorMessage(err);
  }
  const row = {
    ran_at: o.ranAt,
    instance_id: o.instanceId,
    trigger: o.trigger,
    purged_before: o.purgedBefore,
    batches: result.batches,
    persons: result.persons,
    outcome: error === null ? 'OK' : 'FAILED',
    error,
  };
  const [ins] = (await db(AUDIT_RETENTION_RUNS).insert(row).returning('id')) as (number | { id: number })[];
  const id = Number(typeof ins === 'object' ? ins.id : ins);
  const run: RetentionRun = { id, ranAt: o.ranAt, trigger: o.trigger, purgedBefore: o.purgedBefore, batches: result.batches, persons: result.persons, outcome: row.outcome as 'OK' | 'FAILED', error };
  if (error !== null) throw new LdmError('AUDIT_RETENTION_FAILED', `audit retention run ${id} failed (journaled): ${error}`);
  return run;
}

/** The latest retention runs, newest first. */
export async function retentionRuns(db: Knex, limit = 20): Promise<RetentionRun[]> {
  const rows = (await db(AUDIT_RETENTION_RUNS).orderBy('id', 'desc').limit(limit).select('*')) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.id),
    ranAt: String(r.ran_at),
    trigger: r.trigger as 'daemon' | 'operator',
    purgedBefore: String(r.purged_before),
    batches: Number(r.batches),
    persons: Number(r.persons),
    outcome: r.outcome as 'OK' | 'FAILED',
    error: r.error === null || r.error === undefined ? null : String(r.error),
  }));
}
