#!/usr/bin/env node
// node scripts/throughput.mjs [--instances 1,2,3] [--runs N]
//
// Throughput of 1, 2 and 3 `daemon` instances over the same 200 request files (5 clients, ~18,700
// lines), against one PostgreSQL database (127.0.0.1:5432, or LDM_TEST_PG_URL) and one real
// OpenSSH SFTP spool started for the purpose; every run is also checked for exactly-once (one
// byte-checked response per file, one DONE batch, one audit row per line with a valid SSIN).
// Prints seconds (first claim to last completion), files/s, lines/s, speed-up over the first
// count, and how busy the machine's cores were. Uses the compiled CLI: `npm run build` first.
//
// It runs test/multi/throughput.measure.ts through vitest (the test helpers start sshd and make
// the temp database), alone, so no other test competes for the cores while it measures.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = { instances: '1,2,3', runs: '1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--instances') o.instances = argv[++i] ?? '';
    else if (a === '--runs') o.runs = argv[++i] ?? '';
    else if (a === '--help' || a === '-h') {
      console.log('node scripts/throughput.mjs [--instances 1,2,3] [--runs N]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!/^[1-9]\d*(,[1-9]\d*)*$/.test(o.instances)) throw new Error('--instances must be a list like 1,2,3');
  if (!/^[1-9]\d*$/.test(o.runs)) throw new Error('--runs must be a whole number ≥ 1');
  return o;
}

const o = parseArgs(process.argv.slice(2));
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first (the daemons run the compiled CLI)');
  process.exit(2);
}
const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(ROOT, 'test', 'multi', 'throughput.vitest.config.ts')], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, LDM_THROUGHPUT_INSTANCES: o.instances, LDM_THROUGHPUT_RUNS: o.runs },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
