import type { Db } from '../store/db.js';
import { DEFAULT_LEASE_SECONDS, type BatchRecord } from './record.js';
import { dbInstant } from './dbClock.js';
import { getBatch } from './getBatch.js';

/**
 * Takes over a CLAIMED batch whose lease expired (its holder died, or it waits for a retry and
 * its time came); exactly one contender wins. Counts the attempt.
 */
export async function takeOver(db: Db, id: number, instanceId: string, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<BatchRecord | undefined> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED' })
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', dbInstant(db)))
    .update({ instance_id: instanceId, lease_until: dbInstant(db, leaseSeconds), attempts: db.raw('attempts + 1'), updated_at: dbInstant(db) });
  return n === 1 ? getBatch(db, id) : undefined;
}
