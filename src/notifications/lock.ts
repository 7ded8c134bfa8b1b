// One notify run at a time per store: the daemon's cron and an operator (or `import rights`)
// may start one at the same moment. Correctness does not depend on it (the outbox transitions
// are guarded), but two runs writing the same file to the same temporary name would race.
//
// A lease row with its holder; an expired lease is taken over, and so is one whose holder is a
// dead process on this host (a run killed with SIGKILL must not block the next for a lease time).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { NOTIFY_LOCK_TABLE } from '../store/rightsMigration.js';

const LOCK = 'notify';

export function lockHolder(instanceId: string): string {
  return `${hostname()}|${process.pid}|${instanceId}|${randomBytes(3).toString('hex')}`;
}

/** A holder on this host whose process no longer exists. */
export function holderIsDead(holder: string): boolean {
  const [host, pidText] = holder.split('|');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'; // EPERM: alive, another user's
  }
}

const leaseUntil = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString();

/** Compare-and-set on the lock row; true when `holder` now holds it. */
export async function acquireNotifyLock(db: Db, holder: string, leaseSeconds: number): Promise<boolean> {
  await db(NOTIFY_LOCK_TABLE).insert({ name: LOCK, holder: null, lease_until: null }).onConflict('name').ignore();
  const row: { holder: string | null; lease_until: string | null } | undefined = await db(NOTIFY_LOCK_TABLE).where('name', LOCK).first('holder', 'lease_until');
  if (row === undefined) return false;
  const free = row.holder === null || row.lease_until === null || row.lease_until < new Date().toISOString() || holderIsDead(row.holder);
  if (!free) return false;
  const q = db(NOTIFY_LOCK_TABLE).where('name', LOCK);
  if (row.holder === null) q.whereNull('holder');
  else q.where('holder', row.holder);
  return (await q.update({ holder, lease_until: leaseUntil(leaseSeconds) })) === 1;
}

/** Extends the lease; false when it was lost (taken over after expiry). */
export async function renewNotifyLock(db: Db, holder: string, leaseSeconds: number): Promise<boolean> {
  return (await db(NOTIFY_LOCK_TABLE).where({ name: LOCK, holder }).update({ lease_until: leaseUntil(leaseSeconds) })) === 1;
}

export async function releaseNotifyLock(db: Db, holder: string): Promise<void> {
  await db(NOTIFY_LOCK_TABLE).where({ name: LOCK, holder }).update({ holder: null, lease_until: null });
}
