// What the benchmarks share (scripts/bench.mjs, scripts/bench-handiservice.mjs): measuring a
// command, and the generated store they start from.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'ldm-batch.js');
export const DIST = join(ROOT, 'dist');
export const REFERENCE_DATE = '2026-03-15';

export const HAVE_TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M %U %S', 'true']).status === 0;

/**
 * Runs a command; resolves with wall seconds, peak RSS (MB), CPU seconds (user + system, all
 * threads), exit code, stdout. Peak RSS and CPU come from /usr/bin/time when it exists, else
 * from /proc/<pid>/status (VmHWM) and /proc/<pid>/stat polled every 20 ms.
 */
export function measure(cmd, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const timeFile = join(tmpdir(), `ldm-bench-time-${process.pid}-${Date.now()}`);
    const [c, a] = HAVE_TIME ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const t0 = process.hrtime.bigint();
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    let peakKb = 0;
    let cpu = 0;
    const poll = HAVE_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKb = Math.max(peakKb, Number(m[1]));
            const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
            cpu = (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime in clock ticks (100 Hz)
          } catch {
            /* gone */
          }
        }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      if (HAVE_TIME) {
        try {
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [kb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
          peakKb = kb || 0;
          cpu = (user || 0) + (sys || 0);
        } catch {
          /* no figure */
        }
        rmSync(timeFile, { force: true });
      }
      resolvePromise({ wall, peakMb: peakKb / 1024, cpu, code, stdout, stderr });
    });
  });
}

export function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (n, d = 2) => n.toFixed(d);
export const int = (n) => Math.round(n).toLocaleString('en');
export const mb = (n) => `${Math.round(n)} MB`;

/**
 * The generated store (seeded) in `dir`, built once: `ldm-batch init`, a data set of `persons`
 * persons, clients through `ldm-batch import`, persons/repertory/amounts by the bulk loader (or
 * `ldm-batch import` when `o.import` is 'csv'); `more(ds, config, counts, dir)` adds what a benchmark needs
 * besides. Its database is kept as pristine.sqlite (every run starts from a copy), ready.json
 * says it is complete.
 */
export async function buildStore(dir, o, more) {
  const ready = join(dir, 'ready.json');
  if (existsSync(ready)) return { dir, ...JSON.parse(readFileSync(ready, 'utf8')) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`building the store in ${dir} (${int(o.persons)} persons, seed ${o.seed}; not timed)…`);
  const t0 = Date.now();
  run(process.execPath, [BIN, 'init', join(dir, 'instance')], 'ldm-batch init');
  const config = join(dir, 'instance', 'ldm-batch.config.json');
  const { generateDataset } = await import(join(DIST, 'generate', 'dataset.js'));
  const { readOcmwList } = await import(join(DIST, 'generate', 'ocmwList.js'));
  const ds = await generateDataset({ out: join(dir, 'csv'), persons: o.persons, seed: o.seed, referenceDate: REFERENCE_DATE, ocmws: await readOcmwList() });
  run(process.execPath, [BIN, 'import', 'clients', ds.files.clients, '--config', config], 'import clients');
  const counts = {};
  if (o.import === 'csv') {
    for (const kind of ['persons', 'repertory', 'amounts']) {
      const out = run(process.execPath, [BIN, 'import', kind, ds.files[kind], '--config', config, '--json'], `import ${kind}`);
      counts[kind] = JSON.parse(out).rows;
    }
  } else {
    const { openDatabase } = await import(join(DIST, 'store', 'db.js'));
    const { bulkLoad } = await import(join(DIST, 'generate', 'bulkLoad.js'));
    const db = await openDatabase({ client: 'sqlite', filename: join(dir, 'instance', 'data', 'ldm-batch.sqlite') });
    try {
      Object.assign(counts, await bulkLoad(db, ds.files));
      await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      await db.destroy();
    }
  }
  if (more) await more(ds, config, counts, dir);
  rmSync(join(dir, 'csv'), { recursive: true, force: true }); // regenerated (in memory) when a request is made
  copyFileSync(join(dir, 'instance', 'data', 'ldm-batch.sqlite'), join(dir, 'pristine.sqlite'));
  const info = { counts, seconds: (Date.now() - t0) / 1000 };
  writeFileSync(ready, JSON.stringify(info, null, 2));
  console.log(`  store ready in ${fmt(info.seconds, 0)} s: ${Object.entries(counts).map(([k, v]) => `${int(v)} ${k}`).join(', ')}`);
  return { dir, ...info };
}
