import type { Db } from '../store/db.js';

/**
 * Deletes a CLAIMED record of this instance whose claim file another instance's recovery took
 * first (this one stalled past the lease between its rename and its record): it never held the
 * file, did nothing, and must not show up as a second batch of that request.
 */
export async function withdrawClaim(db: Db, id: number, instanceId: string): Promise<boolean> {
  return (await db('batches').where({ id, state: 'CLAIMED', instance_id: instanceId }).del()) === 1;
}
