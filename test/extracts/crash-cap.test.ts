// A poison extract: every run of it is killed (SIGKILL at src/pipeline/crashPoint.ts's
// `extract-written`, like a power cut there). The take-overs count as attempts, as a request
// batch's do: after the retry policy's maxAttempts runs, the next run gives it up (FAILED,
// CRASHED) instead of running it again, and later runs refuse it (EXTRACT_GIVEN_UP) without
// touching it, until an operator re-opens it (--retry). No time passes: a dead run's lease is moved into the past, as the database clock would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { patient } from '../helpers/patience.js';
import { DEFAULT_RETRY } from '../../src/pipeline/retryPolicy.js';
import { CLOCK, loadStore } from './fixture.js';

// The instance's config has no `retry` block: the default policy applies (to `extract run` and the daemon alike).
const MAX = DEFAULT_RETRY.maxAttempts;

describe('an extract that kills its process every time', () => {
  let inst: Instance;
  let db: Db;
  const extract = (env: Record<string, string> = {}, more: string[] = []) =>
    run(process.execPath, [BIN, 'extract', 'run', '--client', 'fin', '--year', '2025', '--as-of', '2026-01-15', '--json', '--config', inst.config, ...more], { cwd: inst.dir, env: { LDM_BATCH_CLOCK: CLOCK, ...env } });
  const batch = async () => db('batches').where('file_name', 'EXTRACT-fin-2025').first();

  beforeAll(async () => {
    inst = await makeInstance();
    await loadStore(inst, 120, 3);
    db = await openDatabase(parseDatabaseSpec(join(inst.dir, 'data', 'ldm-batch.sqlite')));
  }, patient(180_000));
  afterAll(async () => {
    await db?.destroy();
    await inst?.cleanup();
  });

  it(`is run ${MAX} times, then given up (CRASHED), then left alone`, async () => {
    for (let n = 1; n <= MAX; n++) {
      const r = await extract({ LDM_BATCH_CRASH_AT: 'extract-written' });
      expect(r.code, `run ${n} should have been killed: ${r.stdout}${r.stderr}`).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(await batch()).toMatchObject({ state: 'CLAIMED', attempts: n });
      await db('batches').where('file_name', 'EXTRACT-fin-2025').update({ lease_until: '2000-01-01T00:00:00.000Z' }); // its lease ran out
    }
    // Run MAX + 1 is not started: the extract is given up, the runs so far recorded.
    const giving = await extract({ LDM_BATCH_CRASH_AT: 'extract-written' });
    expect(giving.code, giving.stderr).toBe(1);
    const out = (JSON.parse(giving.stdout) as { extracts: { code: string; message: string }[] }).extracts[0];
    expect(out.code).toBe('EXTRACT_GIVEN_UP');
    expect(out.message).toContain(`given up after ${MAX} attempt(s)`);
    const b = await batch();
    expect(b).toMatchObject({ state: 'FAILED', error_code: 'CRASHED', attempts: MAX, client_id: 'fin', lease_until: null });
    expect(b.error).toMatch(/every attempt so far ended with its process dying/);
    expect(giving.stderr).toMatch(/"event":"extract.given_up"/);

    // Not run again, not even without the crash.
    const later = await extract();
    expect(later.code).toBe(1);
    expect((JSON.parse(later.stdout) as { extracts: { code: string }[] }).extracts[0].code).toBe('EXTRACT_GIVEN_UP');
    expect(await batch()).toMatchObject({ state: 'FAILED', attempts: MAX });
    expect(await readdir(join(inst.spool, 'fin', 'out')).catch(() => [] as string[])).toEqual([]);

    // The operator fixed the cause and re-opens it: written once, then never again.
    const retried = await extract({}, ['--retry']);
    expect(retried.code, retried.stderr).toBe(0);
    expect((JSON.parse(retried.stdout) as { extracts: { outcome: string }[] }).extracts[0].outcome).toBe('WRITTEN');
    expect(retried.stderr).toMatch(/"event":"extract.reopened"/);
    expect(await batch()).toMatchObject({ state: 'DONE' });
    expect(await readdir(join(inst.spool, 'fin', 'out'))).toEqual(['EXTRACT-fin-2025.xml']);
    const after = await extract({}, ['--retry']);
    expect((JSON.parse(after.stdout) as { extracts: { outcome: string }[] }).extracts[0].outcome).toBe('ALREADY_WRITTEN');
  }, patient(180_000));
});
