// Retention: audit entries older than the retention period are deleted (storage limitation).
import type { Knex } from 'knex';
import { AUDIT_TABLE } from './migration.js';

/** Deletes entries consulted strictly before `beforeIso` (a date or an ISO instant); returns how many. */
export async function purgeAudit(db: Knex | Knex.Transaction, beforeIso: string): Promise<number> {
  const n: number = await db(AUDIT_TABLE).where('consulted_at', '<', beforeIso).delete();
  return Number(n);
}
