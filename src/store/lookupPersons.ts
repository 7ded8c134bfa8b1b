import type { Db } from './db.js';
import { isSqlite } from './db.js';
import type { Person } from '../interfaces.js';

// SQLite: the keys go in as one JSON array (json_each) and the rows come back as one JSON text
// (json_group_array): one statement and one result row per chunk whatever its size. The sqlite3
// driver builds a JS object per result row, which costs far more than the lookup itself.
const PERSONS_SQLITE =
  'SELECT json_group_array(json_array(ssin, replaced_by)) AS j FROM persons WHERE ssin IN (SELECT value FROM json_each(?))';

/** The register entries of these SSINs (one query for the whole chunk). */
export async function lookupPersons(db: Db, ssins: readonly string[]): Promise<Map<string, Person>> {
  const out = new Map<string, Person>();
  if (ssins.length === 0) return out;
  if (isSqlite(db)) {
    const rows: { j: string }[] = await db.raw(PERSONS_SQLITE, [JSON.stringify(ssins)]);
    for (const [ssin, replacedBy] of JSON.parse(rows[0].j) as [string, string | null][]) out.set(ssin, { ssin, replacedBy });
    return out;
  }
  const rows: { ssin: string; replaced_by: string | null }[] = await db('persons').select('ssin', 'replaced_by').whereIn('ssin', [...new Set(ssins)]);
  for (const r of rows) out.set(r.ssin, { ssin: r.ssin, replacedBy: r.replaced_by });
  return out;
}
