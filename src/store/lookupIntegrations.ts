import type { Db } from './db.js';
import type { Integration } from '../interfaces.js';
import { REPERTORY_COLUMNS, SECTOR_LEVEL, toIntegration, type RepertoryRow } from './repertoryRows.js';

/** Whose integrations a lookup reads: the institution's own, and the sector-level ones of its sector (§5). */
export interface IntegrationHolder {
  institutionCbe: string;
  sector: number;
}

/** The integrations that may count for this client, for these SSINs, grouped per SSIN. */
export async function lookupIntegrations(db: Db, holder: IntegrationHolder, ssins: readonly string[]): Promise<Map<string, Integration[]>> {
  const out = new Map<string, Integration[]>();
  if (ssins.length === 0) return out;
  const rows: RepertoryRow[] = await db('repertory')
    .select(...REPERTORY_COLUMNS)
    .whereIn('ssin', [...new Set(ssins)])
    .andWhere((q) => {
      q.where('institution_cbe', holder.institutionCbe).orWhere((s) => s.where('institution_cbe', SECTOR_LEVEL).andWhere('sector', holder.sector));
    })
    .orderBy([{ column: 'ssin' }, { column: 'start_date' }, { column: 'quality_code' }, { column: 'institution_cbe' }]);
  for (const r of rows) {
    const list = out.get(r.ssin) ?? [];
    list.push(toIntegration(r));
    out.set(r.ssin, list);
  }
  return out;
}
