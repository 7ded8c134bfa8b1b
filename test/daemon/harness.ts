// Shared pieces of the daemon tests: an instance with the scenario data whose spool is a real
// OpenSSH server, the daemon as a child process with its JSON log lines parsed, journal queries.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, makeInstance, type Instance } from '../helpers/instance.js';
import type { Sshd } from '../helpers/sshd.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import type { RequestHeader } from '../../src/interfaces.js';
import * as S from '../pipeline/scenario.js';
import { patient } from '../helpers/patience.js';

/** The scenario's reference instant: status codes are the same whatever day the tests run. */
export const CLOCK = '2026-02-15T03:00:00Z';
export const EVERY_SECOND = '*/1 * * * * *';

export type LogEvent = Record<string, unknown> & { event: string; level: string };

export async function scenarioInstance(): Promise<Instance> {
  const inst = await makeInstance();
  await S.importScenario(inst);
  return inst;
}

export interface SpoolOptions {
  /** Folder under the server's root: each test its own spool. */
  name: string;
  schedule?: string;
  http?: boolean;
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  leaseSeconds?: number;
  shutdownGraceSeconds?: number;
  extra?: Record<string, unknown>;
}

/** Writes a config beside the instance's (same database and keys) with an SFTP spool on `srv`; returns its path and the spool folder. */
export async function sftpConfig(inst: Instance, srv: Sshd, o: SpoolOptions): Promise<{ config: string; root: string }> {
  const base = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
  const root = join(srv.root, o.name);
  await mkdir(root, { recursive: true });
  const cfg = {
    ...base,
    schedule: o.schedule ?? EVERY_SECOND,
    timezone: 'Europe/Brussels',
    leaseSeconds: o.leaseSeconds ?? 120,
    shutdownGraceSeconds: o.shutdownGraceSeconds ?? 20,
    spool: {
      transport: 'sftp',
      root,
      minAgeSeconds: 0,
      sftp: { ...srv.sftpConfig(), retry: o.retry ?? { maxRetries: 6, baseDelayMs: 200, maxDelayMs: 1000 }, keepaliveIntervalMs: 2000 },
    },
    ...(o.http ? { http: { port: 0 } } : {}),
    ...o.extra,
  };
  const config = join(inst.dir, `${o.name}.config.json`);
  await writeFile(config, JSON.stringify(cfg, null, 2));
  return { config, root };
}

export function inFolder(root: string, client: string, folder: 'in' | 'out' | 'archive' | 'error'): string {
  return join(root, client, folder);
}

/** A scenario request for `fin` (or another client's header), written straight into the served folder. */
export async function dropRequest(dir: string, name: string, o: { fileId?: string; repeat?: number; header?: Partial<RequestHeader>; recordCount?: number } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines = Array.from({ length: o.repeat ?? 1 }, () => S.lines).flat();
  // Written aside and renamed, as a well-behaved client uploads.
  await writeRequestFile(join(dir, `${name}.part`), S.header({ fileId: o.fileId ?? name.replace(/\.xml$/, ''), ...o.header }), lines, { recordCount: o.recordCount });
  await rename(join(dir, `${name}.part`), join(dir, name));
}

export interface DaemonProcess {
  child: ChildProcess;
  events: LogEvent[];
  stderr(): string;
  waitFor(pred: (e: LogEvent) => boolean, timeoutMs: number, what: string): Promise<LogEvent>;
  httpPort(): Promise<number>;
  /** Sends the signal and waits for the exit; `ms` from signal to exit. */
  signal(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startDaemon(config: string, env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(process.execPath, [BIN, 'daemon', '--config', config], {
    env: { ...process.env, LDM_BATCH_CLOCK: CLOCK, LDM_BATCH_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: LogEvent[] = [];
  let raw = '';
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    raw += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as LogEvent);
      } catch {
        events.push({ event: 'unparsed', level: 'error', line });
      }
    }
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (pred: (e: LogEvent) => boolean, timeoutMs: number, what: string): Promise<LogEvent> => {
    const until = Date.now() + patient(timeoutMs);
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}) before ${what}:\n${raw}`);
      if (Date.now() > until) throw new Error(`no ${what} within ${patient(timeoutMs)} ms; daemon log:\n${raw.split('\n').slice(-40).join('\n')}`);
      await sleep(50);
    }
  };
  return {
    child,
    events,
    stderr: () => raw,
    waitFor,
    async httpPort() {
      const e = await waitFor((x) => x.event === 'http.listening', 10_000, 'http.listening');
      return Number(e.port);
    },
    async signal(sig) {
      const t0 = Date.now();
      child.kill(sig);
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
    exited,
  };
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + patient(timeoutMs);
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${patient(timeoutMs)} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface JournalRow {
  id: number;
  file_name: string;
  state: string;
  error_code: string | null;
  client_id: string | null;
}

export async function openJournal(inst: Instance): Promise<Db> {
  return openDatabase(parseDatabaseSpec(join(inst.dir, 'data', 'ldm-batch.sqlite')));
}

/** Journal rows of files whose name starts with `prefix`. */
export async function rows(db: Db, prefix: string): Promise<JournalRow[]> {
  return db('batches').select('id', 'file_name', 'state', 'error_code', 'client_id').where('file_name', 'like', `${prefix}%`).orderBy('id');
}

export async function getText(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}
