import { redact } from '../log/logger.js';
import type { Db } from '../store/db.js';
import { dbInstant } from './dbClock.js';
import { leaseLost } from './leaseLost.js';

/**
 * A batch whose attempt met a transient fault stays CLAIMED, with the fault recorded and its
 * lease set to the time of the next attempt: whoever polls after that takes it over (takeOver
 * counts the attempt). LEASE_LOST when this instance no longer holds it.
 */
export async function deferBatch(db: Db, id: number, instanceId: string, fault: { code: string; error: string; retryInSeconds: number }): Promise<void> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({ error_code: fault.code, error: redact(fault.error), lease_until: dbInstant(db, fault.retryInSeconds), updated_at: dbInstant(db) });
  if (n !== 1) throw leaseLost(id, instanceId, 'recording a transient fault');
}
