#!/usr/bin/env node
// node scripts/audit-bench.mjs [--lines 10000000] [--persons 2000000] [--batches 20] [--queries 200] [--dir bench-work-audit]
//
// The packed audit register at scale (issue 15 item 4): an instance (`ldm-batch init`) whose audit
// register holds --lines audited lines (default 10M) written by the real writer (AuditSink, the one
// the resolver uses) in --batches batches over --persons persons (random, seeded), then:
//   write   lines/s of AuditSink per batch, rows, database size per line
//   query   auditForSsin (the query `ldm-batch audit --ssin` runs) for --queries random persons,
//           in process: median, p95, max (ms) — and `ldm-batch audit --ssin S --json` through the
//           CLI for 5 of them (wall, Node start-up included)
// The register is built once per (lines, persons, batches) under --dir (git-ignored) and reused;
// run `npm run build` first. Not a test: figures only (wall-clock goals are never asserted).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'ldm-batch.js');
const DIST = join(ROOT, 'dist');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : process.argv[i + 1];
};
const LINES = Number(arg('lines', 10_000_000));
const PERSONS = Number(arg('persons', 2_000_000));
const BATCHES = Number(arg('batches', 20));
const QUERIES = Number(arg('queries', 200));
const DIR = resolve(ROOT, arg('dir', 'bench-work-audit'), `${LINES}-${PERSONS}-${BATCHES}`);

const { openDatabase } = await import(join(DIST, 'store', 'db.js'));
const { AuditSink } = await import(join(DIST, 'audit', 'record.js'));
const { auditForSsin, countAuditLines } = await import(join(DIST, 'audit', 'query.js'));
const { makeSsin } = await import(join(DIST, 'domain', 'ssin.js'));

/** xorshift32, seeded: the same register every time. */
let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 2 ** 32;
};
/** Person i → a valid SSIN (distinct for i < 66 × 12 × 28 × 300). */
function ssinOf(i) {
  const serial = 1 + (i % 300);
  const j = Math.floor(i / 300);
  return makeSsin({ year: 1940 + (j % 66), month: 1 + (Math.floor(j / 66) % 12), day: 1 + (Math.floor(j / 792) % 28) }, serial);
}

const dbFile = join(DIR, 'instance', 'data', 'ldm-batch.sqlite');
const config = join(DIR, 'instance', 'ldm-batch.config.json');
const CODES = ['MSG00000', 'MSG00000', 'MSG00000', 'MSG00100', 'MSG00012', 'MSG00005'];
const t = (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

if (!existsSync(join(DIR, 'done'))) {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const init = spawnSync(process.execPath, [BIN, 'init', join(DIR, 'instance')], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  const db = await openDatabase({ client: 'sqlite', filename: dbFile });
  await db('clients').insert({ client_id: 'fin', cbe_number: '0308357159', sector: 17, name: 'FOD Financiën' });
  const perBatch = Math.ceil(LINES / BATCHES);
  let written = 0;
  let writeMs = 0;
  for (let b = 0; b < BATCHES; b++) {
    const at = new Date(Date.UTC(2025, 0, 1) + b * 9 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const [row] = await db('batches').insert({ client_id: 'fin', file_name: `B${b}.xml`, size: 1, sha256: '0'.repeat(64), state: 'DONE', reference_date: at.slice(0, 10), processed_at: at, created_at: at, updated_at: at }).returning('id');
    const batchId = Number(typeof row === 'object' ? row.id : row);
    const sink = new AuditSink(db, { batchId, clientId: 'fin', service: 'LivingWagesWithAmount', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', deliberation: 'IVC/KSZG/23/123', consultedAt: at });
    const n = Math.min(perBatch, LINES - written);
    const t0 = performance.now();
    for (let seq = 1; seq <= n; seq++) {
      const due = sink.add(seq, ssinOf(Math.floor(rnd() * PERSONS)), 1 + (seq % 3), CODES[seq % CODES.length]);
      if (due) await due;
    }
    await sink.close();
    const ms = performance.now() - t0;
    writeMs += ms;
    written += n;
    console.log(`batch ${b + 1}/${BATCHES}: ${n.toLocaleString('en')} lines written in ${(ms / 1000).toFixed(1)} s (${Math.round(n / (ms / 1000)).toLocaleString('en')} lines/s, generation included)`);
  }
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.destroy();
  console.log(`written: ${written.toLocaleString('en')} lines in ${(writeMs / 1000).toFixed(1)} s`);
  spawnSync('touch', [join(DIR, 'done')]);
}

const db = await openDatabase({ client: 'sqlite', filename: dbFile });
const rows = Number((await db('audit_persons').count({ n: '*' }))[0].n);
const lines = await countAuditLines(db);
const bytes = statSync(dbFile).size;
console.log(`register: ${lines.toLocaleString('en')} audited lines in ${rows.toLocaleString('en')} (SSIN, batch) rows and ${BATCHES} batch rows; database ${(bytes / 2 ** 20).toFixed(0)} MiB (${(bytes / lines).toFixed(1)} bytes per line, the store's empty tables included)`);
const picks = Array.from({ length: QUERIES }, () => ssinOf(Math.floor(rnd() * PERSONS)));
await auditForSsin(db, picks[0], '2000-01-01'); // warm the statement and the first pages
const ms = [];
let found = 0;
for (const s of picks) {
  const t0 = performance.now();
  const r = await auditForSsin(db, s, '2000-01-01');
  ms.push(performance.now() - t0);
  found += r.length;
}
ms.sort((a, b) => a - b);
const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
console.log(`auditForSsin, ${QUERIES} random persons (${(found / QUERIES).toFixed(1)} lines each on average): median ${t(q(0.5))}, p95 ${t(q(0.95))}, max ${t(ms[ms.length - 1])}`);
await db.destroy();
const cli = [];
for (const s of picks.slice(0, 5)) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'audit', '--ssin', s, '--since', '2000-01-01', '--json', '--config', config], { encoding: 'utf8' });
  cli.push(performance.now() - t0);
  if (r.status !== 0) throw new Error(`audit failed: ${r.stderr}`);
  JSON.parse(r.stdout);
}
const start = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
const t0 = performance.now();
spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
const bare = performance.now() - t0;
console.log(`ldm-batch audit --ssin S --json through the CLI, 5 persons: ${cli.map((x) => t(x)).join(', ')} (ldm-batch --version alone: ${t(bare)}${start.status === 0 ? '' : ', failed'})`);
console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length} cores`);
