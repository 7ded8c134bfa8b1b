import type { Db } from './db.js';
import type { Integration } from '../interfaces.js';

interface RepertoryRow {
  ssin: string;
  sector: number;
  institution_cbe: string;
  quality_code: number;
  start_date: string;
  end_date: string | null;
}

/** The integrations one institution holds for these SSINs, grouped per SSIN. */
export async function lookupIntegrations(db: Db, institutionCbe: string, ssins: readonly string[]): Promise<Map<string, Integration[]>> {
  const out = new Map<string, Integration[]>();
  if (ssins.length === 0) return out;
  const rows: RepertoryRow[] = await db('repertory')
    .select('ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date')
    .where('institution_cbe', institutionCbe)
    .whereIn('ssin', [...new Set(ssins)])
    .orderBy([{ column: 'ssin' }, { column: 'start_date' }, { column: 'quality_code' }]);
  for (const r of rows) {
    const list = out.get(r.ssin) ?? [];
    list.push({
      ssin: r.ssin,
      sector: Number(r.sector),
      institutionCbe: r.institution_cbe,
      qualityCode: Number(r.quality_code),
      startDate: r.start_date,
      endDate: r.end_date,
    });
    out.set(r.ssin, list);
  }
  return out;
}
