// Issue 13: trust is explicit (`verify` exits 0 only with a trusted certificate valid at
// ProcessedAt; no trust anchor is exit 2; --integrity-only says trusted: false), and the signer
// refuses a certificate outside its validity (CERT_EXPIRED, exit 2) and warns 30 days ahead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { datedCert, type DatedCert } from '../helpers/certs.js';
import { certificateExpiry, loadSigner } from '../../src/response/sign.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { getText, startDaemon } from '../daemon/harness.js';
import { LINES, writeFile as writeResponseFile } from './fixtures.js';
import * as S from '../pipeline/scenario.js';

let inst: Instance;
let forger: DatedCert;
let expired: DatedCert;
let future: DatedCert;
let soon: DatedCert;
let bare: string; // a folder with no config: nothing to trust by default
let genuine: string;
let forged: string;
const DAY = 86_400_000;

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
  bare = await mkdtemp(join(tmpdir(), 'ldm-bare-'));
  forger = datedCert(new Date('2020-01-01T00:00:00Z'), new Date(Date.now() + 365 * DAY), 'ldm-batch development signer');
  expired = datedCert(new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  future = datedCert(new Date(Date.now() + 30 * DAY), new Date(Date.now() + 400 * DAY));
  soon = datedCert(new Date('2020-01-01T00:00:00Z'), new Date(Date.now() + 10 * DAY));
  await writeRequestFile(join(inst.dir, 'R.xml'), S.header({ fileId: 'FIN-T1' }), S.lines.slice(0, 2));
  genuine = join(inst.dir, 'R.response.xml');
  const p = await inst.cli(['process', join(inst.dir, 'R.xml'), '-o', genuine, '--client', 'fin']);
  expect(p.code, p.stderr).toBe(0);
  forged = join(bare, 'forged.xml');
  await writeResponseFile(forged, LINES, forger.signer);
});
afterAll(async () => {
  await inst?.cleanup();
  for (const d of [bare, forger?.dir, expired?.dir, future?.dir, soon?.dir]) if (d) await rm(d, { recursive: true, force: true });
});

const verifyBare = (args: string[]): ReturnType<typeof run> => run(process.execPath, [BIN, 'verify', ...args], { cwd: bare });

describe('verify: trust is explicit', () => {
  it('no trust anchor: exit 2 naming --cert, --config and --integrity-only (before: a forgery signed with anyone’s key exited 0)', async () => {
    const r = await verifyBare([forged]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cert/);
    expect(r.stderr).toMatch(/--config/);
    expect(r.stderr).toMatch(/--integrity-only/);
    expect(r.stderr).toMatch(/\[NO_TRUST_ANCHOR\]/);
    expect(r.stdout).not.toMatch(/^OK/m);
  });

  it('--integrity-only checks integrity alone and says trusted: false', async () => {
    const r = await verifyBare([forged, '--integrity-only', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, trusted: false });
    const text = await verifyBare([forged, '--integrity-only']);
    expect(text.stdout).toMatch(/^INTACT \(not trusted\)/);
    expect(text.stdout).toMatch(/trusted: false/);
    expect((await verifyBare([forged, '--integrity-only', '--cert', inst.cert])).code).toBe(2);
  });

  it('--cert: the genuine response is OK (trusted: true); the forgery is INVALID (exit 1)', async () => {
    const ok = await verifyBare([genuine, '--cert', inst.cert, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, trusted: true });
    const bad = await verifyBare([forged, '--cert', inst.cert]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/untrusted certificate/);
  });

  it('the configured certificate is the default trust anchor', async () => {
    const r = await inst.cli(['verify', genuine, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, trusted: true });
  });

  it('a trusted certificate that had expired at ProcessedAt: INVALID (before: OK)', async () => {
    const p = join(bare, 'by-expired.xml');
    await writeResponseFile(p, LINES, expired.signer); // ProcessedAt 2026-01-15, certificate ended 2021
    const r = await verifyBare([p, '--cert', expired.certPath]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/not valid at ProcessedAt/);
  });
});

