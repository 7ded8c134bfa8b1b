// Issue 13, "no door left open": each attack a client can make with write access to its own
// local spool folders, through the real CLI (`run-once`), with what the daemon must do instead.
// Every test here failed on the code before issue 13 (see the comment on each).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { HAVE_XMLSEC1, NO_XMLSEC1, xmlsec1Verify } from '../response/fixtures.js';
import * as S from './scenario.js';

let inst: Instance;
let victim: string;
const folder = (f: string): string => join(inst.spool, 'fin', f);
const VICTIM_TEXT = 'the journal, the signing key, another client’s response…';

interface Row {
  id: number;
  fileName: string;
  state: string;
  errorCode: string | null;
  error: string | null;
  archiveName: string | null;
  responseCopy: string | null;
}

async function journal(): Promise<Row[]> {
  const r = await inst.cli(['batches', 'list', '--json', '--limit', '1000']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}
const nextBatchId = async (): Promise<number> => Math.max(0, ...(await journal()).map((b) => Number(b.id))) + 1;

async function runOnce(): Promise<{ code: number; files: { file: string; outcome: string }[]; stderr: string }> {
  const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
  return { code: r.code, files: r.stdout ? (JSON.parse(r.stdout).files as { file: string; outcome: string }[]) : [], stderr: r.stderr };
}

/** The CLI with another config file than the instance's (inst.cli appends its own --config). */
const cliWith = (config: string, args: string[]): ReturnType<typeof run> => run(process.execPath, [BIN, ...args, '--config', config], { cwd: inst.dir });

const request = (name: string, fileId: string): Promise<number> => writeRequestFile(join(folder('in'), name), S.header({ fileId }), S.lines.slice(0, 3));

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
  expect((await inst.cli(['run-once'])).code).toBe(0); // creates the client folders
  victim = join(inst.dir, 'victim.txt');
  await writeFile(victim, VICTIM_TEXT);
});
afterAll(async () => inst?.cleanup());

