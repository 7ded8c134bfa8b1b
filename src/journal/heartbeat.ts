import type { Db } from '../store/db.js';
import { DEFAULT_LEASE_SECONDS } from './record.js';
import { dbInstant } from './dbClock.js';

/** Extends the lease of a batch this instance holds; false when it lost it. */
export async function heartbeat(db: Db, id: number, instanceId: string, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<boolean> {
  const n = await db('batches').where({ id, state: 'CLAIMED', instance_id: instanceId }).update({ lease_until: dbInstant(db, leaseSeconds), updated_at: dbInstant(db) });
  return n === 1;
}
