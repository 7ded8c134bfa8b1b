// A daemon run over SFTP with 50 files (two clients, one on its own schedule), then its
// /metrics and /healthz as an operator's scraper sees them, then SIGTERM → exit 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import type { Instance } from '../helpers/instance.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import type { Db } from '../../src/store/db.js';
import * as S from '../pipeline/scenario.js';
import { dropRequest, getText, inFolder, openJournal, rows, scenarioInstance, sftpConfig, startDaemon, waitUntil } from './harness.js';
import { patient } from '../helpers/patience.js';

const available = sshdAvailable();
const why = available ? '' : ' — SKIPPED: /usr/sbin/sshd or ssh-keygen is not installed';

/** The value of one series in a Prometheus text body (undefined when absent). */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(!available)(`daemon metrics and health over SFTP${why}`, () => {
  let srv: Sshd;
  let inst: Instance;
  let db: Db;

  beforeAll(async () => {
    srv = await startSshd();
    inst = await scenarioInstance();
    db = await openJournal(inst);
  }, patient(60_000));
  afterAll(async () => {
    await db?.destroy();
    await srv?.cleanup();
    await inst?.cleanup();
  });

  it('50 files, then GET /metrics and /healthz, then SIGTERM → exit 0 within a few seconds', async () => {
    const mutSchedule = '*/2 * * * * *';
    const mutClient = {
      clientId: S.MUT.clientId,
      cbeNumber: S.MUT.cbe,
      sector: S.MUT.sector,
      name: 'Mutualiteit',
      schedule: mutSchedule, // its own schedule; fin follows the global one
      authorizations: [{ service: 'LivingWagesWithAmount', legalContext: 'HEALTH:INCREASED_REIMBURSEMENT', qualityCodes: [3], deliberation: 'IVC/KSZG/21/045', fields: [] }],
    };
    const { config, root } = await sftpConfig(inst, srv, { name: 'fifty', http: true, extra: { clients: [mutClient] } });
    const finIn = inFolder(root, 'fin', 'in');
    const mutIn = inFolder(root, 'mut', 'in');
    // 43 answered + 2 rejected for fin, 5 answered for mut.
    for (let i = 0; i < 43; i++) await dropRequest(finIn, `F50-${String(i).padStart(2, '0')}.xml`);
    await dropRequest(finIn, 'F50-wrong-env.xml', { header: { environment: 'TEST' } });
    await dropRequest(finIn, 'F50-bad-trailer.xml', { recordCount: 99 });
    const mutHeader = { senderCbe: S.MUT.cbe, legalContext: 'HEALTH:INCREASED_REIMBURSEMENT' };
    for (let i = 0; i < 5; i++) await dropRequest(mutIn, `M50-${i}.xml`, { header: mutHeader });

    const t0 = Date.now();
    const d = startDaemon(config);
    try {
      const port = await d.httpPort();
      await waitUntil(async () => (await rows(db, 'F50-')).length + (await rows(db, 'M50-')).length === 50 && (await rows(db, '')).every((r) => r.state !== 'CLAIMED'), 60_000, '50 files finished');
      const ms = Date.now() - t0;
      await waitUntil(() => d.events.filter((e) => e.event === 'poll.done' && e.client === 'mut' && Number(e.files) > 0).length > 0 && d.events.some((e) => e.event === 'poll.done' && e.client === 'fin' && Number(e.files) === 45), 10_000, 'the polls that took the files to report done');

      // A few more ticks, so the two schedules can be told apart.
      const pollsOf = (c: string): number => d.events.filter((e) => e.event === 'poll.started' && e.client === c).length;
      await waitUntil(() => pollsOf('fin') >= 7, 15_000, '7 polls of fin');

      const metrics = await getText(port, '/metrics');
      const health = await getText(port, '/healthz');
      console.info(`[daemon 50 files] all answered ${ms} ms after the daemon started\n\nGET /metrics → ${metrics.status} ${metrics.type}\n${metrics.body}\nGET /healthz → ${health.status} ${health.type}\n${health.body}`);

      expect(metrics.status).toBe(200);
      expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      const m = metrics.body;
      expect(sample(m, 'ldm_files_processed_total{client="fin",outcome="ANSWERED"}')).toBe(43);
      expect(sample(m, 'ldm_files_processed_total{client="fin",outcome="REJECTED"}')).toBe(2);
      expect(sample(m, 'ldm_files_processed_total{client="mut",outcome="ANSWERED"}')).toBe(5);
      expect(sample(m, 'ldm_files_processed_total{client="fin",outcome="FAILED"}')).toBe(0);
      expect(sample(m, 'ldm_files_rejected_total{client="fin",code="WRONG_ENVIRONMENT"}')).toBe(1);
      expect(sample(m, 'ldm_files_rejected_total{client="fin",code="TRAILER_MISMATCH"}')).toBe(1);
      expect(sample(m, 'ldm_files_seen_total{client="fin"}')).toBe(45);
      expect(sample(m, 'ldm_files_seen_total{client="mut"}')).toBe(5);
      const perLine = new Map<string, number>();
      for (const l of S.lines) perLine.set(l.expect, (perLine.get(l.expect) ?? 0) + 1);
      for (const [status, n] of perLine) expect(sample(m, `ldm_response_lines_total{client="fin",status="${status}"}`), status).toBe(43 * n);
      expect(sample(m, 'ldm_batch_duration_seconds_count{client="fin"}')).toBe(45);
      expect(sample(m, 'ldm_batch_duration_seconds_bucket{le="+Inf",client="fin"}')).toBe(45);
      expect(sample(m, 'ldm_batch_duration_seconds_count{client="mut"}')).toBe(5);
      expect(sample(m, 'ldm_poll_failures_total{client="fin",code="SFTP_UNREACHABLE"}')).toBeUndefined();
      const last = sample(m, 'ldm_last_successful_poll_timestamp_seconds{client="fin"}') ?? 0;
      expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(10);
      // Every family is declared; no SSIN (or any 11-digit run) and no amount ever appears.
      for (const name of ['ldm_files_seen_total', 'ldm_files_processed_total', 'ldm_files_rejected_total', 'ldm_response_lines_total', 'ldm_batch_duration_seconds', 'ldm_poll_failures_total', 'ldm_last_successful_poll_timestamp_seconds']) {
        expect(m).toContain(`# HELP ${name} `);
        expect(m).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
      }
      // Our families carry no data; the default process metrics (byte counts…) are left out of this check.
      // prom-client prints sums with full float precision (0.3010000000000001): those digits are noise, not data.
      const ours = m.split('\n').filter((l) => /^(# (HELP|TYPE) )?ldm_/.test(l)).map((l) => l.replace(/ -?\d+\.\d+(e[+-]?\d+)?$/, ' <float>')).join('\n');
      expect(ours).not.toMatch(/\d{11}/);
      for (const ssin of [S.A, S.P, S.B, S.C, S.D, S.G, S.BIS]) expect(ours).not.toContain(ssin.slice(0, 6));
      expect(ours).not.toMatch(/100000|120000/);
      expect(m).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(m).toMatch(/^ldm_signing_certificate_expiry_timestamp_seconds \d{10}$/m);

      expect(health.status).toBe(200);
      const h = JSON.parse(health.body) as { status: string; instanceId: string; spools: { client: string; state: string; schedule: string; lastSuccessAt: string | null; lastError: unknown; filesInLastPoll: number | null }[] };
      expect(h.status).toBe('ok');
      expect(h.instanceId).toBe('ldm-1');
      expect(h.spools.map((s) => [s.client, s.state, s.schedule, s.lastError])).toEqual([
        ['fin', 'ok', '*/1 * * * * *', null],
        ['mut', 'ok', mutSchedule, null],
      ]);
      expect(h.spools.every((s) => s.lastSuccessAt !== null && s.filesInLastPoll !== null)).toBe(true);

      // Each schedule its own task: mut (every 2 s) is polled about half as often as fin.
      const started = d.events.find((e) => e.event === 'daemon.started');
      expect(started?.schedules).toEqual([
        { schedule: '*/1 * * * * *', clients: ['fin'] },
        { schedule: mutSchedule, clients: ['mut'] },
      ]);
      const secondsOf = (c: string): number[] => d.events.filter((e) => e.event === 'poll.started' && e.client === c).slice(1).map((e) => new Date(String(e.time)).getUTCSeconds());
      expect(secondsOf('mut').every((s) => s % 2 === 0), `mut polled at seconds ${secondsOf('mut').join(',')}`).toBe(true);
      expect(secondsOf('fin').some((s) => s % 2 === 1), `fin polled at seconds ${secondsOf('fin').join(',')}`).toBe(true);

      const stop = await d.signal('SIGTERM');
      expect(stop.code, d.stderr()).toBe(0);
      expect(stop.ms).toBeLessThan(5_000);
      const names = d.events.map((e) => e.event);
      expect(names).toContain('daemon.stopping');
      expect(names[names.length - 1]).toBe('daemon.stopped');
      expect(d.events.every((e) => e.event !== 'unparsed')).toBe(true); // every stderr line is a JSON log line
      expect(d.stderr()).not.toMatch(/\d{11}/);
      console.info(`[daemon 50 files] SIGTERM → exit ${stop.code} in ${stop.ms} ms; fin polled ${pollsOf('fin')}×, mut ${pollsOf('mut')}×`);
      expect((await readdir(inFolder(root, 'fin', 'out'))).length).toBe(45);
      expect((await readdir(inFolder(root, 'mut', 'out'))).length).toBe(5);
    } finally {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
    }
  });
});
