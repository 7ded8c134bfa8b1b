// Several `daemon` processes of one installation: the same database, signing key and SFTP spool,
// each with its own instanceId and its own folder (work files, config) as if on its own host.
// Plus the checks every run must pass, whatever the number of instances or kills.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Instance } from '../helpers/instance.js';
import type { Sshd } from '../helpers/sshd.js';
import type { Db } from '../../src/store/db.js';
import { countAuditLines } from '../../src/audit/query.js';
import { EVERY_SECOND, startDaemon, waitUntil, type DaemonProcess } from '../daemon/harness.js';
import { CLIENTS, REQUESTS, TOTAL_AUDITED, TOTAL_LINES, responseName } from './fixture.js';

export interface ClusterOptions {
  /** The served folder (under the server's root) that every instance polls. */
  root: string;
  leaseSeconds: number;
  schedule?: string;
  http?: boolean;
  extra?: Record<string, unknown>;
}

/** Writes `<inst.dir>/<instanceId>/ldm-batch.config.json`: the instance's config with absolute paths, its own id, the SFTP spool. */
export async function instanceConfig(inst: Instance, srv: Sshd, instanceId: string, o: ClusterOptions): Promise<string> {
  const base = JSON.parse(await readFile(inst.config, 'utf8')) as { database: string; signing: { keyFile: string; certFile: string } } & Record<string, unknown>;
  const abs = (p: string): string => resolve(inst.dir, p);
  const dir = join(inst.dir, instanceId);
  await mkdir(dir, { recursive: true });
  const cfg = {
    ...base,
    instanceId,
    database: /^postgres(ql)?:\/\//.test(base.database) ? base.database : abs(base.database),
    signing: { keyFile: abs(base.signing.keyFile), certFile: abs(base.signing.certFile) },
    schedule: o.schedule ?? EVERY_SECOND,
    timezone: 'Europe/Brussels',
    leaseSeconds: o.leaseSeconds,
    shutdownGraceSeconds: 20,
    spool: {
      transport: 'sftp',
      root: o.root,
      minAgeSeconds: 0,
      sftp: { ...srv.sftpConfig(), retry: { maxRetries: 6, baseDelayMs: 200, maxDelayMs: 1000 }, keepaliveIntervalMs: 2000 },
    },
    ...(o.http ? { http: { port: 0 } } : {}),
    ...o.extra,
  };
  const file = join(dir, 'ldm-batch.config.json');
  await writeFile(file, JSON.stringify(cfg, null, 2));
  return file;
}

export interface Member {
  instanceId: string;
  config: string;
  daemon: DaemonProcess;
}

/** Starts one daemon per id (all at once, as a deployment would). */
export async function startCluster(inst: Instance, srv: Sshd, ids: readonly string[], o: ClusterOptions, env: Record<string, string> = {}): Promise<Member[]> {
  const members: Member[] = [];
  for (const instanceId of ids) {
    const config = await instanceConfig(inst, srv, instanceId, o);
    members.push({ instanceId, config, daemon: startDaemon(config, env) });
  }
  return members;
}

/** Files no longer CLAIMED (answered, rejected or failed) among the fixture's. */
export async function finished(db: Db): Promise<number> {
  const row = (await db('batches').whereNot('state', 'CLAIMED').countDistinct({ n: db.raw("client_id || '/' || file_name") }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Waits until every fixture file has a finished batch; returns the seconds from `t0`. */
export async function waitAllFinished(db: Db, t0: number, timeoutMs: number): Promise<number> {
  await waitUntil(async () => (await finished(db)) >= REQUESTS.length, timeoutMs, `${REQUESTS.length} files finished`);
  return (Date.now() - t0) / 1000;
}

/** The signed responses in out/, by client/name (dot-files — temporaries of a killed writer — left out). */
export async function responses(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const c of CLIENTS) {
    const dir = join(root, c.clientId, 'out');
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith('.')) out.set(`${c.clientId}/${name}`, await readFile(join(dir, name)));
    }
  }
  return out;
}

async function list(root: string, client: string, folder: string): Promise<string[]> {
  return (await readdir(join(root, client, folder)).catch(() => [] as string[])).sort();
}

export interface RunReport {
  files: number;
  lines: number;
  auditRows: number;
  /** Finished batches per instance (the last holder of each). */
  byInstance: Record<string, number>;
  /** Batches that needed more than one attempt (taken over after their holder died). */
  retried: number;
  /** Temporary dot-files a killed writer left in out/ or archive/ (invisible to clients, never a response). */
  staleTemporaries: number;
}

interface BatchRow {
  id: number | string;
  client_id: string;
  file_name: string;
  state: string;
  error_code: string | null;
  instance_id: string | null;
  attempts: number | string;
}

/**
 * Everything "exactly once" means, checked from the outside: one response per request in out/
 * with the expected status codes (and the baseline's bytes, when given), each request archived
 * once with one response copy, nothing left in in/ or error/, one DONE journal row per request,
 * no CLAIMED row, and one audit row per answered line with a valid SSIN.
 */
