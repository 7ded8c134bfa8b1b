import type { Db } from '../store/db.js';

/** The highest batch id so far (0 on an empty journal): a watermark for "recorded after this". */
export async function lastBatchId(db: Db): Promise<number> {
  const row = (await db('batches').max({ id: 'id' }).first()) as { id: number | string | null } | undefined;
  return Number(row?.id ?? 0);
}
