import type { Db } from '../store/db.js';

/** CLAIMED batches of a client waiting for a retry after a transient fault (their last attempt recorded one). */
export async function countInRetry(db: Db, clientId: string): Promise<number> {
  const row = (await db('batches').where({ client_id: clientId, state: 'CLAIMED' }).whereNotNull('error_code').count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
