#!/usr/bin/env node
// npm run bench [-- --lines N] [--runs R] [--persons P] [--seed S] [--import bulk|csv] [--sample K] [--no-xmlsec]
//                 [--mix bench|all] [--distinct] [--store-rows N] [--replicate K] [--reference FILE] [--no-full-verify]
// (--reference: a response of the same request made earlier, e.g. by the engine before a change;
// run 1's response must be byte-identical to it)
// (--store-rows N: a generated store of about N amount rows; --replicate K: the store K times over,
// the copies under other SSINs, made with SQL in minutes where generating 20M rows takes hours on
// this machine: the request's persons are the original ones, the copies weigh on the store and the
// read model — national scale for memory and build time — not on the answers)
// (--mix all: every status code of the service, MSG00005/00006/00008 too; --distinct: every SSIN at
// most once, so --lines must stay well below the number of persons)
//
// End-to-end benchmark of one big yearly batch on the embedded default (SQLite), through the
// real CLI (bin/ldm-batch.js, compiled dist/; run `npm run build` first):
//
//   store    `ldm-batch init`, then a generated data set (seeded): clients through `ldm-batch
//            import`, persons/repertory/amounts through the same import checks and tables but a
//            bulk write (generate/bulkLoad.ts; `--import csv` uses `ldm-batch import` throughout).
//            Built once per (seed, persons) under bench-work/ and copied fresh for every run.
//   request  N lines (default 1,000,000): ~70 % DATA_FOUND, 20 % NO_DATA_FOUND, 5 % MSG00012,
//            5 % bad SSIN; half yearly, half monthly; some PARTNER lines (generate/requests.ts).
//   timed    `ldm-batch process` (wall, lines/s, peak RSS, per-stage times via LDM_BATCH_TIMINGS=1),
//            `xmllint --stream --schema` of the same file (and the ratio), `ldm-batch verify` of the
//            response against `xmlsec1 --verify` (wall and peak RSS of each).
//   checked  xmlsec1 and `ldm-batch verify` accept the response; the status of every line is the
//            one it was generated for; the status mix; audit rows; and a sample of lines recomputed
//            independently (saxes reader, full amount rows, the domain rules) matches byte for byte.
// Runs 3 times by default (--runs R): the figures are printed per run and as medians (the issue's
// goals are medians of 3); the read model is built R times too. Generation is not timed.
// CPU time (user + sys, all threads) is the figure to compare on a shared machine: wall time
// follows the load average, which is printed with every run.
// The timed commands run bin/ldm-batch.js itself, as an operator does (`ldm-batch …`): its
// first line sets the process's memory settings (README "Memory settings").
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { BIN, DIST, HAVE_TIME, REFERENCE_DATE, ROOT, buildStore, fmt, int, load, mb, measure, median } from './bench-lib.mjs';

/**
 * The store's copy for a timed step, written to disk before the step starts: a 1.4 GB copy left in
 * the page cache was written back while `process` ran, and its commits waited for it — 2.5–2.6 s
 * of a million-line run's wall time outside the answer itself, against 0.9–1.1 s with the copy on
 * disk first (README "Benchmark").
 */
