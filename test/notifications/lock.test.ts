// The notify lock: one run at a time; an expired lease or a dead holder on this host is taken over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { acquireNotifyLock, holderIsDead, releaseNotifyLock, renewNotifyLock } from '../../src/notifications/lock.js';
import { runNotifications } from '../../src/notifications/notify.js';
import { LocalSpool } from '../../src/spool/local.js';
import { silentLogger } from '../../src/log/logger.js';
import { removeTestKeys, testKeys } from '../helpers/keys.js';

let dir: string;
let db: Db;

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-notify-lock-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
});
afterAll(async () => {
  removeTestKeys();
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('notify lock', () => {
  it('lets one holder in at a time, and the next one after release', async () => {
    const a = `${hostname()}|${process.pid}|a|1`;
    const b = `${hostname()}|${process.pid}|b|2`;
    expect(await acquireNotifyLock(db, a, 60)).toBe(true);
    expect(await acquireNotifyLock(db, b, 60)).toBe(false);
    expect(await renewNotifyLock(db, a, 60)).toBe(true);
    expect(await renewNotifyLock(db, b, 60)).toBe(false);
    await releaseNotifyLock(db, a);
    expect(await acquireNotifyLock(db, b, 60)).toBe(true);
    await releaseNotifyLock(db, b);
  });

  it('takes over from a dead process on this host at once, and from anyone after the lease', async () => {
    const dead = `${hostname()}|${deadPid()}|x|1`;
    expect(holderIsDead(dead)).toBe(true);
    expect(await acquireNotifyLock(db, dead, 600)).toBe(true);
    const next = `${hostname()}|${process.pid}|y|2`;
    expect(await acquireNotifyLock(db, next, 60)).toBe(true);
    await releaseNotifyLock(db, next);

    const elsewhere = `another-host|${process.pid}|z|3`;
    expect(holderIsDead(elsewhere)).toBe(false);
    expect(await acquireNotifyLock(db, elsewhere, 600)).toBe(true);
    expect(await acquireNotifyLock(db, next, 60)).toBe(false);
    await db('notification_lock').update({ lease_until: '2000-01-01T00:00:00.000Z' });
    expect(await acquireNotifyLock(db, next, 60)).toBe(true);
    await releaseNotifyLock(db, next);
  });

  it('a run that finds the lock held does nothing and says so', async () => {
    const other = `another-host|1|busy|9`;
    expect(await acquireNotifyLock(db, other, 600)).toBe(true);
    const keys = await testKeys();
    const summary = await runNotifications({
      db,
      transport: new LocalSpool(join(dir, 'spool')),
      signer: keys.signer,
      workDir: join(dir, 'work'),
      instanceId: 'test',
      timezone: 'Europe/Brussels',
      log: silentLogger,
    });
    expect(summary).toMatchObject({ ran: false, files: [] });
    expect(summary.reason).toMatch(/another notify run/);
    await releaseNotifyLock(db, other);
  });
});
