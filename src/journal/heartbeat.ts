import { isSqlite, type Db } from '../store/db.js';
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

/**
 * The fence of a holder's audit writes (AuditFence): run first in each of their transactions, it
 * renews the lease there, or throws LEASE_LOST. The renewal locks the batch row until the
 * transaction ends, so a take-over waits for the write instead of landing in its middle. On
 * PostgreSQL the transaction may not sit idle longer than a lease (at least 5 s): a holder frozen
 * in the middle of it would otherwise keep that lock, and the batch, for as long as it stays
 * frozen. The server ends such a session; its write is rolled back and the holder, on waking,
 * finds it has lost the batch.
 */
export function auditLeaseFence(id: number, instanceId: string, leaseSeconds: number): (trx: Db) => Promise<void> {
  return async (trx) => {
    if (!isSqlite(trx)) await trx.raw(`SET LOCAL idle_in_transaction_session_timeout = ${Math.max(5, Math.ceil(leaseSeconds)) * 1000}`);
    await renewOrLost(trx, id, instanceId, leaseSeconds, 'while writing its audit entries');
  };
}