function copyStore(from, to) {
  copyFileSync(from, to);
  const fd = openSync(to, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const STATUS_CODES = ['MSG00000', 'MSG00100', 'MSG00012', 'MSG00011', 'MSG00005', 'MSG00006', 'MSG00008'];
const TARGET_MIXES = {
  bench: { MSG00000: 0.7, MSG00100: 0.2, MSG00012: 0.05, MSG00011: 0.05 },
  all: { MSG00000: 0.6, MSG00100: 0.15, MSG00012: 0.05, MSG00011: 0.05, MSG00005: 0.05, MSG00006: 0.05, MSG00008: 0.05 },
};

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const o = { replicate: 1, lines: 1_000_000, runs: 3, persons: 200_000, seed: 42, import: 'bulk', sample: 200, xmlsec: true, work: join(ROOT, 'bench-work'), mix: 'bench', distinct: false, fullVerify: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = (v) => {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a whole number ≥ 1, got ${v}`);
      return n;
    };
    if (a === '--lines') o.lines = count(next());
    else if (a === '--runs') o.runs = count(next());
    else if (a === '--persons') o.persons = count(next());
    else if (a === '--seed') o.seed = count(next());
    else if (a === '--sample') o.sample = count(next());
    else if (a === '--import') o.import = next();
    else if (a === '--work') o.work = resolve(next());
    else if (a === '--no-xmlsec') o.xmlsec = false;
    else if (a === '--no-full-verify') o.fullVerify = false;
    else if (a === '--mix') o.mix = next();
    else if (a === '--distinct') o.distinct = true;
    else if (a === '--reference') o.reference = resolve(next());
    else if (a === '--replicate') o.replicate = count(next());
    else if (a === '--store-rows') o.persons = Math.max(1000, Math.round(count(next()) / 14.35)); // ≈ 14.35 amount rows per generated person
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split("\n").slice(1, 31).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (o.import !== 'bulk' && o.import !== 'csv') throw new Error('--import is bulk or csv');
  if (!(o.mix in TARGET_MIXES)) throw new Error('--mix is bench or all');
  return o;
}

// ------------------------------------------------------------------ the store and the request

function baseStore(o) {
  return buildStore(join(o.work, `store-s${o.seed}-p${o.persons}${o.import === 'csv' ? '-csv' : ''}`), o);
}

/**
 * The base store K times over (--replicate K): copy k of every person, repertory row and amount row
 * has the SSIN's first two digits shifted by k (mod 100); a copy that would collide with an
 * original person is left out. One store version bump, as a bulk load makes. The replica has no
 * unique keys on amounts (see below): it is a bench store, never imported into.
 */
async function replicateStore(o, base) {
  const dir = `${base.dir}-x${o.replicate}`;
  const ready = join(dir, 'ready.json');
  if (existsSync(ready)) return { dir, ...JSON.parse(readFileSync(ready, 'utf8')) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`replicating the store ${o.replicate} times in ${dir} (not timed)…`);
  const t0 = Date.now();
  cpSync(join(base.dir, 'instance'), join(dir, 'instance'), { recursive: true });
  const dbFile = join(dir, 'instance', 'data', 'ldm-batch.sqlite');
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  rmSync(join(dir, 'instance', 'data', 'readmodel'), { recursive: true, force: true });
  copyFileSync(join(base.dir, 'pristine.sqlite'), dbFile);
  const { openDatabase } = await import(join(DIST, 'store', 'db.js'));
  const { bumpStoreVersion } = await import(join(DIST, 'store', 'storeVersion.js'));
  const db = await openDatabase({ client: 'sqlite', filename: dbFile });
  const counts = {};
  try {
    await db.raw(`ATTACH DATABASE ? AS src`, [join(base.dir, 'pristine.sqlite')]);
    // Faster copies: a big page cache, no fsync, and without the two unique keys of amounts
    // (natural key, identity), which only imports check; the lookup indexes the read model's
    // build reads in SSIN and partner order stay.
    await db.raw('PRAGMA cache_size = -524288');
    await db.raw('PRAGMA synchronous = OFF');
    for (const r of await db.raw(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'amounts' AND sql LIKE 'CREATE UNIQUE%'`)) await db.raw(`DROP INDEX "${r.name}"`);
    const shift = (col, k) => `CASE WHEN ${col} IS NULL THEN NULL ELSE printf('%02d', (CAST(substr(${col}, 1, 2) AS INTEGER) + ${k}) % 100) || substr(${col}, 3) END`;
    for (let k = 1; k < o.replicate; k++) {
      await db.raw(`INSERT OR IGNORE INTO persons (ssin, replaced_by) SELECT ${shift('ssin', k)}, ${shift('replaced_by', k)} FROM src.persons`);
      await db.raw(
        `INSERT OR IGNORE INTO repertory (ssin, sector, institution_cbe, quality_code, start_date, end_date) ` +
          `SELECT ${shift('ssin', k)}, sector, institution_cbe, quality_code, start_date, end_date FROM src.repertory`,
      );
      await db.raw(
        `INSERT OR IGNORE INTO amounts (ssin, partner_ssin, ocmw_cbe, benefit_type, category, month, grant_from, grant_to, amount_cents, paid_on, status, payment_id, identity) ` +
          `SELECT ${shift('ssin', k)}, ${shift('partner_ssin', k)}, ocmw_cbe, benefit_type, category, month, grant_from, grant_to, amount_cents, paid_on, status, ` +
          `CASE WHEN payment_id IS NULL THEN NULL ELSE '${k}:' || payment_id END, '${k}:' || identity FROM src.amounts WHERE ${shift('ssin', k)} NOT IN (SELECT ssin FROM src.persons)`,
      );
      console.log(`  copy ${k} of ${o.replicate - 1} done (${fmt((Date.now() - t0) / 1000, 0)} s)`);
    }
    await db.raw('DETACH DATABASE src');
    await bumpStoreVersion(db);
    for (const t of ['persons', 'repertory', 'amounts']) counts[t] = Number((await db(t).count({ n: '*' }))[0].n);
    await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await db.destroy();
  }
  copyFileSync(dbFile, join(dir, 'pristine.sqlite'));
  const info = { counts, seconds: (Date.now() - t0) / 1000, replicaOf: base.dir };
  writeFileSync(ready, JSON.stringify(info, null, 2));
  console.log(`  store ready in ${fmt(info.seconds, 0)} s: ${Object.entries(counts).map(([k, v]) => `${int(v)} ${k}`).join(', ')}`);
  return { dir, ...info };
}

