// `ldm-batch check` through the compiled CLI on real parts: an SQLite instance, a real sshd for the
// SFTP pin and login, PostgreSQL when present. The certificate rule is a pure function, table-tested.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { certificateValidity } from '../../src/check/checks.js';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { PG_SKIP_REASON, createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';

interface CheckJson {
  ok: boolean;
  checks: { name: string; status: string; detail: string; code?: string }[];
}

async function check(inst: Instance): Promise<{ code: number; json: CheckJson; text: string }> {
  const j = await inst.cli(['check', '--json']);
  const t = await inst.cli(['check']);
  expect(t.code).toBe(j.code);
  return { code: j.code, json: JSON.parse(j.stdout) as CheckJson, text: t.stdout };
}

const statusOf = (json: CheckJson): Record<string, string> => Object.fromEntries(json.checks.map((c) => [c.name, c.code ? `${c.status} ${c.code}` : c.status]));

const CLIENTS = `client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields
fin,0308357159,17,FOD Financiën,LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,1 2,IVC/KSZG/23/123,
`;

async function patchConfig(inst: Instance, patch: (c: Record<string, unknown>) => void): Promise<void> {
  const c = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
  patch(c);
  await writeFile(inst.config, JSON.stringify(c, null, 2));
}

describe('ldm-batch check on a local instance', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
    expect((await inst.cli(['import', 'clients', await inst.writeCsv('clients.csv', CLIENTS)])).code).toBe(0);
  });
  afterAll(() => inst?.cleanup());

  it('a fresh instance with a client whose folders do not exist yet: one line per check, that client fails, exit 1', async () => {
    const r = await check(inst);
    expect(statusOf(r.json)).toEqual({ config: 'ok', signing: 'ok', database: 'ok', 'read model': 'ok', spool: 'ok', 'client fin': 'fail SPOOL_FOLDER_MISSING', validator: 'ok' });
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.text.split('\n')[5]).toMatch(/^FAIL {2}client fin +missing folder\(s\) in\/ out\/ archive\/ error\/ under fin\//);
  });

  it('once the folders exist, every check passes and it exits 0', async () => {
    for (const f of ['in', 'out', 'archive', 'error']) await mkdir(join(inst.spool, 'fin', f), { recursive: true });
    const r = await check(inst);
    expect(r.json.checks.every((c) => c.status === 'ok')).toBe(true);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/all checks passed/);
  });

  it('without the streaming validator (missing, or switched off), the validator check warns and names the fallback; the daemon may still run', async () => {
    for (const [value, code] of [
      ['/nonexistent/xmllint', 'STREAM_VALIDATOR_UNAVAILABLE'],
      ['off', 'STREAM_VALIDATOR_OFF'],
    ]) {
      const j = await inst.cli(['check', '--json'], { env: { LDM_BATCH_XMLLINT: value } });
      const json = JSON.parse(j.stdout) as CheckJson;
      const v = json.checks.find((c) => c.name === 'validator');
      expect(v).toMatchObject({ status: 'warn', code });
      expect(v?.detail).toMatch(/libxml2-wasm alone/);
      expect(j.code).toBe(0);
    }
  });

  it('a signing key readable by others fails the signing check', async () => {
    const key = join(inst.dir, 'keys', 'signing-key.pem');
    await chmod(key, 0o644);
    try {
      const r = await check(inst);
      expect(statusOf(r.json).signing).toBe('fail KEY_PERMISSIONS');
      expect(r.code).toBe(1);
    } finally {
      await chmod(key, 0o600);
    }
  });

  it('a database that was never migrated fails (check never migrates it)', async () => {
    const empty = join(inst.dir, 'empty.sqlite');
    execFileSync(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(empty)}, '')`]);
    const original = await readFile(inst.config, 'utf8');
    await patchConfig(inst, (c) => (c.database = './empty.sqlite'));
    try {
      const r = await check(inst);
      expect(statusOf(r.json)).toMatchObject({ database: 'fail DB_NOT_MIGRATED', 'read model': 'skipped' });
      expect((await check(inst)).json.checks.find((c) => c.name === 'database')?.code).toBe('DB_NOT_MIGRATED');
    } finally {
      await writeFile(inst.config, original);
    }
  });

  it('an unreachable PostgreSQL fails the database check', async () => {
    const original = await readFile(inst.config, 'utf8');
    await patchConfig(inst, (c) => (c.database = 'postgres://ldm@127.0.0.1:1/none'));
    try {
      const r = await check(inst);
      expect(statusOf(r.json).database).toBe('fail DB_UNREACHABLE');
    } finally {
      await writeFile(inst.config, original);
    }
  });

  it('a config that does not load: config fails, the rest is skipped, exit 2', async () => {
    const original = await readFile(inst.config, 'utf8');
    await patchConfig(inst, (c) => (c.shutdownGraceSecond = 30));
    try {
      const r = await check(inst);
      expect(r.code).toBe(2);
      expect(r.json.checks[0]).toMatchObject({ name: 'config', status: 'fail' });
      expect(r.json.checks.slice(1).every((c) => c.status === 'skipped')).toBe(true);
    } finally {
      await writeFile(inst.config, original);
    }
  });
});

const why = sshdAvailable() ? '' : ' (skipped: no OpenSSH server; scripts/test-setup.sh installs openssh-server)';
describe.skipIf(!sshdAvailable())(`ldm-batch check on an SFTP spool (real sshd)${why}`, () => {
  let inst: Instance;
  let srv: Sshd;
  const useSftp = (over: Record<string, unknown>): Promise<void> =>
    patchConfig(inst, (c) => {
      const s = srv.sftpConfig();
      c.spool = { transport: 'sftp', root: srv.root, sftp: { host: s.host, port: s.port, username: s.username, privateKeyFile: s.privateKeyFile, hostKeyFingerprint: s.hostKeyFingerprint, ...over } };
    });
  beforeAll(async () => {
    srv = await startSshd();
    inst = await makeInstance();
    expect((await inst.cli(['import', 'clients', await inst.writeCsv('clients.csv', CLIENTS)])).code).toBe(0);
    for (const f of ['in', 'out', 'archive']) await mkdir(join(srv.root, 'fin', f), { recursive: true });
  });
  afterAll(async () => {
    await inst?.cleanup();
    await srv?.cleanup();
  });

  it('the pinned host key and our key accepted: spool ok; a missing folder on the server is named', async () => {
    await useSftp({});
    const r = await check(inst);
    expect(statusOf(r.json)).toMatchObject({ spool: 'ok', 'client fin': 'fail SPOOL_FOLDER_MISSING' });
    expect(r.json.checks.find((c) => c.name === 'client fin')?.detail).toMatch(/missing folder\(s\) error\//);
  });

  it('a wrong pin fails with HOST_KEY_MISMATCH before logging in', async () => {
    await useSftp({ hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43) });
    const r = await check(inst);
    expect(statusOf(r.json).spool).toBe('fail HOST_KEY_MISMATCH');
    expect(r.code).toBe(1);
  });

  it('a key the server does not accept fails with SFTP_AUTH', async () => {
    const other = join(inst.dir, 'other-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    await useSftp({ privateKeyFile: other });
    const r = await check(inst);
    expect(statusOf(r.json).spool).toBe('fail SFTP_AUTH');
  });
});

const HAVE_PG = await postgresAvailable();
describe.skipIf(!HAVE_PG)(`ldm-batch check on PostgreSQL${HAVE_PG ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  let inst: Instance;
  let db: TempDatabase;
  beforeAll(async () => {
    inst = await makeInstance();
    db = await createTempDatabase();
  });
  afterAll(async () => {
    await inst?.cleanup();
    await db?.drop();
  });

  it('an empty database is reachable but not migrated; once a command has migrated it, the database check passes', async () => {
    await patchConfig(inst, (c) => (c.database = db.url));
    let r = await check(inst);
    expect(statusOf(r.json)).toMatchObject({ database: 'fail DB_NOT_MIGRATED', 'read model': 'skipped' });
    // check looked only: the database is still empty.
    r = await check(inst);
    expect(statusOf(r.json).database).toBe('fail DB_NOT_MIGRATED');
    expect((await inst.cli(['batches', 'list'])).code).toBe(0); // opening the store migrates it
    r = await check(inst);
    expect(r.json.checks.find((c) => c.name === 'database')).toMatchObject({ status: 'ok', detail: 'PostgreSQL reachable, schema current' });
    // A database migrated by another command than init lacks the OCMW list: check says so.
    expect(statusOf(r.json)['read model']).toBe('fail READ_MODEL_EMPTY');
  });
});

describe('certificateValidity (pure)', () => {
  const cert = { validFrom: 'Jan  1 00:00:00 2026 GMT', validTo: 'Mar  1 00:00:00 2027 GMT' } as X509Certificate;
  const table: [string, string, string | undefined][] = [
    ['2025-12-31T23:59:59Z', 'fail', 'CERT_NOT_YET_VALID'],
    ['2026-01-01T00:00:00Z', 'ok', undefined],
    ['2027-01-30T00:00:00Z', 'ok', undefined], // 30 days left
    ['2027-01-30T00:00:01Z', 'warn', 'CERT_EXPIRES_SOON'], // 29 days and a bit
    ['2027-03-01T00:00:00Z', 'warn', 'CERT_EXPIRES_SOON'],
    ['2027-03-01T00:00:01Z', 'fail', 'CERT_EXPIRED'],
  ];
  for (const [now, status, code] of table) {
    it(`${now}: ${status}${code ? ` ${code}` : ''}`, () => {
      const r = certificateValidity(cert, new Date(now));
      expect([r.status, r.code]).toEqual([status, code]);
    });
  }
});
