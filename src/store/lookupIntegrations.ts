import type { Knex } from 'knex';
import type { Db } from './db.js';
import type { Integration } from '../interfaces.js';
import { REPERTORY_COLUMNS, SECTOR_LEVEL, toIntegration, type RepertoryRow } from './repertoryRows.js';

/** Whose integrations a lookup reads: the institution's own, and the sector-level ones of its sector (§5). */
export interface IntegrationHolder {
  institutionCbe: string;
  sector: number;
}

/** The integrations that may count for this client, for these SSINs, grouped per SSIN. */
export function lookupIntegrations(db: Db, holder: IntegrationHolder, ssins: readonly string[]): Promise<Map<string, Integration[]>> {
  return integrationsBySsin(db, ssins, (q) => {
    q.where('institution_cbe', holder.institutionCbe).orWhere((s) => s.where('institution_cbe', SECTOR_LEVEL).andWhere('sector', holder.sector));
  });
}

/**
 * The repertory rows of these SSINs that `filter` keeps, as integrations grouped per SSIN, each
 * list in (start date, quality code, institution) order: one statement per chunk of SSINs.
 */
export async function integrationsBySsin(db: Db, ssins: readonly string[], filter: (q: Knex.QueryBuilder) => void): Promise<Map<string, Integration[]>> {
  const out = new Map<string, Integration[]>();
  if (ssins.length === 0) return out;
  const rows: RepertoryRow[] = await db('repertory')
    .select(...REPERTORY_COLUMNS)
    .whereIn('ssin', [...new Set(ssins)])
    .andWhere(filter)
    .orderBy([{ column: 'ssin' }, { column: 'start_date' }, { column: 'quality_code' }, { column: 'institution_cbe' }]);
  for (const r of rows) {
    const list = out.get(r.ssin) ?? [];
    list.push(toIntegration(r));
    out.set(r.ssin, list);
  }
  return out;
}
