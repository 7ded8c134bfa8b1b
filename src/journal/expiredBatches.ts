import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';
import { dbInstant } from './dbClock.js';

/** A client's CLAIMED spool batches (process/reprocess rows have no claim name) whose lease expired by the database's clock (their holder died, or a retry is due). */
export async function expiredBatches(db: Db, clientId: string): Promise<BatchRecord[]> {
  const rows: BatchRow[] = await db('batches')
    .where({ client_id: clientId, state: 'CLAIMED' })
    .whereNotNull('claim_name')
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', dbInstant(db)))
    .orderBy('id');
  return rows.map(toRecord);
}
