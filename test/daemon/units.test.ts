// The daemon's parts on their own: the Prometheus text, the health report, the new config keys,
// and the command line's answers to a bad schedule and to a refused host key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '../../src/daemon/metrics.js';
import { Health } from '../../src/daemon/health.js';
import { parseConfig } from '../../src/config/config.js';
import { LdmError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { openTransport } from '../../src/spool/open.js';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { makeKey, sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { patient } from '../helpers/patience.js';

const FILE = '/etc/ldm/ldm-batch.config.json';


function configError(raw: unknown): string {
  try {
    parseConfig(raw, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(LdmError);
    expect((err as LdmError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('metrics in the Prometheus text format', () => {
  it('declares every family, keeps histogram buckets cumulative, escapes labels and masks SSIN shapes', async () => {
    const m = new Metrics('ldm-1', ['fin']);
    m.recordPoll(
      {
        client: 'fin',
        seen: 3,
        files: [
          { client: 'fin', file: 'a.xml', outcome: 'ANSWERED', durationMs: 40, statusCounts: { MSG00000: 2, MSG00005: 1 } },
          { client: 'fin', file: 'b.xml', outcome: 'ANSWERED', durationMs: 700, statusCounts: { MSG00000: 1 } },
          { client: 'fin', file: 'c.xml', outcome: 'REJECTED', durationMs: 20, code: 'SCHEMA_INVALID' },
          { client: 'fin', file: 'd.xml', outcome: 'REDELIVERED', durationMs: 10, statusCounts: { MSG00000: 9 }, code: 'REDELIVERY' },
        ],
      },
      1_700_000_000_500,
    );
    m.recordFailure('fin', 'SFTP_UNREACHABLE', false);
    m.recordFailure('85073003328', 'X"\\\n', true); // a hostile label value
    const text = await m.render();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('ldm_files_seen_total{client="fin"} 3');
    expect(text).toContain('ldm_files_processed_total{client="fin",outcome="ANSWERED"} 2');
    expect(text).toContain('ldm_files_processed_total{client="fin",outcome="FAILED"} 0');
    expect(text).toContain('ldm_files_rejected_total{client="fin",code="SCHEMA_INVALID"} 1');
    // Re-delivered lines were counted when first answered.
    expect(text).toContain('ldm_response_lines_total{client="fin",status="MSG00000"} 3');
    expect(text).toContain('ldm_batch_duration_seconds_bucket{le="0.05",client="fin"} 3');
    expect(text).toContain('ldm_batch_duration_seconds_bucket{le="0.5",client="fin"} 3');
    expect(text).toContain('ldm_batch_duration_seconds_bucket{le="1",client="fin"} 4');
    expect(text).toContain('ldm_batch_duration_seconds_bucket{le="+Inf",client="fin"} 4');
    expect(text).toContain('ldm_batch_duration_seconds_sum{client="fin"} 0.77');
    expect(text).toContain('ldm_last_successful_poll_timestamp_seconds{client="fin"} 1700000000');
    expect(text).toContain('ldm_poll_failures_total{client="fin",code="SFTP_UNREACHABLE"} 1');
    expect(text).toContain('ldm_poll_failures_total{client="85*******28",code="X\\"\\\\\\n"} 1');
    // Our families (the default process metrics hold byte counts that may have 11 digits).
    const ours = text.trimEnd().split('\n').filter((l) => /^(# (HELP|TYPE) )?ldm_/.test(l));
    // prom-client prints sums with full float precision (0.3010000000000001): those digits are noise, not data.
    expect(ours.map((l) => l.replace(/ -?\d+\.\d+(e[+-]?\d+)?$/, ' <float>')).join('\n')).not.toMatch(/\d{11}/);
    for (const line of ours) {
      expect(line, line).toMatch(/^(# (HELP|TYPE) ldm_[a-z_]+ .+|ldm_[a-z_]+(\{[^}]*\})? -?[0-9.e+]+|ldm_[a-z_]+(\{[^}]*\})? \+Inf)$/);
    }
  });
});

describe('health report', () => {
  it('200 only when every spool has succeeded; errors are masked; a stopped spool stays 503', () => {
    const h = new Health('ldm-1', [
      { client: 'fin', schedule: '*/5 * * * *' },
      { client: 'mut', schedule: '0 * * * *' },
    ]);
    expect(h.report().httpStatus).toBe(503); // not polled yet
    const t = new Date('2026-02-15T03:00:00Z');
    h.succeeded('fin', t, 2);
    h.succeeded('mut', t, 0);
    expect(h.report()).toMatchObject({ httpStatus: 200, body: { status: 'ok', instanceId: 'ldm-1' } });
    h.failed('mut', t, 'SFTP_UNREACHABLE', 'lost while reading 85073003328.xml', false);
    const r = h.report();
    expect(r.httpStatus).toBe(503);
    expect(r.body.spools[1]).toMatchObject({ state: 'failing', consecutiveFailures: 1, lastError: { code: 'SFTP_UNREACHABLE', message: 'lost while reading 85*******28.xml' } });
    h.succeeded('mut', t, 1);
    expect(h.report().httpStatus).toBe(200);
    h.failed('fin', t, 'HOST_KEY_MISMATCH', 'other key', true);
    expect(h.state('fin')).toBe('stopped');
    expect(h.report().httpStatus).toBe(503);
  });
});

describe('config keys of the daemon', () => {
  const sftp = { host: 'sftp.example', username: 'ldm', privateKeyFile: './keys/id', hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43) };

  it('maps spool.sftp.retry and keepaliveIntervalMs, http, per-client schedules and the shutdown grace', () => {
    const c = parseConfig(
      {
        spool: { transport: 'sftp', root: '/spool', sftp: { ...sftp, retry: { maxRetries: 3, baseDelayMs: 250 }, keepaliveIntervalMs: 0 } },
        http: { port: 9464 },
        shutdownGraceSeconds: 5,
        clients: [
          { clientId: 'fin', cbeNumber: '0308357159', sector: 17, schedule: '*/1 * * * *' },
          { clientId: 'mut', cbeNumber: '0411702543', sector: 26 },
        ],
      },
      FILE,
    );
    expect(c.spool.sftp?.retry).toEqual({ maxRetries: 3, baseDelayMs: 250 });
    expect(c.spool.sftp?.keepaliveIntervalMs).toBe(0);
    expect(c.http).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(c.clientSchedules).toEqual({ fin: '*/1 * * * *' });
    expect(c.shutdownGraceSeconds).toBe(5);
    expect(c.clients.map((x) => x.clientId)).toEqual(['fin', 'mut']);
    const d = parseConfig({}, FILE);
    expect(d.http).toBeUndefined();
    expect(d.shutdownGraceSeconds).toBe(30);
  });

  it('refuses bad values with a message naming the key', () => {
    const withSftp = (extra: Record<string, unknown>): unknown => ({ spool: { transport: 'sftp', sftp: { ...sftp, ...extra } } });
    expect(configError(withSftp({ retry: { maxRetries: -1 } }))).toMatch(/spool\.sftp\.retry\.maxRetries must be a whole number/);
    expect(configError(withSftp({ retry: { baseDelayMs: 0 } }))).toMatch(/retry\.baseDelayMs must be a positive/);
    expect(configError(withSftp({ retry: { baseDelayMs: 500, maxDelayMs: 100 } }))).toMatch(/maxDelayMs \(100\) must not be below baseDelayMs \(500\)/);
    expect(configError(withSftp({ retry: 3 }))).toMatch(/retry must be an object/);
    expect(configError(withSftp({ keepaliveIntervalMs: 1.5 }))).toMatch(/keepaliveIntervalMs must be a whole number/);
    expect(configError({ http: { port: 70000 } })).toMatch(/http\.port must be a port number/);
    expect(configError({ http: 9464 })).toMatch(/"http" must be an object|http must be an object/);
    expect(configError({ clients: [{ clientId: 'fin', cbeNumber: '0308357159', sector: 17, schedule: '' }] })).toMatch(/clients\[0\]\.schedule must be a non-empty string/);
  });
});

describe.skipIf(!sshdAvailable())(`openTransport applies the retry policy of the config${sshdAvailable() ? '' : ' — SKIPPED: ssh-keygen is not installed'}`, () => {
  it('spool.sftp.retry.maxRetries bounds the reconnects before SFTP_UNREACHABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldm-retry-'));
    try {
      makeKey(join(dir, 'id'));
      // A port nobody listens on: every connect is refused at once.
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const events: { event: string; attempt?: number }[] = [];
      const log = createLogger({ write: (l) => events.push(JSON.parse(l) as { event: string }) });
      const config = parseConfig({ spool: { transport: 'sftp', root: '/x', sftp: { host: '127.0.0.1', port, username: 'u', privateKeyFile: join(dir, 'id'), hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43), retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 20 } } } }, join(dir, 'c.json'));
      const t = openTransport(config, log);
      const err = await t.list('c', 'in').then(
        () => null,
        (e: unknown) => e,
      );
      await t.close();
      expect((err as LdmError).code).toBe('SFTP_UNREACHABLE');
      expect(events.filter((e) => e.event === 'sftp.reconnect').map((e) => e.attempt)).toEqual([1, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  let inst: Instance;
  let srv: Sshd | undefined;
  beforeAll(async () => {
    inst = await makeInstance();
    if (sshdAvailable()) srv = await startSshd();
  }, patient(60_000));
  afterAll(async () => {
    await srv?.cleanup();
    await inst?.cleanup();
  });

  // inst.cli() adds the instance's own --config; these runs need another one.
  const cli = (args: string[], config: string): ReturnType<typeof run> => run(process.execPath, [BIN, ...args, '--config', config], { cwd: inst.dir });
  const withConfig = async (name: string, patch: Record<string, unknown>): Promise<string> => {
    const cfg = { ...(JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>), ...patch };
    const file = join(inst.dir, `${name}.json`);
    await writeFile(file, JSON.stringify(cfg));
    return file;
  };

  it('daemon refuses a bad schedule or time zone with exit 2 and says what a good one looks like', async () => {
    const bad = await cli(['daemon'], await withConfig('bad-schedule', { schedule: 'every 5 minutes' }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/schedule "every 5 minutes" is not a valid cron expression .*e\.g\. "\*\/5 \* \* \* \*" is every 5 minutes.* \[CONFIG\]/);
    const tz = await cli(['daemon'], await withConfig('bad-tz', { timezone: 'Europe/Bruxelles' }));
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/timezone "Europe\/Bruxelles" is not a time zone .* \[CONFIG\]/);
  });

  it('daemon --http-port overrides the config and serves /healthz', async () => {
    const config = await withConfig('http-port', { schedule: '*/1 * * * * *' });
    const child = spawn(process.execPath, [BIN, 'daemon', '--http-port', '0', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const until = Date.now() + 10_000;
      while (!/"event":"http\.listening"/.test(err) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const port = Number(/"event":"http\.listening".*?"port":(\d+)/.exec(err)?.[1]);
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([200, 503]).toContain(r.status);
      expect(((await r.json()) as { instanceId: string }).instanceId).toBe('ldm-1');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.skipIf(!sshdAvailable())('run-once against a server with another host key: exit 2, the failure reported per client, the other client not tried', async () => {
    const server = srv as Sshd;
    const config = await withConfig('wrong-key', {
      spool: { transport: 'sftp', root: join(server.root, 'wk'), sftp: { ...server.sftpConfig(), hostKeyFingerprint: 'SHA256:' + 'B'.repeat(43) } },
      clients: [
        { clientId: 'fin', cbeNumber: '0308357159', sector: 17, name: 'FOD', authorizations: [] },
        { clientId: 'mut', cbeNumber: '0411702543', sector: 26, name: 'Mut', authorizations: [] },
      ],
    });
    const r = await cli(['run-once', '--json'], config);
    expect(r.code, r.stderr).toBe(2);
    const out = JSON.parse(r.stdout) as { files: unknown[]; failures: { client: string; code: string; error: string }[] };
    expect(out.files).toEqual([]);
    expect(out.failures.map((f) => [f.client, f.code])).toEqual([
      ['fin', 'HOST_KEY_MISMATCH'],
      ['mut', 'HOST_KEY_MISMATCH'],
    ]);
    expect(out.failures[1].error).toMatch(/^not polled: /);
    expect(r.stderr).toContain('"event":"poll.failed"');
  });
});
