import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';

/** Batches of a client still in flight (CLAIMED), live or not. */
export async function claimedBatches(db: Db, clientId: string): Promise<BatchRecord[]> {
  const rows: BatchRow[] = await db('batches').where({ client_id: clientId, state: 'CLAIMED' }).orderBy('id');
  return rows.map(toRecord);
}
