import type { Db } from '../store/db.js';
import { dbInstant } from './dbClock.js';

/**
 * `process` and `reprocess` rows (no claim name: no spool file to take over) whose command
 * stopped renewing them — killed, or its host died — end FAILED (ABANDONED): nothing will ever
 * finish them. Returns how many.
 */
export async function failAbandonedRuns(db: Db): Promise<number> {
  return db('batches')
    .where({ state: 'CLAIMED' })
    .whereNull('claim_name')
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', dbInstant(db)))
    .update({
      state: 'FAILED',
      error_code: 'ABANDONED',
      error: 'the process or reprocess command that held this batch stopped before finishing it (killed, or its host stopped); its response, if any, is incomplete and was not delivered',
      lease_until: null,
      updated_at: dbInstant(db),
    });
}
