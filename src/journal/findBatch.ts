import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';
import { getBatch } from './getBatch.js';

/** A batch by numeric id, or the latest batch carrying that FileId. */
export async function findBatch(db: Db, idOrFileId: string): Promise<BatchRecord | undefined> {
  if (/^\d+$/.test(idOrFileId)) {
    const b = await getBatch(db, Number(idOrFileId));
    if (b) return b;
  }
  // A FileId names the latest real answer to it; re-deliveries and rejections only if there is none.
  const row: BatchRow | undefined =
    (await db('batches').where({ file_id: idOrFileId, state: 'DONE' }).whereNull('error_code').orderBy('id', 'desc').first()) ??
    (await db('batches').where({ file_id: idOrFileId }).orderBy('id', 'desc').first());
  return row ? toRecord(row) : undefined;
}
