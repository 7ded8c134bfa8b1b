// A real instance in a temp folder (config, dev key, SQLite file, local spool), driven through
// the compiled CLI exactly as an operator would.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initInstance } from '../../src/cli/commands/init.js';
import { datedCert } from './certs.js';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'ldm-batch.js');

export interface Instance {
  dir: string;
  config: string;
  cert: string;
  spool: string;
  cli(args: string[], opts?: { env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  writeCsv(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

export function hasTool(path: string): boolean {
  return existsSync(path);
}

export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** An instance on SQLite (default) or, with `database`, on that PostgreSQL URL (set before init). */
export async function makeInstance(opts: { database?: string } = {}): Promise<Instance> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  const dir = await mkdtemp(join(tmpdir(), 'ldm-inst-'));
  const { configFile } = await initInstance(dir, { quiet: true, database: opts.database });
  // The development certificate starts now; tests fix clocks in the past (LDM_BATCH_CLOCK) and
  // verify checks the certificate was valid at ProcessedAt: the same key, certified from 2020.
  const ca = datedCert(new Date('2020-01-01T00:00:00Z'), new Date(Date.now() + 825 * 86_400_000), 'ldm-batch development signer', {
    keyPath: join(dir, 'keys', 'signing-key.pem'),
    certPath: join(dir, 'keys', 'signing-cert.pem'),
  });
  await rm(ca.dir, { recursive: true, force: true });
  return {
    dir,
    config: configFile,
    cert: join(dir, 'keys', 'signing-cert.pem'),
    spool: join(dir, 'spool'),
    cli: (args, opts) => run(process.execPath, [BIN, ...args, '--config', configFile], { env: opts?.env, cwd: dir }),
    async writeCsv(name, text) {
      const p = join(dir, name);
      await writeFile(p, text);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