async function buildRequest(o, store) {
  const tag = `${o.lines}${o.mix === 'bench' ? '' : `-${o.mix}`}${o.distinct ? '-distinct' : ''}`;
  const file = join(store.dir, `request-${tag}.xml`);
  const expectedFile = join(store.dir, `request-${tag}.expected`);
  if (existsSync(file) && existsSync(expectedFile)) return { file, expected: readFileSync(expectedFile) };
  console.log(`writing a ${int(o.lines)}-line request (not timed)…`);
  const { generateDataset, rng, DEMO_CLIENTS } = await import(join(DIST, 'generate', 'dataset.js'));
  const { readOcmwList } = await import(join(DIST, 'generate', 'ocmwList.js'));
  const { mixedLines, writeRequestFile, BENCH_MIX, ALL_CODES_MIX } = await import(join(DIST, 'generate', 'requests.js'));
  const mix = { ...(o.mix === 'all' ? ALL_CODES_MIX : BENCH_MIX), distinct: o.distinct };
  const ds = await generateDataset({ out: join(store.dir, 'csv'), persons: o.persons, seed: o.seed, referenceDate: REFERENCE_DATE, ocmws: await readOcmwList(), writeFiles: false });
  const c = DEMO_CLIENTS[0];
  const expected = Buffer.alloc(o.lines);
  let n = 0;
  function* specs() {
    for (const l of mixedLines(ds.persons, rng(o.seed * 7919 + o.lines), o.lines, REFERENCE_DATE, { clientIndex: 0, qualityCodes: c.qualityCodes }, mix)) {
      expected[n++] = STATUS_CODES.indexOf(l.expected);
      yield l.spec;
    }
  }
  const header = { fileId: `BENCH-${o.seed}-${tag}`, senderCbe: c.cbeNumber, service: c.service, legalContext: c.legalContext, environment: 'PROD', createdAt: `${REFERENCE_DATE}T03:00:00Z` };
  await writeRequestFile(`${file}.tmp`, header, specs());
  copyFileSync(`${file}.tmp`, file);
  rmSync(`${file}.tmp`);
  writeFileSync(expectedFile, expected);
  return { file, expected };
}

// ------------------------------------------------------------------ correctness

