import type { Db } from '../store/db.js';
import { toRecord, type BatchRecord, type BatchRow } from './record.js';
import { dbNowMs } from './dbClock.js';

export async function listBatches(db: Db, opts: { limit?: number; clientId?: string; state?: string } = {}): Promise<BatchRecord[]> {
  let q = db('batches').select('*').orderBy('id', 'desc').limit(opts.limit ?? 50);
  if (opts.clientId) q = q.where('client_id', opts.clientId);
  if (opts.state) q = q.where('state', opts.state);
  const rows: BatchRow[] = await q;
  return rows.map(toRecord);
}

/** The database's clock, to judge the leases `listBatches` returned on the clock that set them. */
export const journalNowMs = dbNowMs;
