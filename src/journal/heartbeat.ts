import type { Db } from '../store/db.js';
import { DEFAULT_LEASE_SECONDS } from './record.js';
import { dbInstant } from './dbClock.js';
import { leaseLost } from './leaseLost.js';

/** Extends the lease of a batch this instance holds; false when it lost it (a probe: the transitions throw LEASE_LOST). */
export async function heartbeat(db: Db, id: number, instanceId: string, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<boolean> {
  const n = await db('batches').where({ id, state: 'CLAIMED', instance_id: instanceId }).update({ lease_until: dbInstant(db, leaseSeconds), updated_at: dbInstant(db) });
  return n === 1;
}

/** Renews the lease before a step that must only be done by the holder; LEASE_LOST otherwise. */
export async function renewOrLost(db: Db, id: number, instanceId: string, leaseSeconds: number, when: string): Promise<void> {
  if (!(await heartbeat(db, id, instanceId, leaseSeconds))) throw leaseLost(id, instanceId, when);
}
