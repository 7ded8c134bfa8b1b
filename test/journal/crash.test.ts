// Crash safety of the spool lifecycle: `run-once` is killed with SIGKILL at every named step and
// at random moments; after a restart each request has exactly one response, byte-identical to an
// uncrashed run with the same clock, and the journal holds exactly one finished batch for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFile, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeInstance, BIN, type Instance } from '../helpers/instance.js';
import { rng } from '../../src/generate/dataset.js';
import { writeRequestFile, type RequestSpec } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';
import { createTempDatabase, type TempDatabase } from '../helpers/postgres.js';

/** LDM_TEST_CRASH_DB=postgres runs the same loop on PostgreSQL (npm test runs it on SQLite; test/multi covers PostgreSQL with daemons). */
const ON_PG = process.env.LDM_TEST_CRASH_DB === 'postgres';
const databases: TempDatabase[] = [];

const CLOCK = '2026-02-15T03:00:00Z';
const POINTS = ['claimed', 'recorded', 'located', 'answered', 'delivered', 'kept', 'disposing', 'disposed', 'completed'];
// One kill per named step: a second kill at the same step runs the same code path again (three per
// step cost CI two minutes and found nothing the first did not).
const RANDOM_KILLS = 12;
const LINES_PER_FILE = 3000;

let crash: Instance;
let baseline: Instance;
const outcomes: { point: string; file: string; result: string }[] = [];

async function seed(inst: Instance): Promise<void> {
  const cfg = JSON.parse(await readFile(inst.config, 'utf8'));
  cfg.leaseSeconds = 0.3; // a dead holder's batch is taken over quickly
  await writeFile(inst.config, JSON.stringify(cfg));
  await S.importScenario(inst);
  await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
}

function runOnce(inst: Instance, env: Record<string, string>, killAfterMs?: number): Promise<number | string> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'run-once', '--as-of', S.AS_OF, '--config', inst.config], {
      env: { ...process.env, LDM_BATCH_CLOCK: CLOCK, LDM_BATCH_LOG_LEVEL: 'error', ...env },
      stdio: 'ignore',
    });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      done(signal ?? code ?? -1);
    });
  });
}

function lines(seed: number): RequestSpec[] {
  const r = rng(seed);
  const pool = S.lines;
  return Array.from({ length: LINES_PER_FILE }, () => pool[Math.floor(r() * pool.length)]);
}

async function drop(inst: Instance, name: string, seed: number): Promise<void> {
  await writeRequestFile(join(inst.spool, 'fin', 'in', name), S.header({ fileId: name.replace(/\.xml$/, '') }), lines(seed));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const db = async (): Promise<string | undefined> => {
    if (!ON_PG) return undefined;
    const t = await createTempDatabase();
    databases.push(t);
    return t.url;
  };
  crash = await makeInstance({ database: await db() });
  baseline = await makeInstance({ database: await db() });
  // Same signing key in both, so the two runs can be compared byte for byte.
  for (const f of ['signing-key.pem', 'signing-cert.pem']) await copyFile(join(crash.dir, 'keys', f), join(baseline.dir, 'keys', f));
  await seed(crash);
  await seed(baseline);
}, 120_000);
afterAll(async () => {
  await crash?.cleanup();
  await baseline?.cleanup();
  for (const d of databases) await d.drop();
});

describe('SIGKILL at any point, then restart', () => {
  const cases = [...POINTS.map((p) => ({ point: p, k: 1 })), ...Array.from({ length: RANDOM_KILLS }, (_, k) => ({ point: 'random', k }))];

  it(`leaves exactly one byte-identical response per request (${cases.length} kills)`, async () => {
    const r = rng(42);
    const names = cases.map((c, i) => `C${String(i).padStart(3, '0')}-${c.point}.xml`);
    // The uncrashed reference: all files in one run; its duration per file calibrates random kills.
    for (const [i, name] of names.entries()) await drop(baseline, name, i);
    await drop(baseline, 'calibrate.xml', 999);
    expect(await runOnce(baseline, {})).toBe(0);
    const started = Date.now();
    await drop(crash, 'warmup.xml', 998);
    expect(await runOnce(crash, {})).toBe(0);
    const oneFileMs = Date.now() - started;
    let kills = 0;
    for (const [i, c] of cases.entries()) {
      const name = names[i];
      await drop(crash, name, i);
      const first = c.point === 'random' ? await runOnce(crash, {}, Math.floor(oneFileMs * (0.2 + 0.8 * r()))) : await runOnce(crash, { LDM_BATCH_CRASH_AT: c.point });
      if (first === 'SIGKILL') kills++;
      await sleep(350); // let the dead holder's lease expire
      const second = await runOnce(crash, {});
      outcomes.push({ point: c.point, file: name, result: `first run ${first}, restart ${second}` });

      const responseName = name.replace(/\.xml$/, '.response.xml');
      const out = await readdir(join(crash.spool, 'fin', 'out'));
      expect(out.filter((n) => n.startsWith(name.replace(/\.xml$/, ''))), `${name} at ${c.point}`).toEqual([responseName]);
      const got = await readFile(join(crash.spool, 'fin', 'out', responseName));
      const want = await readFile(join(baseline.spool, 'fin', 'out', responseName));
      expect(got.equals(want), `${name} at ${c.point}: response differs from the uncrashed run`).toBe(true);
      expect(await readdir(join(crash.spool, 'fin', 'archive'))).toContain(name);
    }
    // One journal read for all (a batch never leaves DONE): exactly one finished batch per file.
    const batches = JSON.parse((await crash.cli(['batches', 'list', '--limit', '1000', '--json'])).stdout) as { fileName: string; state: string }[];
    for (const [i, name] of names.entries()) {
      expect(batches.filter((b) => b.fileName === name).map((b) => b.state), `${name} at ${cases[i].point}`).toEqual(['DONE']);
    }
    const inFlight = JSON.parse((await crash.cli(['batches', 'list', '--state', 'CLAIMED', '--json'])).stdout);
    expect(inFlight).toEqual([]);
    const leftovers = (await readdir(join(crash.spool, 'fin', 'in'))).concat(await readdir(join(crash.spool, 'fin', 'out'))).filter((n) => n.startsWith('.') || n.includes('ldm-processing'));
    expect(leftovers).toEqual([]);
    // Every named step kills; a random kill may land after the run ended (most land).
    expect(kills).toBeGreaterThanOrEqual(POINTS.length + RANDOM_KILLS / 2);
    // The table the closing note quotes.
    console.log(`${kills} SIGKILLs landed out of ${cases.length} runs (one file takes ~${oneFileMs} ms)`);
    console.log(['kill point\tfile\toutcome', ...outcomes.map((o) => `${o.point}\t${o.file}\t${o.result}`)].join('\n'));
  }, 600_000);
});
