// The notify lock as several hosts use it: a row in the shared PostgreSQL database. Contenders
// racing for it (free, or expired) produce exactly one holder; a holder that shares our host
// name but not our process table (another container, a cloned VM) is never declared dead from
// here, while one of this process table is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';
import { skipReason } from './skips.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { acquireNotifyLock, holderIsDead, lockHolder, pidSpace, releaseNotifyLock } from '../../src/notifications/lock.js';

const why = skipReason('notify lock on PostgreSQL', { postgres: true }, { postgres: await postgresAvailable(), sshd: true });

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('notify lock holders across hosts', () => {
  it('a dead pid counts only in our own process table (same boot and pid namespace)', () => {
    const pid = deadPid();
    expect(pidSpace()).toMatch(/^([0-9a-f]{12})?$/);
    expect(holderIsDead(`${hostname()}|${pid}|x|000000|${pidSpace()}`)).toBe(true);
    // Same host name, another process table: its pid means nothing here.
    expect(holderIsDead(`${hostname()}|${pid}|x|000000|${pidSpace() === 'aaaaaaaaaaaa' ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa'}`)).toBe(false);
    expect(holderIsDead(`elsewhere|${pid}|x|000000|${pidSpace()}`)).toBe(false);
    expect(lockHolder('ldm-a').split('|')).toEqual([hostname(), String(process.pid), 'ldm-a', expect.stringMatching(/^[0-9a-f]{6}$/), pidSpace()]);
  });
});

describe.skipIf(why !== '')(why ? `notify lock on PostgreSQL — SKIPPED: ${why}` : 'notify lock on PostgreSQL', () => {
  let pg: TempDatabase;
  let db: Db;
  beforeAll(async () => {
    pg = await createTempDatabase();
    db = await openDatabase({ client: 'postgres', url: pg.url });
  });
  afterAll(async () => {
    await db?.destroy();
    await pg?.drop();
  });

  // Holders on other hosts: never declared dead from here, only their lease counts.
  const remote = (i: number): string => `host-${i}|${1000 + i}|ldm-${i}|00000${i % 10}|remote${String(i).padStart(6, '0')}`;

  it('ten hosts racing for a free lock, then for an expired one: one winner each time', async () => {
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireNotifyLock(db, remote(i), 60)));
    expect(first.filter(Boolean).length).toBe(1);
    const winner = remote(first.indexOf(true));
    expect(await Promise.all(Array.from({ length: 10 }, (_, i) => acquireNotifyLock(db, remote(i + 10), 60)))).toEqual(Array(10).fill(false));

    // The winner's host stops renewing: once the lease has passed, exactly one other takes over.
    await db('notification_lock').where('name', 'notify').update({ lease_until: '2000-01-01T00:00:00.000Z' });
    const second = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireNotifyLock(db, remote(i + 20), 60)));
    expect(second.filter(Boolean).length).toBe(1);
    const row: { holder: string } = await db('notification_lock').where('name', 'notify').first('holder');
    expect(row.holder).toBe(remote(20 + second.indexOf(true)));
    // The old holder's release no longer frees anything.
    await releaseNotifyLock(db, winner);
    expect((await db('notification_lock').where('name', 'notify').first('holder')).holder).toBe(row.holder);
    await releaseNotifyLock(db, row.holder);
  });
});
