import type { Db } from '../store/db.js';
import { dbInstant } from './dbClock.js';
import { leaseLost } from './leaseLost.js';

/** Records progress of a batch this instance holds (each step is then skipped on a re-run); LEASE_LOST when it no longer holds it. */
export async function markBatch(
  db: Db,
  id: number,
  instanceId: string,
  step: { sha256?: string; size?: number; claimName?: string; archiveName?: string; deliveredAt?: true; fileId?: string },
): Promise<void> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({
      ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}),
      ...(step.size !== undefined ? { size: step.size } : {}),
      ...(step.claimName !== undefined ? { claim_name: step.claimName } : {}),
      ...(step.archiveName !== undefined ? { archive_name: step.archiveName } : {}),
      ...(step.deliveredAt ? { delivered_at: dbInstant(db) } : {}),
      ...(step.fileId !== undefined ? { file_id: step.fileId } : {}),
      updated_at: dbInstant(db),
    });
  if (n !== 1) throw leaseLost(id, instanceId, 'recording a step');
}
