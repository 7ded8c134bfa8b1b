// The daemon when the SFTP server misbehaves: stopped and restarted during a run (logs, backs
// off, recovers, answers every file once), down for longer than the retries (the poll fails,
// /healthz says so, the next tick recovers), and presenting another host key (refused, the
// spool stops, /healthz 503).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Instance } from '../helpers/instance.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import type { Db } from '../../src/store/db.js';
import { dropRequest, getText, inFolder, openJournal, rows, scenarioInstance, sftpConfig, startDaemon, waitUntil, type LogEvent } from './harness.js';
import { patient } from '../helpers/patience.js';

const available = sshdAvailable();
const why = available ? '' : ' — SKIPPED: /usr/sbin/sshd or ssh-keygen is not installed';

interface HealthBody {
  status: string;
  instanceId: string;
  spools: { client: string; state: string; lastError: { code: string; message: string } | null; lastSuccessAt: string | null; lastFailureAt: string | null }[];
}

describe.skipIf(!available)(`daemon resilience against a real OpenSSH server${why}`, () => {
  let inst: Instance;
  let db: Db;
  const servers: Sshd[] = [];

  beforeAll(async () => {
    inst = await scenarioInstance();
    db = await openJournal(inst);
  }, patient(60_000));
  afterAll(async () => {
    await db?.destroy();
    for (const s of servers) await s.cleanup();
    await inst?.cleanup();
  });

  it('server stopped mid-run and restarted: the daemon logs, backs off, recovers and answers every file once', async () => {
    const srv = await startSshd();
    servers.push(srv);
    const { config, root } = await sftpConfig(inst, srv, { name: 'restart', http: true, leaseSeconds: 4, retry: { maxRetries: 6, baseDelayMs: 200, maxDelayMs: 1000 } });
    const names = Array.from({ length: 16 }, (_, i) => `RST-${String(i).padStart(2, '0')}.xml`);
    for (const n of names) await dropRequest(inFolder(root, 'fin', 'in'), n, { repeat: 10 });
    const d = startDaemon(config);
    const port = await d.httpPort();
    try {
      await waitUntil(() => d.events.filter((e) => e.event === 'batch.done').length >= 4, 20_000, '4 files answered');
      const t0 = Date.now();
      await srv.stop();
      await sleep(1500);
      await srv.start();
      const outage = Date.now() - t0;
      await waitUntil(async () => (await rows(db, 'RST-')).filter((r) => r.state !== 'CLAIMED').length === names.length, 40_000, 'all 16 files finished');

      const reconnects = d.events.filter((e) => e.event === 'sftp.reconnect');
      expect(reconnects.length, 'the daemon logged its reconnect attempts').toBeGreaterThan(0);
      expect(reconnects.every((e) => e.level === 'warn' && typeof e.delayMs === 'number' && typeof e.operation === 'string')).toBe(true);
      // The outage hit a file in hand, not only an idle listing.
      expect(reconnects.some((e) => ['fetch', 'publish', 'rename', 'exists'].includes(String(e.operation)))).toBe(true);
      expect(d.events.some((e) => e.event === 'sftp.connected' && Date.parse(String(e.time)) > t0)).toBe(true);
      const journal = await rows(db, 'RST-');
      expect(journal.map((r) => [r.file_name, r.state]).sort()).toEqual(names.map((n) => [n, 'DONE']));
      expect((await readdir(inFolder(root, 'fin', 'out'))).sort()).toEqual(names.map((n) => n.replace(/\.xml$/, '.response.xml')));
      expect(await readdir(inFolder(root, 'fin', 'in'))).toEqual([]);
      console.info(`[daemon restart] server down ${outage} ms during the run: ${reconnects.length} reconnect attempts logged (delays ${reconnects.map((e) => e.delayMs).join(', ')} ms); all 16 files answered once`);

      // Down for longer than the retries: the poll fails, is logged, /healthz turns 503.
      await srv.stop();
      const failed = await d.waitFor((e) => e.event === 'poll.failed' && e.code === 'SFTP_UNREACHABLE', 20_000, 'poll.failed SFTP_UNREACHABLE');
      expect(failed).toMatchObject({ level: 'error', next: 'retried at the next scheduled poll' });
      const sick = await getText(port, '/healthz');
      expect(sick.status).toBe(503);
      const sickBody = JSON.parse(sick.body) as HealthBody;
      expect(sickBody.status).toBe('degraded');
      expect(sickBody.spools.find((s) => s.lastError?.code === 'SFTP_UNREACHABLE')?.state).toBe('failing');
      await srv.start();
      await dropRequest(inFolder(root, 'fin', 'in'), 'RST-after.xml');
      await waitUntil(() => existsSync(inFolder(root, 'fin', 'out') + '/RST-after.response.xml'), 30_000, 'a file answered after the outage');
      await waitUntil(async () => (await getText(port, '/healthz')).status === 200, 15_000, '/healthz 200 again');
      const metrics = (await getText(port, '/metrics')).body;
      expect(metrics).toMatch(/^ldm_poll_failures_total\{client="(fin|mut)",code="SFTP_UNREACHABLE"\} [1-9]/m);
      const stopped = await d.signal('SIGTERM');
      expect(stopped.code).toBe(0);
    } finally {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
    }
  });

  it('a changed host key is refused: the spool stops (no login), /healthz 503', async () => {
    const srv = await startSshd();
    servers.push(srv);
    const { config, root } = await sftpConfig(inst, srv, { name: 'hostkey', http: true });
    const d = startDaemon(config);
    const port = await d.httpPort();
    try {
      await waitUntil(async () => (await getText(port, '/healthz')).status === 200, 10_000, '/healthz 200');
      const pinned = srv.hostFingerprint;
      const logins = (): number => srv.log().split('\n').filter((l) => l.startsWith('Accepted publickey')).length;
      const fresh = await srv.rotateHostKey();
      const loginsAtRotation = logins();
      await dropRequest(inFolder(root, 'fin', 'in'), 'HK-1.xml');
      const isStop = (client: string) => (e: LogEvent): boolean => e.event === 'spool.stopped' && e.client === client;
      const stop = await d.waitFor(isStop('fin'), 15_000, 'spool.stopped for fin');
      await d.waitFor(isStop('mut'), 15_000, 'spool.stopped for mut');
      expect(stop).toMatchObject({ level: 'error', code: 'HOST_KEY_MISMATCH' });
      expect(String(stop.error)).toContain(fresh); // the key presented…
      expect(String(stop.error)).toContain(pinned); // …and the one expected, for the operator

      const health = await getText(port, '/healthz');
      expect(health.status).toBe(503);
      const body = JSON.parse(health.body) as HealthBody;
      expect(body.spools.map((s) => [s.client, s.state, s.lastError?.code]).sort()).toEqual([
        ['fin', 'stopped', 'HOST_KEY_MISMATCH'],
        ['mut', 'stopped', 'HOST_KEY_MISMATCH'],
      ]);
      const metrics = (await getText(port, '/metrics')).body;
      expect(metrics).toContain('ldm_spool_stopped{client="fin"} 1');

      // Stopped means stopped: no further polls, no login, the file stays where it is.
      const startedAfter = d.events.length;
      await sleep(2500);
      expect(d.events.slice(startedAfter).filter((e) => e.event === 'poll.started')).toEqual([]);
      expect(d.events.filter((e) => e.event === 'spool.stopped')).toHaveLength(2);
      expect(logins()).toBe(loginsAtRotation);
      expect(await readdir(inFolder(root, 'fin', 'in'))).toEqual(['HK-1.xml']);
      expect(await rows(db, 'HK-')).toEqual([]);
      console.info(`[daemon host key] ${String(stop.error)}`);
      const stopped = await d.signal('SIGTERM');
      expect(stopped.code).toBe(0);
    } finally {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
    }
  });
});
