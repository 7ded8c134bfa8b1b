// The daemon and run-once against a real OpenSSH server: complete-file pickup (.part + rename,
// growing files), a receiver that must never see a partial response, two racing run-once
// processes, and a SIGTERM while a file is in hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, run, type Instance } from '../helpers/instance.js';
import { sftpArgs, sftpBatch, sftpClientAvailable, sshdAvailable, startSshd, writeKnownHosts, type Sshd } from '../helpers/sshd.js';
import { verifyResponse } from '../../src/response/verify.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import type { Db } from '../../src/store/db.js';
import * as S from '../pipeline/scenario.js';
import { CLOCK, dropRequest, inFolder, openJournal, rows, scenarioInstance, sftpConfig, startDaemon, waitUntil, type DaemonProcess } from './harness.js';
import { patient } from '../helpers/patience.js';

const available = sshdAvailable() && sftpClientAvailable();
const why = available ? '' : ' — SKIPPED: /usr/sbin/sshd, ssh-keygen or the OpenSSH sftp client is not installed';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!available)(`daemon pickup and delivery over SFTP${why}`, () => {
  let srv: Sshd;
  let inst: Instance;
  let db: Db;
  let work: string;
  let knownHosts: string;
  let cert: string;
  // One daemon for the pickup and receiver tests, on the spool "main".
  let daemon: DaemonProcess;
  let root: string;
  const fin = (folder: 'in' | 'out' | 'archive' | 'error'): string => inFolder(root, 'fin', folder);
  /** Resolves after `n` more completed polls of fin. */
  const polls = async (n: number): Promise<void> => {
    const done = (): number => daemon.events.filter((e) => e.event === 'poll.done' && e.client === 'fin').length;
    const target = done() + n;
    await waitUntil(() => done() >= target, 10_000, `${n} polls of fin`);
  };

  beforeAll(async () => {
    srv = await startSshd();
    inst = await scenarioInstance();
    db = await openJournal(inst);
    work = await mkdtemp(join(tmpdir(), 'ldm-daemon-work-'));
    knownHosts = await writeKnownHosts(srv, join(work, 'known_hosts'));
    cert = await readFile(inst.cert, 'utf8');
    const main = await sftpConfig(inst, srv, { name: 'main' });
    root = main.root;
    daemon = startDaemon(main.config);
    await daemon.waitFor((e) => e.event === 'daemon.started', 10_000, 'daemon.started');
    await polls(1);
  }, patient(60_000));

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) await daemon.signal('SIGTERM');
    await db?.destroy();
    await srv?.cleanup();
    await inst?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a file uploaded as .part and then renamed (OpenSSH sftp) is processed exactly once', async () => {
    const local = join(work, 'upload');
    await dropRequest(local, 'P1.xml', { fileId: 'PK-P1' });
    const put = await sftpBatch(srv, knownHosts, [`cd ${fin('in')}`, `put ${join(local, 'P1.xml')} P1.xml.part`]);
    expect(put.code, put.stderr).toBe(0);
    await polls(2); // the daemon looked at the .part twice…
    expect(await readdir(fin('in'))).toEqual(['P1.xml.part']); // …and left it alone
    expect(await rows(db, 'P1')).toEqual([]);

    const mv = await sftpBatch(srv, knownHosts, [`cd ${fin('in')}`, 'rename P1.xml.part P1.xml']);
    expect(mv.code, mv.stderr).toBe(0);
    await waitUntil(() => existsSync(join(fin('out'), 'P1.response.xml')), 15_000, 'P1.response.xml');
    await polls(2); // later polls must not answer it again
    const journal = await rows(db, 'P1');
    expect(journal.map((r) => [r.file_name, r.state])).toEqual([['P1.xml', 'DONE']]);
    expect((await readdir(fin('out'))).filter((n) => n.startsWith('P1'))).toEqual(['P1.response.xml']);
    expect(await readdir(fin('in'))).toEqual([]);
    expect(existsSync(join(fin('archive'), 'P1.xml'))).toBe(true);
    const v = await verifyResponse(join(fin('out'), 'P1.response.xml'), { trustedCertPem: cert });
    expect(v.ok).toBe(true);
  });

  it('a file still growing under its final name is not taken until it stops changing', async () => {
    const local = join(work, 'G1.full.xml');
    await writeRequestFile(local, S.header({ fileId: 'PK-G1' }), Array.from({ length: 20 }, () => S.lines).flat());
    const full = await readFile(local);
    const target = join(fin('in'), 'G1.xml');
    const chunks = 14;
    const step = Math.ceil(full.length / chunks);
    const pollsBefore = daemon.events.filter((e) => e.event === 'poll.done' && e.client === 'fin').length;
    await writeFile(target, full.subarray(0, step));
    // Appends every 250 ms: any two polls (1 s apart) see a different size.
    for (let i = 1; i < chunks; i++) {
      await sleep(250);
      expect(existsSync(target), `still in in/ under its name after ${i} appends`).toBe(true);
      await appendFile(target, full.subarray(i * step, (i + 1) * step));
    }
    const pollsDuring = daemon.events.filter((e) => e.event === 'poll.done' && e.client === 'fin').length - pollsBefore;
    expect(existsSync(target)).toBe(true);
    expect(await rows(db, 'G1')).toEqual([]);
    expect(pollsDuring).toBeGreaterThanOrEqual(2);

    await waitUntil(() => existsSync(join(fin('out'), 'G1.response.xml')), 15_000, 'G1.response.xml');
    await waitUntil(async () => (await rows(db, 'G1')).some((r) => r.state !== 'CLAIMED'), 10_000, 'G1 finished');
    expect((await rows(db, 'G1')).map((r) => [r.file_name, r.state, r.error_code])).toEqual([['G1.xml', 'DONE', null]]);
    const archived = await readFile(join(fin('archive'), 'G1.xml'));
    expect(archived.equals(full)).toBe(true); // the whole file was taken, not a prefix
    const v = await verifyResponse(join(fin('out'), 'G1.response.xml'), { trustedCertPem: cert });
    expect(v.ok && v.recordCount).toBe(20 * S.lines.length);
    console.info(`[daemon pickup] growing file: ${chunks} appends over ${((chunks - 1) * 250) / 1000} s, ${pollsDuring} polls meanwhile left it alone; taken once stable`);
  });

  it('a receiver polling out/ with OpenSSH sftp -b never sees a partial response', async () => {
    const names = ['V1', 'V2', 'V3', 'V4'];
    const stage = join(work, 'stage-v');
    for (const n of names) await dropRequest(stage, `${n}.xml`, { fileId: `PK-${n}`, repeat: 200 });
    const seen = join(work, 'receiver');
    await mkdir(seen);
    const cli = spawn('sftp', sftpArgs(srv, knownHosts), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let errOut = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const rounds = (): number => out.split('sftp> ls').length - 1;
    let sent = 0;
    let receiving = true;
    // Each round: list out/, then download every final-name response into a fresh folder.
    const feeder = (async () => {
      while (receiving) {
        if (rounds() + 3 > sent) {
          const dir = join(seen, `r${sent}`);
          cli.stdin.write(`lmkdir ${dir}\n-get ${fin('out')}/V*.response.xml ${dir}/\nls -l ${fin('out')}\n`);
          sent++;
        }
        await sleep(2);
      }
      cli.stdin.end();
    })();
    await waitUntil(() => rounds() > 0 || (cli.exitCode !== null && `sftp exited: ${errOut}`), 10_000, 'the receiver');
    expect(cli.exitCode, errOut).toBeNull();

    // The requests arrive (renamed into in/ at once, as an upload would) while the receiver polls.
    for (const n of names) {
      await copyFile(join(stage, `${n}.xml`), join(fin('in'), `${n}.xml.part`));
      await rename(join(fin('in'), `${n}.xml.part`), join(fin('in'), `${n}.xml`));
    }
    await waitUntil(() => names.every((n) => existsSync(join(fin('out'), `${n}.response.xml`))), 30_000, 'four responses');
    const extra = rounds() + 3;
    await waitUntil(() => rounds() >= extra, 10_000, 'a few more receiver rounds');
    receiving = false;
    await feeder;
    expect(await exited, errOut).toBe(0);

    const finals = new Map<string, { size: number; sha: string }>();
    for (const n of names) {
      const path = join(fin('out'), `${n}.response.xml`);
      const bytes = await readFile(path);
      finals.set(`${n}.response.xml`, { size: bytes.length, sha: sha(bytes) });
      const v = await verifyResponse(path, { trustedCertPem: cert });
      expect(v.ok, `${n} verifies`).toBe(true);
    }
    let listed = 0;
    let partialListings = 0;
    for (const listing of out.split('sftp> ls').slice(1)) {
      const finalLines = listing.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 9 && /^V\d\.response\.xml$/.test(f[f.length - 1].split('/').pop() ?? ''));
      if (finalLines.length > 0 && finalLines.length < names.length) partialListings++;
      for (const f of finalLines) {
        listed++;
        const name = f[f.length - 1].split('/').pop() as string;
        expect(Number(f[4]), `${name} listed with its final size`).toBe(finals.get(name)?.size);
      }
    }
    let downloaded = 0;
    for (const round of await readdir(seen)) {
      for (const file of await readdir(join(seen, round))) {
        downloaded++;
        expect(sha(await readFile(join(seen, round, file))), `${round}/${file} is the complete response`).toBe(finals.get(file)?.sha);
      }
    }
    console.info(`[daemon receiver] ${rounds()} rounds of ls+get by sftp -b: ${listed} listings of a final name (always the final size), ${downloaded} downloads (all byte-identical to the signed response); ${partialListings} rounds saw only some responses`);
    expect(partialListings).toBeGreaterThan(0); // the receiver really looked while the daemon delivered
    expect(downloaded).toBeGreaterThan(names.length);
  });

  it('two run-once processes racing over 20 files: each file is answered exactly once', async () => {
    const race = await sftpConfig(inst, srv, { name: 'race' });
    const names = Array.from({ length: 20 }, (_, i) => `RACE-${String(i).padStart(2, '0')}.xml`);
    for (const n of names) await dropRequest(inFolder(race.root, 'fin', 'in'), n);
    const runOnce = (): Promise<{ code: number; stdout: string; stderr: string }> =>
      run(process.execPath, [BIN, 'run-once', '--json', '--config', race.config], { env: { LDM_BATCH_CLOCK: CLOCK, LDM_BATCH_LOG_LEVEL: 'warn' } });
    const t0 = Date.now();
    const [a, b] = await Promise.all([runOnce(), runOnce()]);
    const ms = Date.now() - t0;
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    type Out = { files: { client: string; file: string; outcome: string }[]; failures: unknown[] };
    const ra = JSON.parse(a.stdout) as Out;
    const rb = JSON.parse(b.stdout) as Out;
    expect([...ra.failures, ...rb.failures]).toEqual([]);
    const answered = (r: Out): string[] => r.files.filter((f) => f.outcome === 'ANSWERED').map((f) => f.file);
    const all = [...answered(ra), ...answered(rb)].sort();
    expect(all).toEqual(names); // every file once, none twice
    expect([...ra.files, ...rb.files].every((f) => f.outcome === 'ANSWERED' || f.outcome === 'SKIPPED')).toBe(true);

    const out = (await readdir(inFolder(race.root, 'fin', 'out'))).sort();
    expect(out).toEqual(names.map((n) => n.replace(/\.xml$/, '.response.xml')));
    expect(await readdir(inFolder(race.root, 'fin', 'in'))).toEqual([]);
    const journal = await rows(db, 'RACE-');
    expect(journal.map((r) => r.file_name).sort()).toEqual(names);
    expect(journal.every((r) => r.state === 'DONE')).toBe(true);
    console.info(`[run-once race] 20 files in ${ms} ms: process A answered ${answered(ra).length}, process B ${answered(rb).length}; ${[...ra.files, ...rb.files].filter((f) => f.outcome === 'SKIPPED').length} claims lost to the other process`);
  });

  it('SIGTERM while a file is in hand: that file is finished, the others stay untouched, exit 0', async () => {
    const term = await sftpConfig(inst, srv, { name: 'term' });
    const names = Array.from({ length: 8 }, (_, i) => `TERM-${i}.xml`);
    for (const n of names) await dropRequest(inFolder(term.root, 'fin', 'in'), n, { repeat: 60 });
    const d = startDaemon(term.config);
    await d.waitFor((e) => e.event === 'batch.done', 20_000, 'the first batch.done');
    const stopped = await d.signal('SIGTERM');
    expect(stopped.code, d.stderr()).toBe(0);
    expect(stopped.ms).toBeLessThan(5_000);
    const stopping = d.events.find((e) => e.event === 'daemon.stopping');
    expect(stopping).toBeDefined();
    expect(d.events.find((e) => e.event === 'daemon.stopped')).toMatchObject({ abandoned: false });

    const journal = await rows(db, 'TERM-');
    expect(journal.filter((r) => r.state !== 'DONE')).toEqual([]); // nothing left half-done
    const done = journal.map((r) => r.file_name);
    expect(done.length).toBeLessThan(names.length);
    const left = (await readdir(inFolder(term.root, 'fin', 'in'))).sort();
    expect(left).toEqual(names.filter((n) => !done.includes(n)).sort()); // untouched, under their names
    console.info(`[daemon SIGTERM] stopped in ${stopped.ms} ms with ${JSON.stringify(stopping?.inFlight)} in hand; ${done.length} of 8 answered, ${left.length} left for the next run`);

    const rest = await run(process.execPath, [BIN, 'run-once', '--json', '--config', term.config], { env: { LDM_BATCH_CLOCK: CLOCK } });
    expect(rest.code, rest.stderr).toBe(0);
    const all = await rows(db, 'TERM-');
    expect(all.map((r) => [r.file_name, r.state]).sort()).toEqual(names.map((n) => [n, 'DONE']));
    expect((await readdir(inFolder(term.root, 'fin', 'out'))).length).toBe(8);
  });
});
