// An extract killed (SIGKILL, like a power cut) at each step — right after its claim, in the
// middle (after the first chunk of audit entries was stored), once written but not published,
// once published but not recorded — then run again: one file per client and year, byte-identical
// to the file of a run that never crashed, the audit entries of each line stored once, and one
// journal row per extract. The crash points are src/pipeline/crashPoint.ts's (LDM_BATCH_CRASH_AT).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { waitUntil } from '../daemon/harness.js';
import { patient } from '../helpers/patience.js';
import { CLOCK, loadStore } from './fixture.js';
import { EXTRACT_AUDIT_ROWS_PER_FLUSH } from '../../src/extracts/run.js';
import { auditEntries } from '../helpers/auditEntries.js';

/** Each crash point on its own year of fin's extract (each year is a separate extract). */
const POINTS = [
  { point: 'extract-claimed', year: 2025 },
  { point: 'extract-audited', year: 2024 },
  { point: 'extract-written', year: 2023 },
  { point: 'extract-published', year: 2022 },
];

interface RunOut {
  outcome: string;
  records?: number;
  batchId?: number;
  resumed?: boolean;
  alreadyPublished?: boolean;
}

describe('an extract killed at any step and run again: one file, the same bytes, no doubled audit entries', () => {
  let inst: Instance;
  let refDir: string;
  let db: Db;
  const env = { LDM_BATCH_CLOCK: CLOCK };
  const extract = (dir: string, year: number, extra: Record<string, string> = {}) =>
    run(process.execPath, [BIN, 'extract', 'run', '--client', 'fin', '--year', String(year), '--as-of', '2026-01-15', '--json', '--config', join(dir, 'ldm-batch.config.json')], { cwd: dir, env: { ...env, ...extra } });

  beforeAll(async () => {
    inst = await makeInstance();
    // enough persons for fin's 2024 extract (≈1,400 lines) to store a few audit chunks; a short lease, so a dead run is taken over soon
    await loadStore(inst, 2500, 5, { leaseSeconds: 1 });
    // The reference: the same instance (key, store, config) copied before anything ran, never crashed.
    refDir = `${inst.dir}-reference`;
    await cp(inst.dir, refDir, { recursive: true });
    db = await openDatabase(parseDatabaseSpec(join(inst.dir, 'data', 'ldm-batch.sqlite')));
  }, patient(180_000));
  afterAll(async () => {
    await db?.destroy();
    await inst?.cleanup();
    if (refDir) await rm(refDir, { recursive: true, force: true });
  });

  it.each(POINTS)('killed at $point ($year)', async ({ point, year }) => {
    const ref = await extract(refDir, year);
    expect(ref.code, ref.stderr).toBe(0);
    const reference = await readFile(join(refDir, 'spool', 'fin', 'out', `EXTRACT-fin-${year}.xml`));

    const crashed = await extract(inst.dir, year, { LDM_BATCH_CRASH_AT: point });
    expect(crashed.code, `it should have been killed at ${point}: ${crashed.stdout}${crashed.stderr}`).not.toBe(0);
    expect(crashed.stdout).toBe(''); // killed before it printed anything
    const claimed: { batch_id: number }[] = await db('extracts').where({ client_id: 'fin', year });
    expect(claimed.length).toBe(1);
    const batchId = claimed[0].batch_id;
    expect((await db('batches').where({ id: batchId }).first('state')).state).toBe('CLAIMED');
    const auditedBefore = (await auditEntries(db, { batchId })).length;
    if (point === 'extract-claimed') expect(auditedBefore).toBe(0);
    if (point === 'extract-audited') expect(auditedBefore).toBeGreaterThanOrEqual(EXTRACT_AUDIT_ROWS_PER_FLUSH); // killed in the middle: part of the entries stored
    const outBefore = await readdir(join(inst.spool, 'fin', 'out')).catch(() => [] as string[]);
    expect(outBefore.includes(`EXTRACT-fin-${year}.xml`)).toBe(point === 'extract-published');

    // Run again until the dead run's lease (1 s) has expired and the claim is taken over.
    const again = await waitUntil(
      async () => {
        const r = await extract(inst.dir, year);
        expect(r.code, r.stderr).toBe(0);
        const out = (JSON.parse(r.stdout) as { extracts: RunOut[] }).extracts[0];
        return out.outcome === 'IN_PROGRESS' ? undefined : out;
      },
      patient(30_000),
      'the dead run to be taken over',
    );
    expect(again).toMatchObject({ outcome: 'WRITTEN', resumed: true, batchId });
    if (point === 'extract-published') expect(again.alreadyPublished).toBe(true);

    // the same bytes as the run that never crashed, one file, nothing left over
    const file = join(inst.spool, 'fin', 'out', `EXTRACT-fin-${year}.xml`);
    expect((await readFile(file)).equals(reference), 'byte-identical to the uncrashed run').toBe(true);
    expect((await readdir(join(inst.spool, 'fin', 'out'))).filter((n) => n.includes(String(year)) || n.startsWith('.'))).toEqual([`EXTRACT-fin-${year}.xml`]);

    // every line audited once, under the one batch of the extract
    const records = again.records ?? -1;
    if (point === 'extract-audited') expect(auditedBefore).toBeLessThan(records);
    const audit: { seq: number; ssin: string }[] = await auditEntries(db, { batchId });
    expect(audit.length).toBe(records);
    expect(new Set(audit.map((a) => a.ssin)).size).toBe(records);
    const batch = await db('batches').where({ id: batchId }).first();
    expect(batch).toMatchObject({ state: 'DONE', client_id: 'fin', record_count: records, attempts: 2 });
    expect((await db('batches').where('file_name', `EXTRACT-fin-${year}`)).length).toBe(1);

    const finalRun = await extract(inst.dir, year);
    expect((JSON.parse(finalRun.stdout) as { extracts: RunOut[] }).extracts[0].outcome).toBe('ALREADY_WRITTEN');
  }, patient(120_000));

  it('no audit entry of fin belongs to anything but its extracts, and each extract is one journal row', async () => {
    const rows = [...new Set((await auditEntries(db, { clientId: 'fin' })).map((e) => e.batch_id))].map((batch_id) => ({ batch_id }));
    const extracts: { batch_id: number }[] = await db('extracts').where('client_id', 'fin');
    expect(rows.map((r) => r.batch_id).sort()).toEqual(extracts.map((e) => e.batch_id).sort());
    expect(extracts.length).toBe(POINTS.length);
  });
});
