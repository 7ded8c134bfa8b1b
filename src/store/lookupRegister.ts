import type { Db } from './db.js';
import { isSqlite } from './db.js';
import type { Integration, Person } from '../interfaces.js';
import { lookupPersons } from './lookupPersons.js';
import { lookupIntegrations, type IntegrationHolder } from './lookupIntegrations.js';
import { toIntegration } from './repertoryRows.js';

/** What the register says of a chunk's SSINs, for one sender. */
export interface RegisterFacts {
  persons: Map<string, Person>;
  /** The integrations that may count for the sender (its own and its sector's), per SSIN; only for SSINs in `persons` (an unknown SSIN stops at MSG00005 first). */
  integrations: Map<string, Integration[]>;
}

// SQLite: one statement for both, the person row and the integrations that may count for the
// sender of each SSIN: its own (institution-level) and its sector's (sector-level, stored with
// institution_cbe ''), each part one seek into the covering repertory_lookup index. The keys go
// in as one JSON array (json_each) and the rows come back as one JSON text (json_group_array):
// one result row per chunk whatever its size, as the sqlite3 driver's JS object per result row
// costs far more than the lookup itself.
const REGISTER_SQLITE =
  'SELECT json_group_array(json_array(ssin, replaced_by, sector, institution_cbe, quality_code, start_date, end_date)) AS j FROM (' +
  'SELECT p.ssin, p.replaced_by, r.sector, r.institution_cbe, r.quality_code, r.start_date, r.end_date FROM persons p ' +
  'LEFT JOIN repertory r ON r.institution_cbe = ? AND r.ssin = p.ssin ' +
  'WHERE p.ssin IN (SELECT value FROM json_each(?)) ' +
  'UNION ALL ' +
  'SELECT p.ssin, p.replaced_by, r.sector, r.institution_cbe, r.quality_code, r.start_date, r.end_date FROM persons p ' +
  "JOIN repertory r ON r.institution_cbe = '' AND r.ssin = p.ssin AND r.sector = ? " +
  'WHERE p.ssin IN (SELECT value FROM json_each(?)) ' +
  'ORDER BY 1, 6, 5, 4)';

type RegisterRow = [string, string | null, number | string | null, string | null, number | string | null, string | null, string | null];

/** The register entries of these SSINs and the integrations that may count for the sender (one query on SQLite). */
export async function lookupRegister(db: Db, holder: IntegrationHolder, ssins: readonly string[]): Promise<RegisterFacts> {
  if (ssins.length > 0 && isSqlite(db)) {
    const persons = new Map<string, Person>();
    const integrations = new Map<string, Integration[]>();
    const keys = JSON.stringify(ssins);
    const rows: { j: string }[] = await db.raw(REGISTER_SQLITE, [holder.institutionCbe, keys, holder.sector, keys]);
    for (const [ssin, replacedBy, sector, institutionCbe, qualityCode, startDate, endDate] of JSON.parse(rows[0].j) as RegisterRow[]) {
      if (!persons.has(ssin)) persons.set(ssin, { ssin, replacedBy });
      if (startDate === null) continue; // no integration of this sender (LEFT JOIN)
      const item = toIntegration({ ssin, sector: Number(sector), institution_cbe: institutionCbe, quality_code: Number(qualityCode), start_date: startDate, end_date: endDate });
      const list = integrations.get(ssin);
      if (list) list.push(item);
      else integrations.set(ssin, [item]);
    }
    return { persons, integrations };
  }
  const [persons, integrations] = await Promise.all([lookupPersons(db, ssins), lookupIntegrations(db, holder, ssins)]);
  return { persons, integrations };
}
