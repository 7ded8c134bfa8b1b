// A real OpenSSH server for the SFTP spool tests: /usr/sbin/sshd on a free 127.0.0.1 port, a
// temporary ed25519 host key, one authorized client key, internal-sftp only.
//
// Facts this relies on (Debian OpenSSH 9.2): sshd must be started by its absolute path (it
// re-executes itself); as root it needs the privilege separation folder /run/sshd; a non-root
// sshd can only authenticate the user it runs as. With `UsePAM no`, sshd refuses accounts whose
// password field starts with `!` (locked); root's `*` here is accepted for key logins.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import type { SftpConfig } from '../../src/config/config.js';

export const SSHD = '/usr/sbin/sshd';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, cmd)));
}

/** False when the tests cannot run a server here (no OpenSSH server or no ssh-keygen). */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && onPath('ssh-keygen');
}

/** The OpenSSH `sftp` client, for tests that look at the server from another process. */
export function sftpClientAvailable(): boolean {
  return onPath('sftp');
}

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  /** Temp folder with the server's files (config, keys, authorized_keys). */
  readonly dir: string;
  /** The folder served over SFTP (also reachable on the local disk, for seeding and checks). */
  readonly root: string;
  readonly clientKeyPath: string;
  /** Current host key, as `ssh-keygen -lf` prints it, and as a known_hosts line. */
  hostFingerprint: string;
  knownHostsLine: string;
  /** An SftpConfig pinned to the current host key by fingerprint. */
  sftpConfig(overrides?: Partial<SftpConfig>): SftpConfig;
  /** Kills the server and every session it serves (as a crash or reboot would). */
  stop(): Promise<void>;
  /** Starts again on the same port with the same keys. */
  start(): Promise<void>;
  /** New host key, server restarted; returns the new fingerprint. */
  rotateHostKey(): Promise<string>;
  /** SIGSTOPs the per-connection processes: open connections go silent (no FIN, no RST). Returns a function that kills them. */
  freezeSessions(): () => void;
  addAuthorizedKey(publicKeyLine: string): Promise<void>;
  /** Everything sshd wrote to stderr so far. */
  log(): string;
  /** Stops the server and removes its files. */
  cleanup(): Promise<void>;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export function makeKey(path: string, passphrase = ''): void {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'ldm-test', '-f', path]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** All descendants of pid (from /proc), children before grandchildren. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may contain spaces: the ppid follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) if (parent === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) if (child.pid) for (const pid of [...descendants(child.pid), child.pid]) killQuietly(pid, 'SIGKILL');
});

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'ldm-sshd-'));
  const root = join(dir, 'root');
  await mkdir(root);
  const hostKey = join(dir, 'host_ed25519');
  const clientKeyPath = join(dir, 'client_ed25519');
  makeKey(hostKey);
  makeKey(clientKeyPath);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${clientKeyPath}.pub`));
  const port = await freePort();
  const user = userInfo().username;
  const configFile = join(dir, 'sshd_config');
  await writeFile(
    configFile,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no', // the temp folders are not owned the way sshd wants for a home
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'MaxStartups 50',
      'Subsystem sftp internal-sftp',
      // Every login is an SFTP session starting in the served folder (no shell, no chroot needed).
      `ForceCommand internal-sftp -d ${root}`,
      '',
    ].join('\n'),
  );
  // Privilege separation: a root sshd chroots its pre-auth child here and refuses to start without it.
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let child: ChildProcess | null = null;
  let stderr = '';

  const fingerprintOf = (): string => run('ssh-keygen', ['-lf', `${hostKey}.pub`]).split(/\s+/)[1];
  const knownHostsLineOf = (): string => {
    const [type, b64] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${port} ${type} ${b64}`;
  };

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(proc);
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (buf: Buffer): void => {
        seen += buf.toString();
        stderr += buf.toString();
        if (seen.includes('Server listening on')) resolve();
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        live.delete(proc);
        if (child === proc) child = null;
        reject(new Error(`sshd exited (code ${code}) before listening:\n${seen}`));
      });
      proc.once('error', reject);
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // Sessions first (collected while the master is still their ancestor), then the master.
    for (const pid of descendants(proc.pid)) killQuietly(pid, 'SIGKILL');
    killQuietly(proc.pid, 'SIGTERM');
    await exited;
    child = null;
  };

  const server: Sshd = {
    host: '127.0.0.1',
    port,
    user,
    dir,
    root,
    clientKeyPath,
    hostFingerprint: fingerprintOf(),
    knownHostsLine: knownHostsLineOf(),
    sftpConfig: (overrides = {}) => ({
      host: '127.0.0.1',
      port,
      username: user,
      privateKeyFile: clientKeyPath,
      hostKeyFingerprint: server.hostFingerprint,
      readyTimeoutMs: 5_000,
      ...overrides,
    }),
    stop,
    start,
    async rotateHostKey() {
      await stop();
      makeKey(hostKey);
      server.hostFingerprint = fingerprintOf();
      server.knownHostsLine = knownHostsLineOf();
      await start();
      return server.hostFingerprint;
    },
    freezeSessions() {
      const pids = child?.pid ? descendants(child.pid) : [];
      for (const pid of pids) killQuietly(pid, 'SIGSTOP');
      return () => {
        for (const pid of pids) killQuietly(pid, 'SIGKILL');
      };
    },
    async addAuthorizedKey(line: string) {
      await appendFile(authorizedKeys, line.endsWith('\n') ? line : line + '\n');
    },
    log: () => stderr,
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await start();
  return server;
}

/** A known_hosts file holding the server's current key (for the OpenSSH client). */
export async function writeKnownHosts(server: Sshd, path: string): Promise<string> {
  await writeFile(path, `${server.knownHostsLine}\n`);
  return path;
}

/**
 * Runs OpenSSH's `sftp -b` with these commands, as a client institution would (strict host key
 * checking against `knownHosts`). A command prefixed with `-` may fail without ending the batch.
 */
export function sftpBatch(server: Sshd, knownHosts: string, commands: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const cli = spawn('sftp', sftpArgs(server, knownHosts), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cli.once('error', reject);
    cli.once('exit', (code) => resolve({ code, stdout, stderr }));
    cli.stdin.end(commands.map((c) => `${c}\n`).join(''));
  });
}

/** The arguments of a batch-mode OpenSSH sftp session reading its commands from stdin. */
export function sftpArgs(server: Sshd, knownHosts: string): string[] {
  return ['-b', '-', '-q', '-i', server.clientKeyPath, '-P', String(server.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, `${server.user}@${server.host}`];
}