export async function checkExactlyOnce(db: Db, root: string, baseline?: Map<string, Buffer>): Promise<{ report: RunReport; problems: string[] }> {
  const problems: string[] = [];
  const got = await responses(root);
  const expectedNames = new Set(REQUESTS.map((r) => `${r.client.clientId}/${responseName(r.name)}`));
  for (const k of got.keys()) if (!expectedNames.has(k)) problems.push(`unexpected file in out/: ${k}`);
  for (const r of REQUESTS) {
    const key = `${r.client.clientId}/${responseName(r.name)}`;
    const bytes = got.get(key);
    if (!bytes) {
      problems.push(`no response for ${r.client.clientId}/${r.name}`);
      continue;
    }
    const codes = [...bytes.toString('utf8').matchAll(/<Status code="(MSG\d{5})"/g)].map((m) => m[1]);
    if (codes.join(' ') !== r.expect.join(' ')) problems.push(`${key}: status codes differ from the expected ones`);
    const base = baseline?.get(key);
    if (baseline && (!base || !base.equals(bytes))) problems.push(`${key}: not byte-identical to the baseline run`);
  }
  let staleTemporaries = 0;
  for (const c of CLIENTS) {
    const mine = REQUESTS.filter((r) => r.client === c);
    const archiveAll = await list(root, c.clientId, 'archive');
    // Dot-files are the temporaries of a writer killed mid-upload: never a request nor a response.
    const archive = archiveAll.filter((n) => !n.startsWith('.'));
    staleTemporaries += archiveAll.length - archive.length;
    const requests = archive.filter((n) => !n.endsWith('.response.xml'));
    const copies = archive.filter((n) => n.endsWith('.response.xml'));
    const want = mine.map((r) => r.name).sort();
    if (requests.join(',') !== want.join(',')) {
      const extra = requests.filter((n) => !want.includes(n));
      const missing = want.filter((n) => !requests.includes(n));
      problems.push(`${c.clientId}/archive/ requests: ${requests.length}, want each of the ${want.length} exactly once under its own name (extra: ${extra.join(' ') || '-'}; missing: ${missing.join(' ') || '-'})`);
    }
    for (const r of mine) {
      const n = copies.filter((x) => x.startsWith(`${r.name.replace(/\.xml$/, '')}.`)).length;
      if (n !== 1) problems.push(`${c.clientId}/archive/: ${n} response copies of ${r.name}`);
    }
    const leftIn = await list(root, c.clientId, 'in');
    if (leftIn.length > 0) problems.push(`${c.clientId}/in/ still holds ${leftIn.join(', ')}`);
    const errors = await list(root, c.clientId, 'error');
    if (errors.length > 0) problems.push(`${c.clientId}/error/ holds ${errors.join(', ')}`);
    staleTemporaries += (await list(root, c.clientId, 'out')).filter((n) => n.startsWith('.')).length;
  }

  const rows: BatchRow[] = await db('batches').select('id', 'client_id', 'file_name', 'state', 'error_code', 'instance_id', 'attempts').orderBy('id');
  const byFile = new Map<string, BatchRow[]>();
  for (const b of rows) byFile.set(`${b.client_id}/${b.file_name}`, [...(byFile.get(`${b.client_id}/${b.file_name}`) ?? []), b]);
  for (const r of REQUESTS) {
    const bs = byFile.get(`${r.client.clientId}/${r.name}`) ?? [];
    if (bs.length !== 1 || bs[0].state !== 'DONE' || bs[0].error_code !== null) {
      problems.push(`journal for ${r.client.clientId}/${r.name}: ${bs.map((b) => `#${b.id} ${b.state}${b.error_code ? ` ${b.error_code}` : ''}`).join(', ') || 'no row'} (want one DONE row)`);
    }
  }
  if (rows.length !== REQUESTS.length) problems.push(`journal has ${rows.length} rows for ${REQUESTS.length} files`);
  const claimed = rows.filter((b) => b.state === 'CLAIMED');
  if (claimed.length > 0) problems.push(`batches still CLAIMED: ${claimed.map((b) => `#${b.id} by ${b.instance_id}`).join(', ')}`);

  // The audit log, straight from the table: per batch, one row per line with a valid SSIN.
  // Entries as stored (a doubled line counts twice), per batch.
  const audited = (await db('audit_batches').select('batch_id')) as { batch_id: number | string }[];
  const auditOf = new Map<number, number>();
  for (const a of audited) auditOf.set(Number(a.batch_id), await countAuditLines(db, Number(a.batch_id)));
  for (const r of REQUESTS) {
    const b = byFile.get(`${r.client.clientId}/${r.name}`)?.[0];
    const n = b ? (auditOf.get(Number(b.id)) ?? 0) : 0;
    if (n !== r.audited) problems.push(`audit for ${r.client.clientId}/${r.name}: ${n} rows, want ${r.audited}`);
  }
  const auditRows = [...auditOf.values()].reduce((a, b) => a + b, 0);
  if (auditRows !== TOTAL_AUDITED) problems.push(`the audit register holds ${auditRows} entries, want ${TOTAL_AUDITED}`);

  const byInstance: Record<string, number> = {};
  for (const b of rows) if (b.state !== 'CLAIMED') byInstance[b.instance_id ?? '-'] = (byInstance[b.instance_id ?? '-'] ?? 0) + 1;
  return {
    report: { files: got.size, lines: TOTAL_LINES, auditRows, byInstance, retried: rows.filter((b) => Number(b.attempts) > 1).length, staleTemporaries },
    problems,
  };
}

/** Files/s and lines/s over a wall time. */
export function rate(seconds: number): { filesPerSecond: number; linesPerSecond: number } {
  return { filesPerSecond: Math.round((REQUESTS.length / seconds) * 10) / 10, linesPerSecond: Math.round(TOTAL_LINES / seconds) };
}

/** SIGTERMs every live member and waits for their exits. */
export async function stopCluster(members: readonly Member[]): Promise<{ instanceId: string; code: number | null; signal: NodeJS.Signals | null }[]> {
  return Promise.all(
    members.map(async (m) => {
      if (m.daemon.child.exitCode !== null || m.daemon.child.signalCode !== null) return { instanceId: m.instanceId, ...(await m.daemon.exited) };
      const r = await m.daemon.signal('SIGTERM');
      return { instanceId: m.instanceId, code: r.code, signal: r.signal };
    }),
  );
}