/** Statuses of every line, and the XML of the sampled lines, from the response file. */
async function readResponse(path, wanted) {
  const statuses = new Map();
  const blocks = new Map();
  let seq = 0;
  let block;
  const rl = createInterface({ input: createReadStream(path, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.startsWith('    <Response seq="')) {
      seq = Number(line.slice(19, line.indexOf('"', 19)));
      block = wanted.has(seq) ? [line] : undefined;
    } else if (block) block.push(line);
    if (line.startsWith('      <Status code="')) statuses.set(seq, line.slice(20, 28));
    if (block && line === '    </Response>') {
      blocks.set(seq, `${block.join('\n')}\n`);
      block = undefined;
    }
  }
  return { statuses, blocks };
}

/**
 * The lines of the bench's request file, read independently of src/ (the saxes reader this used
 * moved to test/): the generator writes one Request per text line, so a line-by-line read with
 * regular expressions is enough; entities are not used by the generator.
 */
async function* benchRequestLines(path) {
  const rl = createInterface({ input: createReadStream(path, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  const unescape = (t) => t.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);
  let n = 0;
  for await (const text of rl) {
    n++;
    const r = /<Request seq="(\d+)">(.*)<\/Request>/.exec(text);
    if (!r) continue;
    const body = r[2];
    const line = { seq: Number(r[1]), line: n, ssin: /<Ssin>([^<]*)<\/Ssin>/.exec(body)[1].trim() };
    const ticket = /<Ticket>([^<]*)<\/Ticket>/.exec(body);
    if (ticket) line.ticket = unescape(ticket[1]);
    const role = /<Role>([^<]*)<\/Role>/.exec(body);
    if (role) line.role = role[1].trim();
    const year = /<Year>\s*(\d+)\s*<\/Year>/.exec(body);
    const range = /<(Months|Dates)><From>([^<]*)<\/From><To>([^<]*)<\/To><\/\1>/.exec(body);
    line.period = year ? { kind: 'year', year: Number(year[1]) } : { kind: range[1] === 'Months' ? 'months' : 'dates', from: range[2].trim(), to: range[3].trim() };
    yield line;
  }
}

/**
 * The sampled lines answered again, independently of the pipeline's fast paths: the saxes reader,
 * every amount row of the person (not only the requested months), the domain rules, the writer's
 * line serialization. The logic is the original per-line resolution.
 */
async function recompute(o, store, requestFile, wanted) {
  const { openDatabase } = await import(join(DIST, 'store', 'db.js'));
  const { countAuditLines } = await import(join(DIST, 'audit', 'query.js'));
  const { lookupPersons } = await import(join(DIST, 'store', 'lookupPersons.js'));
  const { lookupIntegrations } = await import(join(DIST, 'store', 'lookupIntegrations.js'));
  const { lookupAmounts } = await import(join(DIST, 'store', 'lookupAmounts.js'));
  const { isValidSsin } = await import(join(DIST, 'domain', 'ssin.js'));
  const { periodBounds } = await import(join(DIST, 'domain', 'period.js'));
  const { findIntegration } = await import(join(DIST, 'domain', 'finality.js'));
  const { decideLine } = await import(join(DIST, 'domain', 'lineStatus.js'));
  const { aggregateMonths, aggregateYear } = await import(join(DIST, 'domain', 'aggregate.js'));
  const { applyFieldProfile, periodKindAllowed } = await import(join(DIST, 'services', 'amounts', 'profile.js'));
  const { responseLineXml } = await import(join(DIST, 'response', 'writer.js'));
  const { loadClients } = await import(join(DIST, 'store', 'clients.js'));
  const db = await openDatabase({ client: 'sqlite', filename: join(store.dir, 'pristine.sqlite') });
  const out = new Map();
  try {
    const client = (await loadClients(db)).find((c) => c.clientId === 'fin');
    const authorization = client.authorizations.find((a) => a.service === 'LivingWagesWithAmount');
    const finality = { senderCbe: client.cbeNumber, sector: client.sector, allowedQualityCodes: authorization.qualityCodes };
    for await (const line of benchRequestLines(requestFile)) {
      if (!wanted.has(line.seq)) continue;
      const valid = isValidSsin(line.ssin, Number(REFERENCE_DATE.slice(0, 4)));
      const persons = await lookupPersons(db, valid ? [line.ssin] : []);
      const integrations = await lookupIntegrations(db, { institutionCbe: client.cbeNumber, sector: client.sector }, valid ? [line.ssin] : []);
      let integration;
      try {
        integration = findIntegration(integrations.get(line.ssin) ?? [], finality, periodBounds(line.period));
      } catch {
        integration = undefined;
      }
      let decision = decideLine({ ssin: line.ssin, period: line.period, service: 'LivingWagesWithAmount', referenceDate: REFERENCE_DATE, person: persons.get(line.ssin), integrationFound: integration !== undefined });
      if (!periodKindAllowed(line.period.kind, authorization.fields) && (decision.code === 'CONTINUE' || decision.code === 'MSG00012')) decision = { code: 'MSG00008' };
      const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
      let answered;
      if (decision.code !== 'CONTINUE') answered = { ...base, status: decision.code, newSsin: decision.newSsin };
      else {
        const role = line.role ?? 'BENEFICIARY';
        const rows = (await lookupAmounts(db, role, [line.ssin])).get(line.ssin) ?? [];
        let r;
        if (line.period.kind === 'year') {
          const totals = aggregateYear(rows, role, line.period.year, REFERENCE_DATE);
          r = totals.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', year: { year: line.period.year, totals } };
        } else {
          const months = aggregateMonths(rows, role, line.period.from, line.period.to, REFERENCE_DATE);
          r = months.entries.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', months };
        }
        answered = applyFieldProfile(r, authorization.fields);
      }
      out.set(line.seq, responseLineXml(answered));
    }
  } finally {
    await db.destroy();
  }
  return out;
}

async function check(o, store, request, responsePath, processJson, batchId) {
  const problems = [];
  const notes = [];
  if (processJson.outcome !== 'ANSWERED') problems.push(`outcome ${processJson.outcome}`);
  if (processJson.recordCount !== o.lines) problems.push(`recordCount ${processJson.recordCount}, expected ${o.lines}`);
  // the mix
  const counts = processJson.statusCounts ?? {};
  const TARGET_MIX = TARGET_MIXES[o.mix];
  const mix = Object.entries(TARGET_MIX).map(([code, target]) => {
    const share = (counts[code] ?? 0) / o.lines;
    if (Math.abs(share - target) > 0.02) problems.push(`${code} is ${(share * 100).toFixed(1)} % of the lines, expected about ${target * 100} %`);
    return `${code} ${(share * 100).toFixed(1)} %`;
  });
  const others = Object.keys(counts).filter((c) => !(c in TARGET_MIX));
  if (others.length > 0) problems.push(`unexpected status codes ${others.join(', ')}`);
  notes.push(`mix: ${mix.join(', ')}`);
  // every line, and a sample recomputed
  const r = ((seed) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648))(o.seed);
  const wanted = new Set();
  while (wanted.size < Math.min(o.sample, o.lines)) wanted.add(1 + Math.floor(r() * o.lines));
  const [{ statuses, blocks }, again] = await Promise.all([readResponse(responsePath, wanted), recompute(o, store, request.file, wanted)]);
  let wrongStatus = 0;
  let firstWrong;
  for (let seq = 1; seq <= o.lines; seq++) {
    if (statuses.get(seq) !== STATUS_CODES[request.expected[seq - 1]]) {
      wrongStatus++;
      firstWrong ??= `seq ${seq}: ${statuses.get(seq)} instead of ${STATUS_CODES[request.expected[seq - 1]]}`;
    }
  }
  if (wrongStatus > 0) problems.push(`${wrongStatus} line(s) with another status than generated for (first: ${firstWrong})`);
  else notes.push(`all ${int(o.lines)} statuses as generated`);
  let differ = 0;
  for (const seq of wanted) {
    if (blocks.get(seq) !== again.get(seq)) {
      if (differ++ === 0) problems.push(`recomputed line ${seq} differs:\n--- response\n${blocks.get(seq)}--- recomputed\n${again.get(seq)}`);
    }
  }
  if (differ === 0) notes.push(`${wanted.size} sampled lines recomputed independently: identical`);
  else problems.push(`${differ} of ${wanted.size} recomputed lines differ`);
  // audit rows
  const { openDatabase } = await import(join(DIST, 'store', 'db.js'));
  const { countAuditLines } = await import(join(DIST, 'audit', 'query.js'));
  const db = await openDatabase({ client: 'sqlite', filename: join(store.dir, 'instance', 'data', 'ldm-batch.sqlite') });
  try {
    const n = await countAuditLines(db, batchId);
    const expected = o.lines - (counts.MSG00011 ?? 0);
    if (n !== expected) problems.push(`${n} audit rows, expected ${expected}`);
    else notes.push(`${int(n)} audit rows`);
  } finally {
    await db.destroy();
  }
  return { problems, notes };
}

// ------------------------------------------------------------------ main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(join(DIST, 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  mkdirSync(o.work, { recursive: true });
  const base = await baseStore(o);
  const store = o.replicate > 1 ? await replicateStore(o, base) : base;
  const request = await buildRequest(o, store);
  const instance = join(store.dir, 'instance');
  const config = join(instance, 'ldm-batch.config.json');
  const cert = join(instance, 'keys', 'signing-cert.pem');
  const dbFile = join(instance, 'data', 'ldm-batch.sqlite');
  const responsePath = join(store.dir, `response-${o.lines}${o.mix === 'bench' ? '' : `-${o.mix}`}${o.distinct ? '-distinct' : ''}.xml`);
  const sizeMb = statSync(request.file).size / 1e6;
  const haveXmllint = spawnSync('xmllint', ['--version']).status === 0;
  const haveXmlsec = o.xmlsec && spawnSync('xmlsec1', ['--version']).status === 0;
  console.log(
    `ldm-batch bench: ${int(o.lines)} lines (${fmt(sizeMb, 1)} MB), store of ${int(o.persons)} persons ` +
      `(${Object.entries(store.counts).map(([k, v]) => `${int(v)} ${k}`).join(', ')}), seed ${o.seed}, reference date ${REFERENCE_DATE}; ` +
      `peak RSS from ${HAVE_TIME ? '/usr/bin/time' : '/proc/<pid>/status VmHWM'}`,
  );
  // The read model of the pristine store (src/readmodel): built once, timed, reused by every run
  // (each run starts from a copy of the same store version).
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  copyStore(join(store.dir, 'pristine.sqlite'), dbFile);
  const builds = [];
  for (let i = 1; i <= o.runs; i++) {
    const before = load();
    const rb = await measure(BIN, ['snapshot', 'rebuild', '--config', config, '--json']);
    if (rb.code !== 0) throw new Error(`ldm-batch snapshot rebuild failed (exit ${rb.code}):\n${rb.stdout}\n${rb.stderr}`);
    const built = JSON.parse(rb.stdout);
    builds.push({ seconds: built.seconds, wall: rb.wall, cpu: rb.cpu, peakMb: rb.peakMb });
    console.log(
      `read model v${built.storeVersion} (build ${i}/${o.runs}): ${fmt(built.bytes / 1e6, 1)} MB (${fmt(built.bytes / Math.max(1, built.counts.amounts), 1)} B per amount row), ` +
        `built in ${fmt(built.seconds)} s (command ${fmt(rb.wall)} s wall, cpu ${fmt(rb.cpu, 1)} s, peak RSS ${mb(rb.peakMb)}; goals ≤ 20 s, ≤ 256 MB) (load ${before})`,
    );
  }
  if (builds.length > 1) {
    const bm = (k) => median(builds.map((b) => b[k]));
    console.log(`read model build, median of ${builds.length}: ${fmt(bm('seconds'))} s (command ${fmt(bm('wall'))} s wall, cpu ${fmt(bm('cpu'), 1)} s, peak RSS ${mb(bm('peakMb'))})`);
  }
  const results = [];
  let failed = false;
  for (let i = 1; i <= o.runs; i++) {
    // a fresh copy of the store, so every run starts from the same state (empty audit log)
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
    copyStore(join(store.dir, 'pristine.sqlite'), dbFile);
    rmSync(responsePath, { force: true });
    const res = { load: load() };
    const p = await measure(BIN, ['process', request.file, '-o', responsePath, '--as-of', REFERENCE_DATE, '--config', config, '--json'], { env: { LDM_BATCH_TIMINGS: '1' } });
    if (p.code !== 0) throw new Error(`ldm-batch process failed (exit ${p.code}):\n${p.stdout}\n${p.stderr}`);
    const json = JSON.parse(p.stdout);
    Object.assign(res, { process: p.wall, processRss: p.peakMb, processCpu: p.cpu, timings: json.timings ?? {} });
    if (haveXmllint) {
      spawnSync('sync'); // the response just written is on disk before xmllint is timed (see copyStore)
      const x = await measure('xmllint', ['--stream', '--noout', '--schema', join(ROOT, 'schemas', 'ldm-batch-request.xsd'), request.file]);
      if (x.code !== 0) throw new Error(`xmllint rejects the request:\n${x.stderr.slice(0, 2000)}`);
      Object.assign(res, { xmllint: x.wall, xmllintRss: x.peakMb, xmllintCpu: x.cpu });
    }
    const v = await measure(BIN, ['verify', responsePath, '--cert', cert, '--json']);
    const vj = JSON.parse(v.stdout || '{}');
    Object.assign(res, { verify: v.wall, verifyRss: v.peakMb, verifyCpu: v.cpu, verifyOk: v.code === 0 && vj.ok === true });
    // Without a trusted certificate verify cannot take the fast path for its own layout (see
    // verifyOwnLayout): it canonicalizes the whole document, as xmlsec1 does. Timed too, so the
    // comparison with xmlsec1 is like for like.
    const vf = o.fullVerify ? await measure(BIN, ['verify', responsePath, '--integrity-only', '--json'], { cwd: tmpdir() }) : { wall: NaN, peakMb: NaN, cpu: NaN, code: 0, stdout: '{"ok":true,"skipped":true}', stderr: '' };
    const vfj = JSON.parse(vf.stdout || '{}');
    // (--no-full-verify: no figures, so nothing is printed for it)
    Object.assign(res, o.fullVerify ? { verifyFull: vf.wall, verifyFullRss: vf.peakMb, verifyFullCpu: vf.cpu, verifyFullOk: vf.code === 0 && vfj.ok === true } : { verifyFullOk: true });
    // xmlsec1 builds a DOM (about 16 bytes of memory per byte of the file): skip it when that cannot fit
    const responseMb = statSync(responsePath).size / 1e6;
    const availableMb = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
    if (haveXmlsec && responseMb * 17 < availableMb * 0.6) {
      const s = await measure('xmlsec1', ['--verify', '--trusted-pem', cert, responsePath]);
      Object.assign(res, { xmlsec: s.wall, xmlsecRss: s.peakMb, xmlsecCpu: s.cpu, xmlsecOk: s.code === 0 });
    } else if (haveXmlsec) {
      res.xmlsecSkipped = `needs ≈ ${int(responseMb * 17)} MB, ${int(availableMb)} MB available`;
    }
    results.push(res);
    printRun(i, o, res, sizeMb, responseMb);
    if (i === 1) {
      const { problems, notes } = await check(o, store, request, responsePath, json, json.batch);
      if (!res.verifyOk) problems.push(`ldm-batch verify rejects the response: ${v.stdout}${v.stderr}`);
      if (!res.verifyFullOk) problems.push(`ldm-batch verify (full check) rejects the response: ${vf.stdout}${vf.stderr}`);
      if (res.xmlsecOk === false) problems.push('xmlsec1 --verify rejects the response');
      if (o.reference) {
        const same = spawnSync('cmp', ['-s', o.reference, responsePath]).status === 0;
        if (same) notes.push(`byte-identical to the reference ${o.reference} (${int(statSync(responsePath).size)} bytes)`);
        else problems.push(`the response differs from the reference ${o.reference} (cmp ${o.reference} ${responsePath})`);
      }
      for (const n of notes) console.log(`  check: ${n}`);
      for (const pr of problems) console.log(`  CHECK FAILED: ${pr}`);
      if (problems.length > 0) failed = true;
      else console.log(`  checks passed${res.xmlsecOk ? ' (xmlsec1 and ldm-batch verify accept the response)' : ' (ldm-batch verify accepts the response)'}`);
    }
  }
  if (o.runs > 1) printMedians(o, results);
  if (failed) process.exitCode = 1;
}

function printRun(i, o, r, sizeMb, responseMb) {
  console.log(`run ${i}/${o.runs} (load ${r.load})`);
  console.log(`  process            ${fmt(r.process).padStart(7)} s  ${int(o.lines / r.process).padStart(9)} lines/s  peak RSS ${mb(r.processRss)} (goal ≤ 256 MB)  cpu ${fmt(r.processCpu, 1)} s (user+sys, all threads)`);
  const t = r.timings;
  if (Object.keys(t).length > 0) {
    const s = (k) => (t[k] === undefined ? '-' : `${fmt(t[k] / 1000)} s`);
    console.log(
      `    stages (busy time, overlapped): read (hash+guard+copy, Header) ${t.read === undefined ? `${s('envelope')} + ${s('guard')}` : s('read')}, read model ${s('readModel')}, validate+envelope ${s('validate')} (waited ${s('validateWait')}), parse ${s('parse')}, ` +
        `resolve (read model lookups, rules, and the amounts answers' XML) ${s('rules')}${t.lookups === undefined ? '' : ` + lookups ${s('lookups')}`} + audit wait ${s('auditWait')}, write+sign ${s('write')}; total ${s('total')}`,
    );
  }
  if (r.xmllint !== undefined) {
    console.log(
      `  xmllint --stream   ${fmt(r.xmllint).padStart(7)} s  peak RSS ${mb(r.xmllintRss)}  cpu ${fmt(r.xmllintCpu, 1)} s   process / xmllint = ${fmt(r.process / r.xmllint, 2)}× wall (goal ≤ 3×), ${fmt(r.processCpu / r.xmllintCpu, 1)}× cpu`,
    );
  }
  console.log(`  ldm-batch verify   ${fmt(r.verify).padStart(7)} s  peak RSS ${mb(r.verifyRss)}  cpu ${fmt(r.verifyCpu, 1)} s  (${fmt(responseMb, 0)} MB response, --cert: own-layout fast path) ${r.verifyOk ? 'OK' : 'REJECTED'}`);
  if (r.verifyFull !== undefined) console.log(`  ldm-batch verify   ${fmt(r.verifyFull).padStart(7)} s  peak RSS ${mb(r.verifyFullRss)}  cpu ${fmt(r.verifyFullCpu, 1)} s  (no --cert: full canonicalizing check) ${r.verifyFullOk ? 'OK' : 'REJECTED'}`);
  else console.log('  ldm-batch verify   (full check not run: --no-full-verify)');
  if (r.xmlsec !== undefined) {
    console.log(
      `  xmlsec1 --verify   ${fmt(r.xmlsec).padStart(7)} s  peak RSS ${mb(r.xmlsecRss)}  cpu ${fmt(r.xmlsecCpu, 1)} s  ${r.xmlsecOk ? 'OK' : 'REJECTED'}   ` +
        `verify / xmlsec1 = ${fmt(r.verify / r.xmlsec, 2)}× fast path${r.verifyFull === undefined ? '' : `, ${fmt(r.verifyFull / r.xmlsec, 2)}× full check`} (goal ≤ 2×)`,
    );
  } else if (r.xmlsecSkipped) {
    console.log(`  xmlsec1 --verify   skipped: ${r.xmlsecSkipped}`);
  }
}

function printMedians(o, results) {
  const m = (k) => median(results.map((r) => r[k]).filter((x) => x !== undefined));
  console.log(`median of ${results.length} runs (loads: ${results.map((r) => r.load.split(' ')[0]).join(', ')})`);
  console.log(`  process            ${fmt(m('process')).padStart(7)} s  ${int(o.lines / m('process')).padStart(9)} lines/s  peak RSS ${mb(m('processRss'))} (goal ≤ 256 MB)  cpu ${fmt(m('processCpu'), 1)} s`);
  const stages = [...new Set(results.flatMap((r) => Object.keys(r.timings)))];
  if (stages.length > 0) console.log(`    stages: ${stages.map((k) => `${k} ${fmt(median(results.map((r) => r.timings[k] ?? 0)) / 1000)} s`).join(', ')}`);
  if (results[0].xmllint !== undefined) console.log(`  xmllint --stream   ${fmt(m('xmllint')).padStart(7)} s  peak RSS ${mb(m('xmllintRss'))}  cpu ${fmt(m('xmllintCpu'), 1)} s   ratio ${fmt(median(results.map((r) => r.process / r.xmllint)), 2)}× wall (goal ≤ 3×), ${fmt(median(results.map((r) => r.processCpu / r.xmllintCpu)), 1)}× cpu`);
  console.log(`  ldm-batch verify   ${fmt(m('verify')).padStart(7)} s  peak RSS ${mb(m('verifyRss'))}  (--cert, fast path)`);
  if (results[0].verifyFull !== undefined) console.log(`  ldm-batch verify   ${fmt(m('verifyFull')).padStart(7)} s  peak RSS ${mb(m('verifyFullRss'))}  (full check)`);
  if (results[0].xmlsec !== undefined) {
    console.log(
      `  xmlsec1 --verify   ${fmt(m('xmlsec')).padStart(7)} s  peak RSS ${mb(m('xmlsecRss'))}   ratio ${fmt(median(results.map((r) => r.verify / r.xmlsec)), 2)}× fast path, ` +
        `${fmt(median(results.map((r) => r.verifyFull / r.xmlsec)), 2)}× full check (goal ≤ 2×)`,
    );
  }
}

// `--service handiservice`: the Handiservice benchmark, in its own script.
if (process.argv.slice(2).join(' ').includes('--service handiservice')) {
  await import('./bench-handiservice.mjs');
} else {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
}
