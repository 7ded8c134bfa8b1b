// One notify run at a time per store: the daemon's cron and an operator (or `import rights`)
// may start one at the same moment. Correctness does not depend on it (the outbox transitions
// are guarded), but two runs writing the same file to the same temporary name would race.
//
// A lease row with its holder; an expired lease is taken over, and so is one whose holder is a
// dead process on this host (a run killed with SIGKILL must not block the next for a lease time).
// The row lives in the shared database, so instances on several hosts take turns through it.
//
// "This host" must really mean the same process table: containers (or cloned VMs) often share a
// host name, and a pid there says nothing here. The holder therefore carries a key of the kernel
// boot and pid namespace, and a pid is only checked when that key is ours.
import { hostname } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { NOTIFY_LOCK_TABLE } from '../store/rightsMigration.js';

const LOCK = 'notify';

let pidSpaceKey: string | undefined;

/** 12 hex digits naming this kernel boot and pid namespace (Linux); '' where /proc cannot tell. */
export function pidSpace(): string {
  if (pidSpaceKey === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const ns = readlinkSync('/proc/self/ns/pid');
      pidSpaceKey = createHash('sha256').update(`${boot}|${ns}`).digest('hex').slice(0, 12);
    } catch {
      pidSpaceKey = '';
    }
  }
  return pidSpaceKey;
}

export function lockHolder(instanceId: string): string {
  return `${hostname()}|${process.pid}|${instanceId}|${randomBytes(3).toString('hex')}|${pidSpace()}`;
}

/** A holder in this process table (same host name and pid namespace) whose process no longer exists. */
export function holderIsDead(holder: string): boolean {
  const [host, pidText, , , space] = holder.split('|');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  // A holder written without the key (an older version) is taken as local, as it always was.
  if (space !== undefined && space !== pidSpace()) return false;
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
  // Compare-and-set on holder *and* lease: a holder that renewed since the read keeps its lock.
  const q = db(NOTIFY_LOCK_TABLE).where('name', LOCK);
  if (row.holder === null) q.whereNull('holder');
  else q.where('holder', row.holder);
  if (row.lease_until === null) q.whereNull('lease_until');
  else q.where('lease_until', row.lease_until);
  return (await q.update({ holder, lease_until: leaseUntil(leaseSeconds) })) === 1;
}

/** Extends the lease; false when it was lost (taken over after expiry). */
export async function renewNotifyLock(db: Db, holder: string, leaseSeconds: number): Promise<boolean> {
  return (await db(NOTIFY_LOCK_TABLE).where({ name: LOCK, holder }).update({ lease_until: leaseUntil(leaseSeconds) })) === 1;
}

export async function releaseNotifyLock(db: Db, holder: string): Promise<void> {
  await db(NOTIFY_LOCK_TABLE).where({ name: LOCK, holder }).update({ holder: null, lease_until: null });
}
