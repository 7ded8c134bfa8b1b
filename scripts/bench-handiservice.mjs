#!/usr/bin/env node
// npm run bench -- --service handiservice [--lines N] [--persons P] [--seed S] [--runs R] [--work DIR] [--no-xmlsec]
//
// Benchmark of a Handiservice batch (contract §6c) through the real CLI (compiled dist/; run
// `npm run build` first), on the embedded default (SQLite):
//   store    `ldm-batch init`, a generated data set (seeded): clients through `ldm-batch import`,
//            persons/repertory/amounts by the bulk loader (generate/bulkLoad.ts), the four DG PMH
//            kinds through `ldm-batch import` (their checks included). Built once per
//            (seed, persons) under bench-work/ and copied fresh for every run. Not timed.
//   request  N lines (default 100,000) of an OCMW's general social inquiry (generate/handiservice.ts).
//   timed    `ldm-batch process` (wall, lines/s, CPU, peak RSS), `ldm-batch verify`, `xmlsec1 --verify`.
//   checked  exit codes; RecordCount = N; every line answered; the status mix; both verifiers accept.
// Handiservice is answered from the store (not the read model): see README, Handiservice.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, DIST, REFERENCE_DATE, ROOT, buildStore, int, measure, median, run } from './bench-lib.mjs';

function parseArgs(argv) {
  const o = { lines: 100_000, persons: 50_000, seed: 42, runs: 1, work: join(ROOT, 'bench-work'), xmlsec: true };
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
    if (a === '--service') next(); // handiservice: how bench.mjs sent us here
    else if (a === '--lines') o.lines = count(next());
    else if (a === '--persons') o.persons = count(next());
    else if (a === '--seed') o.seed = count(next());
    else if (a === '--runs') o.runs = count(next());
    else if (a === '--work') o.work = resolve(next());
    else if (a === '--no-xmlsec') o.xmlsec = false;
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

/** The bench store, and the four DG PMH kinds through `ldm-batch import` (their checks included). */
function handiserviceStore(o) {
  return buildStore(join(o.work, `handiservice-s${o.seed}-p${o.persons}`), o, async (ds, config, counts, dir) => {
    for (const kind of ['handicap_recognitions', 'handicap_rights', 'handicap_payments', 'social_cards']) {
      counts[kind] = JSON.parse(run(process.execPath, [BIN, 'import', kind, ds.files[kind], '--config', config, '--json'], `import ${kind}`)).rows;
    }
    writeFileSync(join(dir, 'ssins.json'), JSON.stringify(ds.persons.filter((p) => p.replacedBy === null).map((p) => p.ssin)));
  });
}

async function buildRequest(o, store) {
  const file = join(store.dir, `request-${o.lines}.xml`);
  if (existsSync(file)) return file;
  const { writeRequestFile } = await import(join(DIST, 'generate', 'requests.js'));
  const { rng } = await import(join(DIST, 'generate', 'dataset.js'));
  const { HANDISERVICE_CLIENT, handiserviceLines } = await import(join(DIST, 'generate', 'handiservice.js'));
  const ssins = JSON.parse(readFileSync(join(store.dir, 'ssins.json'), 'utf8'));
  const c = HANDISERVICE_CLIENT;
  await writeRequestFile(
    file,
    { fileId: `BENCH-HS-${o.lines}`, senderCbe: c.cbeNumber, service: 'Handiservice', legalContext: c.authorizations[0].legalContext, environment: 'PROD', createdAt: `${REFERENCE_DATE}T03:00:00Z` },
    handiserviceLines(ssins, rng(o.seed + 16), o.lines, REFERENCE_DATE),
  );
  return file;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(join(DIST, 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  mkdirSync(o.work, { recursive: true });
  const store = await handiserviceStore(o);
  const request = await buildRequest(o, store);
  const instance = join(store.dir, 'instance');
  const config = join(instance, 'ldm-batch.config.json');
  const cert = join(instance, 'keys', 'signing-cert.pem');
  const haveXmlsec = o.xmlsec && spawnSync('xmlsec1', ['--version']).status === 0;
  const walls = [];
  for (let runNo = 1; runNo <= o.runs; runNo++) {
    copyFileSync(join(store.dir, 'pristine.sqlite'), join(instance, 'data', 'ldm-batch.sqlite'));
    for (const ext of ['-wal', '-shm']) rmSync(join(instance, 'data', `ldm-batch.sqlite${ext}`), { force: true });
    const out = join(store.dir, `response-${o.lines}.xml`);
    const load = loadavg()[0].toFixed(2);
    const p = await measure(BIN, ['process', request, '-o', out, '--as-of', REFERENCE_DATE, '--config', config, '--json']);
    if (p.code !== 0) throw new Error(`process failed (exit ${p.code}):\n${p.stderr}`);
    const xml = readFileSync(out, 'utf8');
    const recordCount = Number(/<RecordCount>(\d+)<\/RecordCount>/.exec(xml)?.[1]);
    const responses = (xml.match(/<Response seq=/g) ?? []).length;
    if (recordCount !== o.lines || responses !== o.lines) throw new Error(`expected ${o.lines} answered lines, RecordCount ${recordCount}, Response elements ${responses}`);
    const mix = Object.fromEntries([...xml.matchAll(/<StatusCount code="(\w+)">(\d+)</g)].map((m) => [m[1], Number(m[2])]));
    const v = await measure(BIN, ['verify', out, '--cert', cert, '--json']);
    if (v.code !== 0) throw new Error(`ldm-batch verify refused the response:\n${v.stdout}${v.stderr}`);
    const s = haveXmlsec ? await measure('xmlsec1', ['--verify', '--trusted-pem', cert, out]) : undefined;
    if (s && s.code !== 0) throw new Error(`xmlsec1 refused the response:\n${s.stderr}`);
    walls.push(p.wall);
    console.log(
      `run ${runNo}: process ${o.lines} lines in ${p.wall.toFixed(2)} s (${int(o.lines / p.wall)} lines/s, CPU ${p.cpu.toFixed(2)} s, peak RSS ${Math.round(p.peakMb)} MB; load ${load}); ` +
        `verify ${v.wall.toFixed(2)} s${s ? `, xmlsec1 ${s.wall.toFixed(2)} s` : ' (xmlsec1 skipped)'}; status mix ${JSON.stringify(mix)}`,
    );
  }
  if (o.runs > 1) console.log(`median process: ${median(walls).toFixed(2)} s (${int(o.lines / median(walls))} lines/s) over ${o.runs} runs`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