describe('links planted in out/, archive/ and error/', () => {
  it('a link at the temporary name in out/ is not followed (before: the response overwrote the link target)', async () => {
    await symlink(victim, join(folder('out'), '.A1.response.xml.tmp'));
    await request('A1.xml', 'FIN-A1');
    const r = await runOnce();
    expect(r.files, r.stderr).toEqual([expect.objectContaining({ client: 'fin', file: 'A1.xml', outcome: 'ANSWERED' })]);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect((await lstat(join(folder('out'), 'A1.response.xml'))).isFile()).toBe(true);
    expect((await inst.cli(['verify', join(folder('out'), 'A1.response.xml')])).code).toBe(0);
  });

  it('a link at the final name in out/ is neither followed, read nor replaced (before: read through, and a FIFO behind it hung the poll)', async () => {
    const fifo = join(inst.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await symlink(fifo, join(folder('out'), 'A2.response.xml'));
    await request('A2.xml', 'FIN-A2');
    const r = await runOnce();
    expect(r.files, r.stderr).toEqual([expect.objectContaining({ client: 'fin', file: 'A2.xml', outcome: 'ANSWERED' })]);
    expect((await lstat(join(folder('out'), 'A2.response.xml'))).isSymbolicLink()).toBe(true);
    expect(r.stderr).toMatch(/"event":"response.exists"/);
  });

  it('links at the archive copy’s temporary and final names: not followed; a re-delivery sends the genuine response (before: the target was overwritten, and re-delivered)', async () => {
    const id = await nextBatchId();
    const secret = join(inst.dir, 'secret.txt');
    await writeFile(secret, 'SECRET of another client');
    await symlink(victim, join(folder('archive'), `.A3.${id}.response.xml.tmp`));
    await symlink(secret, join(folder('archive'), `A3.${id}.response.xml`));
    await request('A3.xml', 'FIN-A3');
    const r = await runOnce();
    expect(r.files, r.stderr).toEqual([expect.objectContaining({ client: 'fin', file: 'A3.xml', outcome: 'ANSWERED' })]);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    const row = (await journal()).find((b) => b.id === id) as Row;
    expect(row.responseCopy).not.toBe(`A3.${id}.response.xml`);
    expect((await lstat(join(folder('archive'), row.responseCopy as string))).isFile()).toBe(true);
    // the same file again: re-delivered from the genuine copy
    await writeFile(join(folder('in'), 'A3-again.xml'), await readFile(join(folder('archive'), 'A3.xml')));
    const again = await runOnce();
    expect(again.files).toEqual([expect.objectContaining({ client: 'fin', file: 'A3-again.xml', outcome: 'REDELIVERED' })]);
    const delivered = await readFile(join(folder('out'), 'A3-again.response.xml'));
    expect(delivered.equals(await readFile(join(folder('out'), 'A3.response.xml')))).toBe(true);
  });

  it('a link at the quarantine name in error/ does not keep a bad name in in/ (before: the move failed, every poll)', async () => {
    const id = await nextBatchId();
    await symlink(victim, join(folder('error'), `bad_name.${id}.xml`));
    await request('bad\u0001name.xml', 'FIN-A4');
    const r = await runOnce();
    expect(r.files, r.stderr).toEqual([expect.objectContaining({ client: 'fin', file: 'bad\u0001name.xml', outcome: 'FAILED' })]);
    expect(existsSync(join(folder('in'), 'bad\u0001name.xml'))).toBe(false);
    const row = (await journal()).find((b) => b.id === id) as Row;
    expect(row).toMatchObject({ state: 'FAILED', errorCode: 'UNSAFE_NAME' });
    expect(row.archiveName).toMatch(new RegExp(`^error/bad_name\\.${id}\\.[0-9a-f]{8}\\.xml$`));
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('a link at the rejected request’s name in error/ is not replaced (the request goes under its numbered name)', async () => {
    await symlink(victim, join(folder('error'), 'A5.xml'));
    await writeRequestFile(join(folder('in'), 'A5.xml'), S.header({ fileId: 'FIN-A5', environment: 'TEST' }), S.lines.slice(0, 1));
    const r = await runOnce();
    expect(r.files).toEqual([expect.objectContaining({ client: 'fin', file: 'A5.xml', outcome: 'REJECTED' })]);
    expect((await lstat(join(folder('error'), 'A5.xml'))).isSymbolicLink()).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });
});

describe('links, FIFOs and folders in in/', () => {
  it('are quarantined to error/ with a journal row, never read (before: a link was answered, FIFOs and folders ignored forever)', async () => {
    // A link to a valid request outside the spool (the old code answered it, revealing its hash
    // and line count), a link to a system file, a FIFO and a folder under request names.
    const outside = join(inst.dir, 'outside.xml');
    await writeRequestFile(outside, S.header({ fileId: 'FIN-OUTSIDE' }), S.lines.slice(0, 1));
    await symlink(outside, join(folder('in'), 'L1.xml'));
    await symlink('/etc/passwd', join(folder('in'), 'L2.xml'));
    execFileSync('mkfifo', [join(folder('in'), 'F1.xml')]);
    await mkdir(join(folder('in'), 'D1.xml'));
    await writeFile(join(folder('in'), 'D1.xml', 'inner.xml'), 'x');
    const r = await runOnce();
    expect(r.code).toBe(1);
    expect(r.files.map((f) => [f.file, f.outcome]).sort()).toEqual([
      ['D1.xml', 'FAILED'],
      ['F1.xml', 'FAILED'],
      ['L1.xml', 'FAILED'],
      ['L2.xml', 'FAILED'],
    ]);
    expect(await readdir(folder('in'))).toEqual([]);
    for (const n of ['L1', 'L2', 'F1', 'D1']) expect(existsSync(join(folder('out'), `${n}.response.xml`))).toBe(false);
    const rows = (await journal()).filter((b) => ['L1.xml', 'L2.xml', 'F1.xml', 'D1.xml'].includes(b.fileName));
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'FAILED', errorCode: 'NOT_A_FILE' });
      expect(row.archiveName).toMatch(/^error\//);
    }
    expect(rows.find((b) => b.fileName === 'L1.xml')?.error).toMatch(/symbolic link/);
    expect(rows.find((b) => b.fileName === 'F1.xml')?.error).toMatch(/FIFO/);
    expect(rows.find((b) => b.fileName === 'D1.xml')?.error).toMatch(/folder/);
    // moved as they are: the links are still links, their targets untouched
    const l1 = rows.find((b) => b.fileName === 'L1.xml') as Row;
    expect((await lstat(join(folder('error'), (l1.archiveName as string).slice('error/'.length)))).isSymbolicLink()).toBe(true);
    expect(existsSync(outside)).toBe(true);
  });
});

describe('hostile names never block a spool', () => {
  it('a 110 × "é" name and a non-UTF-8 name are quarantined with the true reason; the file sorted after them is answered (before: ENAMETOOLONG failed every poll; the other was ignored)', async () => {
    const long = `${'é'.repeat(110)}.xml`;
    await request(long, 'FIN-LONG');
    const raw = Buffer.concat([Buffer.from([0x66, 0xff, 0xfe]), Buffer.from('.xml')]);
    await writeFile(Buffer.concat([Buffer.from(`${folder('in')}/`), raw]), 'not read');
    await request('ü-after.xml', 'FIN-AFTER');
    const r = await runOnce();
    expect(r.code).toBe(1);
    const byFile = new Map(r.files.map((f) => [f.file, f.outcome]));
    expect(byFile.get('ü-after.xml'), r.stderr).toBe('ANSWERED');
    expect(byFile.get(long)).toBe('FAILED');
    expect([...byFile.values()].filter((o) => o === 'FAILED')).toHaveLength(2);
    expect(existsSync(join(folder('out'), 'ü-after.response.xml'))).toBe(true);
    expect(await readdir(folder('in'))).toEqual([]);
    const rows = (await journal()).filter((b) => b.errorCode === 'UNSAFE_NAME');
    expect(rows.some((b) => /is 224 bytes long in UTF-8; at most 150/.test(b.error ?? ''))).toBe(true);
    expect(rows.some((b) => /not valid UTF-8/.test(b.error ?? ''))).toBe(true);
    const quarantined = (await readdir(folder('error'), { encoding: 'buffer' })).map((b) => b.toString('latin1'));
    expect(quarantined.every((n) => /^[A-Za-z0-9._-]+$/.test(n))).toBe(true); // generated safe names only
  });
});

describe('personal data at rest', () => {
  it('responses, archive copies, kept requests and the database are 0600 after a run (before: 0644)', async () => {
    await request('M1.xml', 'FIN-M1');
    const r = await runOnce();
    expect(r.files).toEqual([expect.objectContaining({ client: 'fin', file: 'M1.xml', outcome: 'ANSWERED' })]);
    const mode = async (p: string): Promise<string> => ((await stat(p)).mode & 0o777).toString(8);
    expect(await mode(join(folder('out'), 'M1.response.xml'))).toBe('600');
    const copies = (await readdir(folder('archive'))).filter((n) => /^M1\.\d+\.response\.xml$/.test(n));
    expect(copies).toHaveLength(1);
    expect(await mode(join(folder('archive'), copies[0] as string))).toBe('600');
    expect(await mode(join(folder('archive'), 'M1.xml'))).toBe('600');
    const db = join(inst.dir, 'data', 'ldm-batch.sqlite');
    expect(await mode(db)).toBe('600');
    if (existsSync(`${db}-wal`)) expect(await mode(`${db}-wal`)).toBe('600');
    // `process -o` writes a response too
    const out = join(inst.dir, 'M1.process.xml');
    expect((await inst.cli(['process', join(folder('archive'), 'M1.xml'), '-o', out, '--client', 'fin'])).code).toBe(0);
    expect(await mode(out)).toBe('600');
  });

  it('fileMode "0640" lets the group read them (documented option)', async () => {
    const cfg = JSON.parse(readFileSync(inst.config, 'utf8')) as Record<string, unknown>;
    const config = join(inst.dir, 'group.config.json');
    await writeFile(config, JSON.stringify({ ...cfg, fileMode: '0640' }));
    await request('M2.xml', 'FIN-M2');
    const r = await cliWith(config, ['run-once', '--as-of', S.AS_OF, '--json']);
    expect(JSON.parse(r.stdout).files).toEqual([expect.objectContaining({ client: 'fin', file: 'M2.xml', outcome: 'ANSWERED' })]);
    expect(((await stat(join(folder('out'), 'M2.response.xml'))).mode & 0o777).toString(8)).toBe('640');
    await writeFile(config, JSON.stringify({ ...cfg, fileMode: '0644' }));
    const bad = await cliWith(config, ['run-once']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/fileMode/);
  });
});

describe('no full SSIN in the journal or CLI errors', () => {
  it('a libxml2 schema message quoting an SSIN is masked in the journal (before: stored in full)', async () => {
    const p = join(folder('in'), 'X1.xml');
    await writeRequestFile(p, S.header({ fileId: 'FIN-X1' }), S.lines.slice(0, 1));
    const xml = (await readFile(p, 'utf8')).replace('<Role>BENEFICIARY</Role>', '<Role>85073003328</Role>');
    await writeFile(p, xml);
    const r = await runOnce();
    expect(r.files).toEqual([expect.objectContaining({ client: 'fin', file: 'X1.xml', outcome: 'REJECTED' })]);
    const show = await inst.cli(['batches', 'show', 'FIN-X1', '--json']);
    expect(show.stdout).not.toMatch(/85073003328/);
    const error = (JSON.parse(show.stdout) as Row).error ?? '';
    expect(error).toMatch(/85\*{7}28/); // the message is there, masked
    expect(error).not.toMatch(/(?<!\d)\d{11}(?!\d)/);
    // the same file through `process`: its error lines on stdout are masked too
    for (const json of [true, false]) {
      const p2 = await inst.cli(['process', join(folder('error'), 'X1.xml'), '-o', join(inst.dir, `X1-${json}.xml`), '--client', 'fin', ...(json ? ['--json'] : [])]);
      expect(p2.code).toBe(1);
      expect(p2.stdout).toMatch(/85\*{7}28/);
      expect(p2.stdout).not.toMatch(/85073003328/);
    }
  });

  it('an import error quoting an SSIN is masked on stderr and in --json (before: "found \\"85073003328\\"")', async () => {
    const csv = await inst.writeCsv('bad-amounts.csv', ['ssin,partner_ssin,ocmw_cbe,benefit_type,category,month,grant_from,grant_to,amount_cents,paid_on,status', `${S.A},,${S.OCMW},LEEFLOON,85073003328,2025-01,2025-01-01,2025-01-31,100,2025-02-05,DEFINITIVE`].join('\n'));
    const r = await inst.cli(['import', 'amounts', csv]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/category must be one of/);
    expect(r.stderr).not.toMatch(/(?<!\d)\d{11}(?!\d)/);
    const j = await inst.cli(['import', 'amounts', csv, '--json']);
    expect(j.stdout).toMatch(/category must be one of/);
    expect(j.stdout).not.toMatch(/85073003328/);
  });
});

describe('checks at start', () => {
  it('a spool root that is /, a system folder or has ".." is refused (CONFIG, exit 2) (before: /proc failed late, / made client folders at the root)', async () => {
    const cfg = JSON.parse(readFileSync(inst.config, 'utf8')) as { spool: Record<string, unknown> };
    const config = join(inst.dir, 'root.config.json');
    for (const root of ['/proc', '/etc/', '/', './spool/../../..', '../spool']) {
      await writeFile(config, JSON.stringify({ ...cfg, spool: { ...cfg.spool, root } }));
      const r = await cliWith(config, ['run-once']);
      expect(r.code, root).toBe(2);
      expect(r.stderr, root).toMatch(/cannot be a spool root.*\[CONFIG\]/);
    }
  });

  it.skipIf(!HAVE_XMLSEC1)(`genuine responses of this run still verify with xmlsec1${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`, async () => {
    for (const n of ['A1.response.xml', 'M1.response.xml', 'ü-after.response.xml']) {
      const v = await xmlsec1Verify(join(folder('out'), n), inst.cert);
      expect(v.code, `${n}: ${v.output}`).toBe(0);
    }
  });
});
