import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';

export async function getBatch(db: Db, id: number): Promise<BatchRecord | undefined> {
  const row: BatchRow | undefined = await db('batches').where({ id }).first();
  return row ? toRecord(row) : undefined;
}
