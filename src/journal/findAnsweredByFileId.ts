import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';

/**
 * Earlier answered spool batches of this sender with this FileId (for re-delivery and
 * FILEID_REUSED). Only answered files reserve a FileId: a rejected file was not processed, so the
 * sender may fix it and send it again under the same FileId. Only spool batches (those claimed
 * from an in/ folder, hence with a claim name) reserve one (contract §4): `process` answers a
 * local file for an operator, and `reprocess` re-runs a spool batch that holds it already.
 */
export async function findAnsweredByFileId(db: Db, clientId: string, fileId: string): Promise<BatchRecord[]> {
  const rows: BatchRow[] = await db('batches').where({ client_id: clientId, file_id: fileId, state: 'DONE' }).whereNotNull('claim_name').orderBy('id');
  return rows.map(toRecord);
}
