// Commands that do not hurt their operator (issue 14, items 6 and 7), through the compiled CLI:
// demo never deletes a folder it did not make; a closed stdout (`| head -1`) ends quietly and the
// work is still done, a full disk under stdout is reported; a stop signal at any moment of the
// start (modules loading, store opening) stops the daemon and run-once cleanly; a database that
// is unreachable, refuses, is locked or goes down mid-run is a coded error saying what is true,
// with no stack trace and nothing from the driver on stdout. Faults are real: a closed pipe,
// /dev/full, a second SQLite connection holding BEGIN EXCLUSIVE, a closed port, a TCP proxy that
// cuts PostgreSQL; a process is known to be inside the store's opening when /proc shows the file open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { BIN, ROOT, makeInstance, run, type Instance } from '../helpers/instance.js';
import { PG_SKIP_REASON, PG_URL, createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ldm-hygiene-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

const cli = (args: string[]): ReturnType<typeof run> => run(process.execPath, [BIN, ...args], { cwd: tmp });

/** Runs the CLI with its stdout already closed by the reader (as after `| head -1` has exited). */
function withClosedStdout(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // our read end is closed before the child writes anything: EPIPE for sure
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => done({ code, signal, stderr }));
  });
}

const NO_STACK = /^\s+at /m;

