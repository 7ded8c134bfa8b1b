import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';

/**
 * What the journal recorded for a file of a client just finished: the newest finished batch of
 * that name after `afterId` (a fresh claim), or the last one updated (a batch finished by
 * recovery can be older than the watermark).
 */
export async function lastFinished(db: Db, clientId: string, fileName: string, afterId: number | null): Promise<BatchRecord | undefined> {
  const q = db('batches').select('*').where({ client_id: clientId, file_name: fileName }).whereNot('state', 'CLAIMED');
  const row: BatchRow | undefined =
    afterId === null
      ? await q.orderBy([{ column: 'updated_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first()
      : await q.where('id', '>', afterId).orderBy('id', 'desc').first();
  return row ? toRecord(row) : undefined;
}
