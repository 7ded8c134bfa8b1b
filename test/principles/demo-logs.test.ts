// Logging principle, from the outside: run the whole demo with debug logging and grep every
// line it prints — no full SSIN (11 digits in a row) may appear in the logs.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, run } from '../helpers/instance.js';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the demo with logging on', () => {
  it('logs events, and no 11-digit number in any log line', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldm-demo-logs-'));
    const r = await run(process.execPath, [BIN, 'demo', '--dir', join(dir, 'demo')], { env: { LDM_BATCH_LOG_LEVEL: 'debug' }, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(4); // it did log
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.filter((l) => /(?<!\d)\d{11}(?!\d)/.test(l))).toEqual([]);
    expect(r.stderr).toContain('"event":"batch.done"'); // the processing was logged
  });
});