describe('demo never deletes what it did not create', () => {
  it('refuses a folder with a file in it, and leaves the file', async () => {
    const dir = join(tmp, 'instance');
    await mkdir(dir);
    await writeFile(join(dir, 'precious.txt'), 'keep me');
    const r = await cli(['demo', '--dir', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/DEMO_DIR_IN_USE/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(await readdir(dir)).toEqual(['precious.txt']);
    expect(await readFile(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a symbolic link, and leaves its target', async () => {
    const target = join(tmp, 'target');
    await mkdir(target);
    await writeFile(join(target, 'x'), 'x');
    await symlink(target, join(tmp, 'link'));
    const r = await cli(['demo', '--dir', join(tmp, 'link')]);
    expect(r.code, r.stderr).toBe(2);
    expect(await readlink(join(tmp, 'link'))).toBe(target);
    expect(await readdir(target)).toEqual(['x']);
  });

  it('uses an empty folder, and recreates a folder it made itself (even with stdout closed)', async () => {
    const dir = join(tmp, 'empty');
    await mkdir(dir);
    const first = await cli(['demo', '--dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    await writeFile(join(dir, 'spool', 'fin', 'out', 'stale.txt'), 'from the first demo');
    // `demo | head`: the reader is gone; demo still builds the whole instance, quietly
    const again = await withClosedStdout(['demo', '--dir', dir]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(existsSync(join(dir, 'spool', 'fin', 'out', 'stale.txt'))).toBe(false);
    for (const client of ['fin', 'mut', 'vla']) expect((await readdir(join(dir, 'spool', client, 'out'))).length).toBeGreaterThan(0);
  });
});

describe('a closed stdout (EPIPE) ends quietly', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
  });
  afterAll(async () => inst?.cleanup());

  it.each([[['batches', 'list']], [['batches', 'list', '--json']], [['--help']]])('%j', async (args) => {
    const r = await withClosedStdout([...args, ...(args[0] === '--help' ? [] : ['--config', inst.config])]);
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!existsSync('/dev/full'))('output that cannot be written (skipped: no /dev/full)', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
  });
  afterAll(async () => inst?.cleanup());

  it('a full disk under stdout is exit 1 with OUTPUT_FAILED, not a trace and not success', async () => {
    const out = openSync('/dev/full', 'w');
    const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [BIN, 'batches', 'list', '--json', '--config', inst.config], { cwd: tmp, stdio: ['ignore', out, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => done({ code, stderr }));
    });
    closeSync(out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[OUTPUT_FAILED\]/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });
});

/** A second process holding a write lock on the SQLite file until `release` is called. */
async function holdSqliteLock(file: string): Promise<{ release: () => Promise<void> }> {
  const db = new sqlite3.Database(file);
  await new Promise<void>((resolve, reject) => db.exec('BEGIN EXCLUSIVE', (err) => (err ? reject(err) : resolve())));
  return {
    release: () => new Promise<void>((resolve) => db.exec('COMMIT', () => db.close(() => resolve()))),
  };
}

/** Whether process `pid` has `file` open (it is then inside the store's opening). */
async function hasOpen(pid: number, file: string): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === file) return true;
  return false;
}

describe.skipIf(!existsSync('/proc/self/fd'))('the store at start (skipped: needs /proc to see which files a process has open)', () => {
  let inst: Instance;
  let dbFile: string;
  beforeAll(async () => {
    inst = await makeInstance();
    dbFile = join(inst.dir, 'data', 'ldm-batch.sqlite');
  });
  afterAll(async () => inst?.cleanup());

  it('SQLite locked by another process: DB_BUSY saying so, no knex migrate:unlock advice, nothing on stdout', async () => {
    const lock = await holdSqliteLock(dbFile);
    try {
      const r = await inst.cli(['batches', 'list', '--json']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/locked by another process.*\[DB_BUSY\]/);
      expect(r.stderr).not.toMatch(/unlock/);
      expect(r.stderr).not.toMatch(NO_STACK);
    } finally {
      await lock.release();
    }
    expect((await inst.cli(['batches', 'list'])).code).toBe(0);
  });

  it('SIGTERM while the daemon is still opening the store: a clean stop, exit 0', async () => {
    // The lock keeps the daemon inside its start-up (migrations wait for it) for as long as this
    // test wants: the signal lands there for sure, whatever the machine's load.
    const lock = await holdSqliteLock(dbFile);
    const child = spawn(process.execPath, [BIN, 'daemon', '--config', inst.config], { cwd: inst.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const pid = child.pid ?? -1;
      while (!(await hasOpen(pid, dbFile))) {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGTERM');
    } finally {
      await lock.release();
    }
    const [code, signal] = await closed;
    expect(signal, stderr).toBeNull();
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(NO_STACK);
    expect(stderr).toMatch(/"event":"daemon.stopping".*"beforeStart":true/);
  });

  it('SIGTERM while run-once is still opening the store: it takes no file, says so in --json, exit 0', async () => {
    await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
    await writeFile(join(inst.spool, 'fin', 'in', 'LATER.xml'), '<not-looked-at/>');
    const lock = await holdSqliteLock(dbFile);
    const child = spawn(process.execPath, [BIN, 'run-once', '--json', '--config', inst.config], { cwd: inst.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      while (child.exitCode === null && !(await hasOpen(child.pid ?? -1, dbFile))) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
    } finally {
      await lock.release();
    }
    const [code, signal] = await closed;
    expect(signal, stderr).toBeNull();
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ files: [], failures: [] });
    expect(await readdir(join(inst.spool, 'fin', 'in'))).toEqual(['LATER.xml']); // left for the next run
    expect(stderr).not.toMatch(NO_STACK);
  });
});

describe('SIGTERM before the command has loaded', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
  });
  afterAll(async () => inst?.cleanup());

  it('the daemon, signalled after the watcher is installed but before main() is even loaded, exits 0', async () => {
    // What bin/ldm-batch.js does, with the signal delivered for sure in between (no timing).
    const signals = join(ROOT, 'dist', 'cli', 'signals.js');
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const script = `
      const { watchStopSignals } = await import(${JSON.stringify(signals)});
      watchStopSignals();
      await new Promise((resolve) => { const alive = setInterval(() => undefined, 1000); process.once('SIGTERM', () => { clearInterval(alive); resolve(); }); process.kill(process.pid, 'SIGTERM'); });
      const { main } = await import(${JSON.stringify(main)});
      process.exitCode = await main([process.argv0, 'ldm-batch', 'daemon', '--config', ${JSON.stringify(inst.config)}]);`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: inst.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/"event":"daemon.stopping".*"beforeStart":true/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  it('another command ends at once with 128 + 15 and one line, no trace', async () => {
    const signals = join(ROOT, 'dist', 'cli', 'signals.js');
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const script = `
      const { watchStopSignals } = await import(${JSON.stringify(signals)});
      watchStopSignals();
      await new Promise((resolve) => { const alive = setInterval(() => undefined, 1000); process.once('SIGTERM', () => { clearInterval(alive); resolve(); }); process.kill(process.pid, 'SIGTERM'); });
      const { main } = await import(${JSON.stringify(main)});
      process.exitCode = await main([process.argv0, 'ldm-batch', 'batches', 'list', '--config', ${JSON.stringify(inst.config)}]);`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: inst.dir });
    expect(r.code).toBe(143);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('ldm-batch: stopped by SIGTERM\n');
  });
});

