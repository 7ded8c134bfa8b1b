// Throughput of 1, 2 and 3 `daemon` instances over the same 200 request files (5 clients, one
// PostgreSQL database, one SFTP spool), each run checked for exactly-once like the scale-out test.
// Run through scripts/throughput.mjs, alone: not a *.test.ts, so `npm test` never runs it.
// Seconds are the journal's first claim to last completion (start-up and pickup delay left out);
// CPU is the machine's busy share (all cores, /proc/stat) from the daemons' start to the last
// completion, and the CPU seconds spent meanwhile by the daemons (start-up included), sshd's
// sftp sessions, PostgreSQL, and anything else running on the machine (which skews the figures).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';
import { skipReason } from './skips.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { removeTestKeys, testKeys } from '../helpers/keys.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { FILES, TOTAL_LINES, dropRequests, importFixture } from './fixture.js';
import { checkExactlyOnce, rate, startCluster, stopCluster, waitAllFinished } from './cluster.js';

const why = skipReason('throughput', { postgres: true, sshd: true }, { postgres: await postgresAvailable(), sshd: sshdAvailable() });
const INSTANCES = (process.env.LDM_THROUGHPUT_INSTANCES ?? '1,2,3').split(',').map(Number);
const RUNS = Number(process.env.LDM_THROUGHPUT_RUNS ?? '1');

/** CPU jiffies (user + system, 1/100 s) used so far by every live process, with its command name. */
function processTimes(): Map<number, { comm: string; jiffies: number }> {
  const out = new Map<number, { comm: string; jiffies: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { comm, jiffies: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU seconds spent between two samples: by the daemons (their pids), sshd/sftp-server, PostgreSQL, and everything else. */
function cpuBreakdown(before: Map<number, { comm: string; jiffies: number }>, after: Map<number, { comm: string; jiffies: number }>, daemons: ReadonlySet<number>): Record<'daemons' | 'sftp' | 'postgres' | 'other', number> {
  const sum = { daemons: 0, sftp: 0, postgres: 0, other: 0 };
  for (const [pid, a] of after) {
    const used = (a.jiffies - (before.get(pid)?.comm === a.comm ? (before.get(pid)?.jiffies ?? 0) : 0)) / 100;
    const kind = daemons.has(pid) ? 'daemons' : a.comm.startsWith('sshd') || a.comm === 'sftp-server' ? 'sftp' : a.comm.startsWith('postgres') ? 'postgres' : 'other';
    sum[kind] += used;
  }
  return sum;
}

/** Busy and total jiffies of all cores so far. */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

interface Result {
  instances: number;
  run: number;
  seconds: number;
  filesPerSecond: number;
  linesPerSecond: number;
  cpuBusy: number;
  /** CPU seconds over the run, by whom. */
  cpu: Record<'daemons' | 'sftp' | 'postgres' | 'other', number>;
  byInstance: Record<string, number>;
}

describe.skipIf(why !== '')(why ? `throughput — SKIPPED: ${why}` : 'throughput of 1..n instances', () => {
  let srv: Sshd;
  let pg: TempDatabase;
  let inst: Instance;
  let db: Db;
  let signing: { keyFile: string; certFile: string };
  /** Load before the runs: other work on the machine skews the figures, so the table says how much there was. */
  let loadBefore = '';
  beforeAll(async () => {
    loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
    const keys = await testKeys('throughput');
    signing = { keyFile: keys.keyPath, certFile: keys.certPath };
    srv = await startSshd();
    pg = await createTempDatabase();
    inst = await makeInstance({ database: pg.url });
    await importFixture(inst);
    db = await openDatabase(parseDatabaseSpec(pg.url));
  });
  afterAll(async () => {
    await db?.destroy();
    await inst?.cleanup();
    await pg?.drop();
    await srv?.cleanup();
    removeTestKeys();
  });

  it(`measures ${INSTANCES.join(', ')} instance(s) over ${FILES} files`, async () => {
    const results: Result[] = [];
    for (let run = 1; run <= RUNS; run++) {
      for (const n of INSTANCES) {
        // The same files again: a fresh journal, else their FileIds would be re-deliveries.
        await db('audit_persons').del();
        await db('audit_batches').del();
        await db('batches').del();
        const root = join(srv.root, `tp-${n}-${run}`);
        await dropRequests(root);
        const ids = Array.from({ length: n }, (_, i) => `tp-${i + 1}`);
        const cpu0 = cpuTimes();
        const procs0 = processTimes();
        const members = await startCluster(inst, srv, ids, { root, leaseSeconds: 30, extra: { signing } });
        try {
          await waitAllFinished(db, Date.now(), 300_000);
          const cpu1 = cpuTimes();
          const cpuBusy = (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total);
          const cpu = cpuBreakdown(procs0, processTimes(), new Set(members.map((m) => m.daemon.child.pid ?? -1)));
          const window = (await db('batches').min({ first: 'created_at' }).max({ last: 'updated_at' }).first()) as { first: string; last: string };
          const seconds = (Date.parse(window.last) - Date.parse(window.first)) / 1000;
          const { report, problems } = await checkExactlyOnce(db, root);
          expect(problems).toEqual([]);
          results.push({ instances: n, run, seconds, ...rate(seconds), cpuBusy, cpu, byInstance: report.byInstance });
        } finally {
          await stopCluster(members);
        }
      }
    }
    print(results);
  });

  /** A table, and the medians per instance count. */
  function print(results: Result[]): void {
    const lines = [
      `throughput on this machine: ${cpus().length} core(s) (${cpus()[0]?.model ?? '?'}), load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${FILES} files, ${TOTAL_LINES} lines, 5 clients, SFTP spool (OpenSSH on 127.0.0.1), PostgreSQL on 127.0.0.1`,
      'instances  run  seconds  files/s  lines/s  speed-up  CPU busy  CPU s: daemons sftp postgres other  files by instance',
    ];
    const base = median(results.filter((r) => r.instances === INSTANCES[0]).map((r) => r.seconds));
    for (const r of results) {
      lines.push(`${String(r.instances).padStart(9)}  ${String(r.run).padStart(3)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.filesPerSecond.toFixed(1).padStart(7)}  ${String(r.linesPerSecond).padStart(7)}  ${(base / r.seconds).toFixed(2).padStart(8)}  ${`${Math.round(r.cpuBusy * 100)} %`.padStart(8)}  ${[r.cpu.daemons, r.cpu.sftp, r.cpu.postgres, r.cpu.other].map((x) => x.toFixed(1).padStart(6)).join(' ').padStart(32)}  ${JSON.stringify(r.byInstance)}`);
    }
    if (RUNS > 1) {
      lines.push('medians:');
      for (const n of INSTANCES) {
        const s = median(results.filter((r) => r.instances === n).map((r) => r.seconds));
        const q = rate(s);
        lines.push(`${String(n).padStart(9)}       ${s.toFixed(1).padStart(7)}  ${q.filesPerSecond.toFixed(1).padStart(7)}  ${String(q.linesPerSecond).padStart(7)}  ${(base / s).toFixed(2).padStart(8)}`);
      }
    }
    console.info(lines.join('\n'));
  }
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
