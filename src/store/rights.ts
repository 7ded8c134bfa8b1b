// Rights history: lookups for the LivingWages service, the import and the notifier.
import type { Knex } from 'knex';
import type { Db } from './db.js';
import type { RightEvent, RightType, RightVersion } from '../interfaces.js';
import { RIGHTS_TABLE } from './rightsMigration.js';

export interface RightRow {
  right_id: string;
  version: number | string;
  ssin: string;
  ocmw_cbe: string;
  right_type: string;
  start_date: string;
  end_date: string | null;
  event: string;
  decided_on: string;
}

const COLUMNS = ['right_id', 'version', 'ssin', 'ocmw_cbe', 'right_type', 'start_date', 'end_date', 'event', 'decided_on'] as const;

export function toRightVersion(r: RightRow): RightVersion {
  return {
    rightId: r.right_id,
    version: Number(r.version),
    ssin: r.ssin,
    ocmwCbe: r.ocmw_cbe,
    // The import only stores checked values.
    rightType: r.right_type as RightType,
    startDate: r.start_date,
    endDate: r.end_date,
    event: r.event as RightEvent,
    decidedOn: r.decided_on,
  };
}

export function toRightRow(v: RightVersion): RightRow {
  return {
    right_id: v.rightId,
    version: v.version,
    ssin: v.ssin,
    ocmw_cbe: v.ocmwCbe,
    right_type: v.rightType,
    start_date: v.startDate,
    end_date: v.endDate,
    event: v.event,
    decided_on: v.decidedOn,
  };
}

/**
 * Every stored version of the rights of these SSINs (one query for the chunk), grouped per SSIN.
 * Versions of one right always name the same SSIN (the import enforces it), so this is the
 * whole history of each right; the pure rules pick the current version.
 */
export async function lookupRightVersions(db: Db, ssins: readonly string[]): Promise<Map<string, RightVersion[]>> {
  const out = new Map<string, RightVersion[]>();
  if (ssins.length === 0) return out;
  const rows: RightRow[] = await db(RIGHTS_TABLE)
    .select(...COLUMNS)
    .whereIn('ssin', [...new Set(ssins)])
    .orderBy([{ column: 'ssin' }, { column: 'right_id' }, { column: 'version' }]);
  for (const r of rows) {
    const list = out.get(r.ssin) ?? [];
    list.push(toRightVersion(r));
    out.set(r.ssin, list);
  }
  return out;
}

/** Every stored version of these rights (for the import's history checks). */
export async function versionsOfRights(db: Db | Knex.Transaction, rightIds: readonly string[]): Promise<RightVersion[]> {
  if (rightIds.length === 0) return [];
  const rows: RightRow[] = await db(RIGHTS_TABLE).select(...COLUMNS).whereIn('right_id', [...new Set(rightIds)]);
  return rows.map(toRightVersion);
}

/** Stores new versions; a version already there is left untouched (history is immutable). */
export async function insertRightVersions(trx: Knex.Transaction, versions: readonly RightVersion[]): Promise<void> {
  // 10 columns a row: stay well under SQLite's bound-variable limit.
  for (let i = 0; i < versions.length; i += 90) {
    const rows = versions.slice(i, i + 90).map((v) => ({ ...toRightRow(v), planned: 0 }));
    await trx(RIGHTS_TABLE).insert(rows).onConflict(['right_id', 'version']).ignore();
  }
}