describe('PostgreSQL unreachable', () => {
  let inst: Instance;
  let port: number;
  beforeAll(async () => {
    inst = await makeInstance();
    // A port nobody listens on: bound, then closed again.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
    server.close();
    await once(server, 'close');
    const config = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    // The password comes from PGPASSWORD (a password in the URL is refused by the config schema).
    await writeFile(inst.config, JSON.stringify({ ...config, database: `postgres://ldm@127.0.0.1:${port}/ldm` }));
  });
  afterAll(async () => inst?.cleanup());

  it.each([[['run-once', '--json']], [['batches', 'list']]])('%j: DB_UNREACHABLE with host and port, no stack, nothing on stdout', async (args) => {
    const r = await inst.cli(args, { env: { PGPASSWORD: 'secret' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*\\[DB_UNREACHABLE\\]`));
    expect(r.stderr).not.toMatch(/secret/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.stderr).not.toMatch(/unexpected error/);
  });
});

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)(`PostgreSQL refuses the database (skipped: ${PG_SKIP_REASON})`, () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
    const url = new URL(PG_URL);
    url.pathname = '/ldm_no_such_database_14a';
    const config = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    await writeFile(inst.config, JSON.stringify({ ...config, database: url.toString() }));
  });
  afterAll(async () => inst?.cleanup());

  it('a database that does not exist: DB_REFUSED, exit 2 (config), no stack, nothing on stdout', async () => {
    const r = await inst.cli(['run-once', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/ldm_no_such_database_14a.*no such database.*\[DB_REFUSED\]/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });
});

/**
 * A TCP proxy in front of the real PostgreSQL server that goes down for good (every connection
 * cut, new ones refused) as soon as a client sends a statement naming the `batches` journal: the
 * database disappears in the middle of a run, at the same point every time.
 */
async function cuttingProxy(target: URL): Promise<{ port: number; cut: Promise<void>; close: () => void }> {
  const sockets = new Set<import('node:net').Socket>();
  let down = false;
  let onCut: () => void = () => undefined;
  const cut = new Promise<void>((resolve) => (onCut = resolve));
  const server = createServer((client) => {
    if (down) return client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const goDown = (): void => {
      down = true;
      server.close();
      for (const s of sockets) s.destroy();
      onCut();
    };
    client.on('data', (d: Buffer) => (d.includes('batches') && !down ? goDown() : upstream.write(d)));
    upstream.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, cut, close: () => (server.close(), sockets.forEach((s) => s.destroy())) };
}

describe.skipIf(!pgUp)(`PostgreSQL going down during a run (skipped: ${PG_SKIP_REASON})`, () => {
  let inst: Instance;
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase();
    inst = await makeInstance({ database: db.url });
    await S.importScenario(inst);
    await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await inst?.cleanup();
    await db?.drop();
  });

  /** Points the instance at a new cutting proxy. */
  async function behindProxy(): Promise<Awaited<ReturnType<typeof cuttingProxy>>> {
    const proxy = await cuttingProxy(new URL(db.url));
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const config = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    await writeFile(inst.config, JSON.stringify({ ...config, database: url.toString() }));
    return proxy;
  }

  it('batches list: DB_UNREACHABLE naming host and port, exit 1, no stack, nothing on stdout', async () => {
    const proxy = await behindProxy();
    try {
      const r = await inst.cli(['batches', 'list']);
      await proxy.cut;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${proxy.port}.*stopped answering.*\\[DB_UNREACHABLE\\]`));
      expect(r.stderr).not.toMatch(NO_STACK);
    } finally {
      proxy.close();
    }
  });

  it('run-once --json: stdout holds only its JSON document; the driver says nothing there', async () => {
    const proxy = await behindProxy();
    try {
      await writeRequestFile(join(inst.spool, 'fin', 'in', 'DOWN.xml'), S.header({ fileId: 'PG-DOWN' }), S.lines.slice(0, 2));
      const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
      await proxy.cut; // the database did go away during the run
      expect(r.stdout).not.toMatch(NO_STACK);
      // one JSON document (it may well report the failure), and nothing else
      if (r.stdout !== '') expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow();
      expect(r.code, r.stderr).not.toBe(0);
    } finally {
      proxy.close();
    }
  });
});
