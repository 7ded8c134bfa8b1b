import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';

/** The batch recorded for a claim file of a client's in/ folder, if any. */
export async function findByClaimName(db: Db, clientId: string, claimName: string): Promise<BatchRecord | undefined> {
  const row: BatchRow | undefined = await db('batches').where({ client_id: clientId, claim_name: claimName }).first();
  return row ? toRecord(row) : undefined;
}
