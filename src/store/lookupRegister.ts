import type { Db } from './db.js';
import { isSqlite } from './db.js';
import type { Integration, Person } from '../interfaces.js';
import { lookupPersons } from './lookupPersons.js';
import { lookupIntegrations } from './lookupIntegrations.js';

/** What the register says of a chunk's SSINs, for one sender. */
export interface RegisterFacts {
  persons: Map<string, Person>;
  /** The sender's integrations, per SSIN; only for SSINs in `persons` (an unknown SSIN stops at MSG00005 first). */
  integrations: Map<string, Integration[]>;
}

// SQLite: one statement for both, the person row and the sender's integrations of each SSIN
// (through the covering repertory_lookup index). The keys go in as one JSON array (json_each) and
// the rows come back as one JSON text (json_group_array): one result row per chunk whatever its
// size, as the sqlite3 driver's JS object per result row costs far more than the lookup itself.
// Measured on the bench store: 2.3 s per million keys against 2.1 + 1.8 s as two statements.
const REGISTER_SQLITE =
  'SELECT json_group_array(json_array(ssin, replaced_by, sector, quality_code, start_date, end_date)) AS j FROM (' +
  'SELECT p.ssin, p.replaced_by, r.sector, r.quality_code, r.start_date, r.end_date FROM persons p ' +
  'LEFT JOIN repertory r ON r.institution_cbe = ? AND r.ssin = p.ssin ' +
  'WHERE p.ssin IN (SELECT value FROM json_each(?)) ORDER BY p.ssin, r.start_date, r.quality_code)';

type RegisterRow = [string, string | null, number | string | null, number | string | null, string | null, string | null];

/** The register entries and the sender's integrations of these SSINs (one query on SQLite). */
export async function lookupRegister(db: Db, institutionCbe: string, ssins: readonly string[]): Promise<RegisterFacts> {
  if (ssins.length > 0 && isSqlite(db)) {
    const persons = new Map<string, Person>();
    const integrations = new Map<string, Integration[]>();
    const rows: { j: string }[] = await db.raw(REGISTER_SQLITE, [institutionCbe, JSON.stringify(ssins)]);
    for (const [ssin, replacedBy, sector, qualityCode, startDate, endDate] of JSON.parse(rows[0].j) as RegisterRow[]) {
      if (!persons.has(ssin)) persons.set(ssin, { ssin, replacedBy });
      if (startDate === null) continue; // no integration of this sender (LEFT JOIN)
      const item: Integration = { ssin, sector: Number(sector), institutionCbe, qualityCode: Number(qualityCode), startDate, endDate };
      const list = integrations.get(ssin);
      if (list) list.push(item);
      else integrations.set(ssin, [item]);
    }
    return { persons, integrations };
  }
  const [persons, integrations] = await Promise.all([lookupPersons(db, ssins), lookupIntegrations(db, institutionCbe, ssins)]);
  return { persons, integrations };
}
