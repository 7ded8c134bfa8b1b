// The deployment kit: the systemd unit verifies and is hardened, the production config example
// loads through the real config loader, and the container recipe copies only what exists.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { ROOT, run } from '../helpers/instance.js';

const DEPLOY = join(ROOT, 'deploy');
const UNIT = join(DEPLOY, 'ldm-batch.service');
const ANALYZE = '/usr/bin/systemd-analyze';
const HAVE_ANALYZE = existsSync(ANALYZE);
const NO_ANALYZE = `${ANALYZE} is not installed (Debian package systemd): unit verification skipped`;

/** `systemd-analyze verify` exits 0 even for unknown keys; any output is a finding. */
async function verifyUnit(path: string): Promise<{ code: number; findings: string }> {
  const r = await run(ANALYZE, ['verify', path]);
  return { code: r.code, findings: (r.stdout + r.stderr).trim() };
}

describe('deploy/ldm-batch.service', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const directives = new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it.skipIf(!HAVE_ANALYZE)(`passes systemd-analyze verify with no finding${HAVE_ANALYZE ? '' : ` (skipped: ${NO_ANALYZE})`}`, async () => {
    expect(await verifyUnit(UNIT)).toEqual({ code: 0, findings: '' });
  });

  it.skipIf(!HAVE_ANALYZE)(`the check can fail: a misspelled directive is a finding${HAVE_ANALYZE ? '' : ` (skipped: ${NO_ANALYZE})`}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldm-unit-'));
    try {
      const bad = join(dir, 'ldm-batch.service');
      writeFileSync(bad, unit.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
      expect((await verifyUnit(bad)).findings).toMatch(/Unknown key 'ProtectSystm'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs hardened: own user, read-only system, one writable path, umask 0077, restart policy, check before start', () => {
    expect(directives.get('User')).toBe('ldm-batch');
    expect(directives.get('ProtectSystem')).toBe('strict');
    expect(directives.get('ReadWritePaths')).toBe('/var/lib/ldm-batch');
    expect(directives.get('UMask')).toBe('0077');
    expect(directives.get('Restart')).toBe('on-failure');
    expect(directives.get('NoNewPrivileges')).toBe('yes');
    expect(directives.get('CapabilityBoundingSet')).toBe('');
    expect(directives.get('ExecStartPre')).toMatch(/ldm-batch\.js check --config /);
    expect(directives.get('ExecStart')).toMatch(/ldm-batch\.js daemon --config /);
    // No secret in the unit: the password comes from the 0600 EnvironmentFile.
    expect(unit.split('\n').filter((l) => !l.startsWith('#')).join('\n')).not.toMatch(/PGPASSWORD=\S/);
  });
});

// bin/ldm-batch.js's first line carries the process's memory settings (README "Memory settings");
// node does not read it when the unit or the container start `node <script>`, so they repeat them.
describe('memory settings', () => {
  const shebang = readFileSync(join(ROOT, 'bin', 'ldm-batch.js'), 'utf8').split('\n')[0];
  const env = [...shebang.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => `${m[1]}=${m[2]}`);
  const flags = [...shebang.matchAll(/\s(--[a-z-]+=\S+)/g)].map((m) => m[1]);

  it('the command sets them itself when run as an operator runs it (its first line)', async () => {
    expect(env).toEqual(['MALLOC_ARENA_MAX=2']);
    expect(flags).toEqual(['--max-semi-space-size=8']);
    const probe = join(mkdtempSync(join(tmpdir(), 'ldm-flags-')), 'probe.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(JSON.stringify({ argv: process.execArgv, arena: process.env.MALLOC_ARENA_MAX }) + '\\n'));");
    const r = await run(join(ROOT, 'bin', 'ldm-batch.js'), ['--version'], { env: { NODE_OPTIONS: `--require ${probe}` } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stderr.trim().split('\n').pop() as string)).toEqual({ argv: flags, arena: '2' });
  });

  it('the systemd unit and the container start node with the same ones', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const e of env) expect(unit).toContain(`Environment=${e}\n`);
    for (const line of unit.split('\n').filter((l) => l.startsWith('ExecStart'))) expect(line).toContain(`/usr/bin/node ${flags.join(' ')} /opt/ldm-batch/bin/ldm-batch.js`);
    const recipe = readFileSync(join(DEPLOY, 'Containerfile'), 'utf8');
    for (const e of env) expect(recipe).toMatch(new RegExp(`^ENV .*\\b${e}\\b`, 'm'));
    expect(recipe).toContain(`exec node ${flags.join(' ')} /opt/ldm-batch/bin/ldm-batch.js`);
  });
});

describe('deploy/ldm-batch.config.example.json', () => {
  it('loads through the config loader: SFTP spool with a pinned host key, PostgreSQL without a password', () => {
    const config = loadConfig(join(DEPLOY, 'ldm-batch.config.example.json'));
    expect(config.spool.transport).toBe('sftp');
    expect(config.spool.sftp?.hostKeyFingerprint).toMatch(/^SHA256:/);
    expect(config.database).toMatch(/^postgres:\/\/ldm_batch@/);
    expect(config.environment).toBe('PROD');
  });
  it('the env file example sets no secret', () => {
    for (const line of readFileSync(join(DEPLOY, 'ldm-batch.env.example'), 'utf8').split('\n')) {
      if (!line.startsWith('#')) expect(line).not.toMatch(/=\S/);
    }
  });
});

describe('deploy/Containerfile', () => {
  const recipe = readFileSync(join(DEPLOY, 'Containerfile'), 'utf8');
  it('copies only paths that exist in the repository, runs as its own user with umask 077', () => {
    for (const m of recipe.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1].split(' ')) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
    }
    expect(recipe).toMatch(/^USER ldm-batch$/m);
    expect(recipe).toMatch(/umask 0077/);
    expect(recipe).toMatch(/npm prune --omit=dev/);
    expect(recipe).not.toMatch(/PGPASSWORD|PRIVATE KEY/);
  });
});