describe('signing certificate validity', () => {
  async function withCert(c: DatedCert): Promise<string> {
    const cfg = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    const key = join(inst.dir, `${c.dir.split('/').pop() as string}-key.pem`);
    await copyFile(c.keyPath, key);
    const config = join(inst.dir, `${c.dir.split('/').pop() as string}.config.json`);
    await writeFile(config, JSON.stringify({ ...cfg, signing: { keyFile: key, certFile: c.certPath } }));
    return config;
  }

  it('refuses to start with an expired or a not-yet-valid certificate: CERT_EXPIRED, exit 2 (before: used silently)', async () => {
    for (const [name, c] of [['expired', expired], ['not yet valid', future]] as const) {
      const config = await withCert(c);
      const r = await run(process.execPath, [BIN, 'run-once', '--config', config], { cwd: inst.dir });
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(/\[CERT_EXPIRED\]/);
      const d = await run(process.execPath, [BIN, 'daemon', '--config', config], { cwd: inst.dir });
      expect(d.code, name).toBe(2);
      expect(d.stderr, name).toMatch(/CERT_EXPIRED/);
    }
    await expect(loadSigner(expired.keyPath, expired.certPath)).rejects.toMatchObject({ code: 'CERT_EXPIRED', exitCode: 2 });
    // the same certificate was fine while it was valid
    await expect(loadSigner(expired.keyPath, expired.certPath, new Date('2020-06-01T00:00:00Z'))).resolves.toBeTruthy();
  });

  it('warns from 30 days before expiry: pure rule at the boundary', () => {
    const signer = soon.signer;
    const notAfter = certificateExpiry(signer).notAfter.getTime();
    expect(certificateExpiry(signer, new Date(notAfter - 30 * DAY - 1000)).warn).toBe(false);
    expect(certificateExpiry(signer, new Date(notAfter - 30 * DAY)).warn).toBe(true);
    expect(certificateExpiry(signer, new Date(notAfter - DAY)).warn).toBe(true);
  });

  it('the daemon logs signing.certificate_expiring and exposes the expiry time as a metric', async () => {
    const base = JSON.parse(await readFile(await withCert(soon), 'utf8')) as Record<string, unknown>;
    const config = join(inst.dir, 'soon-http.config.json');
    await writeFile(config, JSON.stringify({ ...base, http: { port: 0 }, schedule: '0 0 1 1 *' }));
    const d = startDaemon(config);
    try {
      const port = await d.httpPort();
      const warn = await d.waitFor((e) => e.event === 'signing.certificate_expiring', 20_000, 'the expiry warning');
      expect(warn.level).toBe('warn');
      const notAfter = certificateExpiry(soon.signer).notAfter;
      expect(warn.notAfter).toBe(notAfter.toISOString());
      const m = await getText(port, '/metrics');
      expect(m.body).toContain(`ldm_signing_certificate_expiry_timestamp_seconds ${Math.floor(notAfter.getTime() / 1000)}`);
    } finally {
      await d.signal('SIGTERM');
    }
  });

  it('a running daemon claims nothing once the certificate would not be valid at ProcessedAt: the poll fails with CERT_EXPIRED, the file waits', async () => {
    const base = JSON.parse(await readFile(await withCert(soon), 'utf8')) as Record<string, unknown>;
    const config = join(inst.dir, 'soon-later.config.json');
    await writeFile(config, JSON.stringify({ ...base, schedule: '0 0 1 1 *' }));
    const inDir = join(inst.spool, 'fin', 'in');
    await writeRequestFile(join(inDir, 'LATE.xml'), S.header({ fileId: 'FIN-LATE' }), S.lines.slice(0, 1));
    // started while the certificate is valid (real time); the pipeline's clock is 20 days on
    const later = new Date(Date.now() + 20 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const d = startDaemon(config, { LDM_BATCH_CLOCK: later });
    try {
      const failed = await d.waitFor((e) => e.event === 'poll.failed' && e.client === 'fin', 20_000, 'the refused poll');
      expect(failed.code).toBe('CERT_EXPIRED');
      expect(d.events.some((e) => e.event === 'batch.claimed')).toBe(false);
      expect(await readdir(inDir)).toContain('LATE.xml');
    } finally {
      await d.signal('SIGTERM');
    }
  });
});
