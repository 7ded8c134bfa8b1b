// A holder frozen past its lease (SIGSTOP: a paused VM, a long GC) and resumed after another
// instance took its batch over, at the exact steps where both may touch the same file. Two real
// `run-once` processes with distinct instanceIds share one journal and one spool; each freezes
// itself at a named step (LDM_BATCH_STOP_AT), and the test decides who moves on when. Whatever
// the order, the request is answered once, archived once under its own name, and the journal
// holds one DONE row: the new holder treats a step the stale one did as done, and the stale one
// notices it lost the lease and stands down without failing the batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, makeInstance, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';
import { openDatabase, parseDatabaseSpec } from '../../src/store/db.js';
import { countAuditLines } from '../../src/audit/query.js';

const CLOCK = '2026-02-15T03:00:00Z';
const LEASE_SECONDS = 1;
const pgAvailable = await postgresAvailable();

interface Run {
  child: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `run-once` of one instance, frozen by itself at `stopAt` when given. */
function runOnce(config: string, stopAt?: string): Run {
  const child = spawn(process.execPath, [BIN, 'run-once', '--as-of', S.AS_OF, '--config', config], {
    env: { ...process.env, LDM_BATCH_CLOCK: CLOCK, LDM_BATCH_LOG_LEVEL: 'info', ...(stopAt ? { LDM_BATCH_STOP_AT: stopAt } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let rest = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        events.push({ event: 'unparsed', line });
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return { child, events, exited };
}

/** Waits until the process stopped itself (state T in /proc), or fails if it exited instead. */
async function stopped(run: Run, point: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`exited before reaching ${point}: ${JSON.stringify(run.events.slice(-5))}`);
    const stat = await readFile(`/proc/${run.child.pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(.*\) T /.test(stat)) return;
    await sleep(20);
  }
  throw new Error(`never stopped at ${point}`);
}

async function resume(run: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGCONT');
  return run.exited;
}

/** An exit, with the process's own account of what went wrong when it is not a clean 0. */
async function exit(run: Run, resumed = false): Promise<string> {
  const e = resumed ? await resume(run) : await run.exited;
  const problems = run.events.filter((x) => x.level === 'error' || x.level === 'warn').map((x) => `${String(x.event)}: ${String(x.error ?? x.note ?? '')}`);
  return e.code === 0 && e.signal === null ? 'exit 0' : `exit ${e.code ?? e.signal}: ${problems.join(' | ')}`;
}

const named = (run: Run, event: string): Record<string, unknown>[] => run.events.filter((e) => e.event === event);

for (const engine of ['SQLite', 'PostgreSQL'] as const) {
  const skip = engine === 'PostgreSQL' && !pgAvailable;
  describe.skipIf(skip)(skip ? `a holder frozen past its lease (${engine}) — SKIPPED: ${PG_SKIP_REASON}` : `a holder frozen past its lease (${engine})`, () => {
    let pg: TempDatabase | undefined;
    let inst: Instance;
    /** The first instance (`ldm-1`, the one that freezes) and the second (`ldm-2`, which takes over). */
    let first: string;
    let second: string;
    /** The shared journal and audit register, as the config names it. */
    let database: string;
    let n = 0;

    beforeAll(async () => {
      if (engine === 'PostgreSQL') pg = await createTempDatabase();
      inst = await makeInstance({ database: pg?.url });
      const cfg = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown> & { database: string; spool: { root: string }; signing: { keyFile: string; certFile: string } };
      cfg.leaseSeconds = LEASE_SECONDS;
      await writeFile(inst.config, JSON.stringify(cfg));
      await S.importScenario(inst);
      await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
      first = inst.config;
      // The same installation seen from another host: its own id and work folder, the same journal, spool and key.
      const abs = (p: string): string => resolve(inst.dir, p);
      database = pg ? cfg.database : abs(cfg.database);
      const dir = join(inst.dir, 'second');
      await mkdir(dir, { recursive: true });
      second = join(dir, 'ldm-batch.config.json');
      await writeFile(
        second,
        JSON.stringify({
          ...cfg,
          instanceId: 'ldm-2',
          database: pg ? cfg.database : abs(cfg.database),
          spool: { ...cfg.spool, root: abs(cfg.spool.root) },
          signing: { keyFile: abs(cfg.signing.keyFile), certFile: abs(cfg.signing.certFile) },
        }),
      );
    }, 60_000);
    afterAll(async () => {
      await inst?.cleanup();
      await pg?.drop();
    });

    /** Drops a fresh request and returns its name. */
    async function drop(): Promise<string> {
      const name = `S${++n}.xml`;
      await writeRequestFile(join(inst.spool, 'fin', 'in', name), S.header({ fileId: `STALE-${engine}-${n}` }), S.lines);
      return name;
    }

    /** Exactly once, from the outside: one DONE row held last by ldm-2, the request archived once under its own name, one response. */
    async function expectOnce(name: string, o: { delivered: boolean }): Promise<void> {
      const base = name.replace(/\.xml$/, '');
      const rows = JSON.parse((await inst.cli(['batches', 'list', '--limit', '1000', '--json'])).stdout) as { id: number; fileName: string; state: string; errorCode?: string | null }[];
      const mine = rows.filter((b) => b.fileName === name);
      expect(mine.map((b) => `${b.state}${b.errorCode ? ` ${b.errorCode}` : ''}`), `journal of ${name}`).toEqual(['DONE']);
      const shown = JSON.parse((await inst.cli(['batches', 'show', String(mine[0].id), '--json'])).stdout) as { instanceId: string; archiveName: string; attempts: number };
      expect(shown.instanceId).toBe('ldm-2');
      expect(shown.archiveName).toBe(`archive/${name}`);
      expect(shown.attempts).toBe(2);
      const spool = async (folder: string): Promise<string[]> => (await readdir(join(inst.spool, 'fin', folder))).filter((f) => f.startsWith(base)).sort();
      expect(await spool('archive')).toEqual([name, `${base}.${mine[0].id}.response.xml`].sort());
      expect(await spool('in')).toEqual([]);
      expect(await spool('error')).toEqual([]);
      expect(await spool('out')).toEqual(o.delivered ? [`${base}.response.xml`] : []);
      if (o.delivered) {
        const out = await readFile(join(inst.spool, 'fin', 'out', `${base}.response.xml`));
        expect(out.equals(await readFile(join(inst.spool, 'fin', 'archive', `${base}.${mine[0].id}.response.xml`)))).toBe(true);
      }
      const leftovers = (await readdir(join(inst.spool, 'fin', 'in'))).concat(await readdir(join(inst.spool, 'fin', 'out'))).filter((f) => f.startsWith('.') || f.includes('ldm-processing'));
      expect(leftovers).toEqual([]);
    }

    /** Every line with a valid SSIN (all but the scenario's MSG00011 line) is logged once under the batch: none doubled, none lost. */
    async function expectAuditedOnce(name: string): Promise<void> {
      const rows = JSON.parse((await inst.cli(['batches', 'list', '--limit', '1000', '--json'])).stdout) as { id: number; fileName: string }[];
      const id = rows.find((b) => b.fileName === name)?.id;
      const db = await openDatabase(parseDatabaseSpec(database));
      try {
        expect(await countAuditLines(db, id), `audit entries of ${name}`).toBe(S.lines.filter((l) => l.expect !== 'MSG00011').length);
      } finally {
        await db.destroy();
      }
    }

    /** The stale instance noticed it lost the batch, and nobody failed it. */
    function expectStoodDown(stale: Run, holder: Run): void {
      expect(named(stale, 'batch.lease_lost').length).toBe(1);
      expect(named(stale, 'batch.failed')).toEqual([]);
      expect(named(holder, 'batch.failed')).toEqual([]);
      expect(named(holder, 'batch.takeover').length).toBe(1);
    }

    it('the new holder finds the request already moved to the archive name the stale holder recorded (frozen between recording and moving)', async () => {
      const name = await drop();
      const stale = runOnce(first, 'disposing');
      await stopped(stale, 'disposing');
      await sleep(LEASE_SECONDS * 1000 + 300);
      // The new holder takes the batch over and gets as far as just before its own disposal…
      const holder = runOnce(second, 'kept');
      await stopped(holder, 'kept');
      // …then the stale one wakes and moves the request to the name it recorded.
      expect(await exit(stale, true)).toBe('exit 0');
      expect(await exit(holder, true)).toBe('exit 0');
      expectStoodDown(stale, holder);
      expect(named(holder, 'batch.moved_already').map((e) => e.archiveName)).toEqual([`archive/${name}`]);
      await expectOnce(name, { delivered: true });
    }, 60_000);

    it('the stale holder wakes after the new holder finished the batch and stands down', async () => {
      const name = await drop();
      const stale = runOnce(first, 'disposing');
      await stopped(stale, 'disposing');
      await sleep(LEASE_SECONDS * 1000 + 300);
      const holder = runOnce(second);
      expect(await exit(holder)).toBe('exit 0');
      expect(await exit(stale, true)).toBe('exit 0');
      expectStoodDown(stale, holder);
      await expectOnce(name, { delivered: true });
    }, 60_000);

    /**
     * The stale holder freezes at `staleAt`; once its lease ran out the new holder runs (to its
     * end, or until it freezes at `holderAt`, and then the stale one wakes first). Whatever the
     * order, the stale one stands down and every line is logged once.
     */
    async function auditRace(staleAt: string, holderAt?: string): Promise<void> {
      const name = await drop();
      const stale = runOnce(first, staleAt);
      await stopped(stale, staleAt);
      await sleep(LEASE_SECONDS * 1000 + 300);
      const holder = runOnce(second, holderAt);
      if (holderAt === undefined) {
        expect(await exit(holder)).toBe('exit 0');
        expect(await exit(stale, true)).toBe('exit 0');
      } else {
        await stopped(holder, holderAt);
        expect(await exit(stale, true)).toBe('exit 0');
        expect(await exit(holder, true)).toBe('exit 0');
      }
      expectStoodDown(stale, holder);
      await expectOnce(name, { delivered: true });
      await expectAuditedOnce(name);
    }

    // Seen in the three-daemon test: the stale holder's audit write landed after the new holder's,
    // and every line of that batch was logged twice.
    it('the stale holder wakes just before writing its audit entries, after the new holder finished: its write is refused, each line is logged once', async () => {
      await auditRace('audit-write');
    }, 60_000);

    it('both holders about to write their audit entries, the stale one first: its write is refused and the new holder\'s stands', async () => {
      await auditRace('audit-write', 'audit-write');
    }, 60_000);

    // A holder frozen inside its audit transaction: the fence renewed its lease in that transaction
    // and holds the batch row, so the other instance's take-over waits, until PostgreSQL ends the
    // frozen session (idle in a transaction longer than a lease, at least 5 s) and rolls its write
    // back. Then the take-over goes through, while the frozen one still sleeps. (Without the fence
    // the other took the batch over at once, its own audit write waited for the frozen one's rows,
    // and would then have added its entries to them: each line logged twice.) PostgreSQL only: on
    // SQLite a write transaction locks the whole file, and several instances share PostgreSQL.
    it.skipIf(engine === 'SQLite')('a holder frozen in the middle of its audit write: the other instance takes over once the server ends the frozen transaction, each line is logged once', async () => {
      await auditRace('audit-writing');
    }, 60_000);

    it('the request moves away between the new holder finding it in in/ and reading it', async () => {
      const name = await drop();
      const stale = runOnce(first, 'disposing');
      await stopped(stale, 'disposing');
      await sleep(LEASE_SECONDS * 1000 + 300);
      const holder = runOnce(second, 'located');
      await stopped(holder, 'located');
      expect(await exit(stale, true)).toBe('exit 0');
      expect(await exit(holder, true)).toBe('exit 0');
      expectStoodDown(stale, holder);
      expect(named(holder, 'batch.request_moved').length).toBe(1);
      await expectOnce(name, { delivered: true });
    }, 60_000);

    it('the response the stale holder delivered is taken by the client while the new holder compares it: not delivered again, not failed', async () => {
      const name = await drop();
      const stale = runOnce(first, 'delivered');
      await stopped(stale, 'delivered');
      await sleep(LEASE_SECONDS * 1000 + 300);
      // The new holder finds the stale one's response in out/ (same name): it compares before recording it as delivered…
      const holder = runOnce(second, 'delivered');
      await stopped(holder, 'delivered');
      await rm(join(inst.spool, 'fin', 'out', name.replace(/\.xml$/, '.response.xml'))); // …and the client fetches it meanwhile
      expect(await exit(holder, true)).toBe('exit 0');
      expect(await exit(stale, true)).toBe('exit 0');
      expectStoodDown(stale, holder);
      expect(named(holder, 'response.taken').length).toBe(1);
      await expectOnce(name, { delivered: false });
    }, 60_000);
  });
}
