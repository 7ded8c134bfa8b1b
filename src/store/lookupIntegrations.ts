import type { Db } from './db.js';
import { isSqlite } from './db.js';
import type { Integration } from '../interfaces.js';

interface RepertoryRow {
  ssin: string;
  sector: number;
  institution_cbe: string;
  quality_code: number;
  start_date: string;
  end_date: string | null;
}

// See lookupPersons.ts for the JSON in / JSON out form.
const INTEGRATIONS_SQLITE =
  'SELECT json_group_array(json_array(ssin, sector, quality_code, start_date, end_date)) AS j FROM (' +
  'SELECT ssin, sector, quality_code, start_date, end_date FROM repertory ' +
  'WHERE institution_cbe = ? AND ssin IN (SELECT value FROM json_each(?)) ORDER BY ssin, start_date, quality_code)';

/** The integrations one institution holds for these SSINs, grouped per SSIN. */
export async function lookupIntegrations(db: Db, institutionCbe: string, ssins: readonly string[]): Promise<Map<string, Integration[]>> {
  const out = new Map<string, Integration[]>();
  if (ssins.length === 0) return out;
  if (isSqlite(db)) {
    const rows: { j: string }[] = await db.raw(INTEGRATIONS_SQLITE, [institutionCbe, JSON.stringify(ssins)]);
    const found = JSON.parse(rows[0].j) as [string, number | string, number | string, string, string | null][];
    for (const [ssin, sector, qualityCode, startDate, endDate] of found) {
      const item: Integration = { ssin, sector: Number(sector), institutionCbe, qualityCode: Number(qualityCode), startDate, endDate };
      const list = out.get(ssin);
      if (list) list.push(item);
      else out.set(ssin, [item]);
    }
    return out;
  }
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
