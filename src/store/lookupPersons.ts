import type { Db } from './db.js';
import type { Person } from '../interfaces.js';

/** The register entries of these SSINs (one query for the whole chunk). */
export async function lookupPersons(db: Db, ssins: readonly string[]): Promise<Map<string, Person>> {
  const out = new Map<string, Person>();
  if (ssins.length === 0) return out;
  const rows: { ssin: string; replaced_by: string | null }[] = await db('persons').select('ssin', 'replaced_by').whereIn('ssin', [...new Set(ssins)]);
  for (const r of rows) out.set(r.ssin, { ssin: r.ssin, replacedBy: r.replaced_by });
  return out;
}
