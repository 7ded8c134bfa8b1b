// The read model as the operator sees it: every import of persons, repertory or amounts makes a
// new store version and builds its file (an import that changes nothing does not); older files no
// batch needs go; files are 0600 in a 0700 folder; a batch records the version of its claim; a
// repertory change makes a version the next batch builds; `snapshot rebuild` and `show`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';

let inst: Instance;
let gen: string;
const REF = '2026-01-15';
const versionOf = (stdout: string): number | undefined => (JSON.parse(stdout) as { readModel?: { built?: { storeVersion: number } } }).readModel?.built?.storeVersion;
const files = (): string[] => readdirSync(join(inst.dir, 'data', 'readmodel')).sort();

beforeAll(async () => {
  inst = await makeInstance();
  gen = join(inst.dir, 'gen');
  const g = await run(process.execPath, [BIN, 'generate', '--out', gen, '--persons', '300', '--lines', '40', '--seed', '7', '--reference-date', REF]);
  expect(g.code, g.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await inst?.cleanup();
});

describe('read model via the CLI', () => {
  it('builds a version per import that changes the store, keeps only what is needed, records the version at claim', async () => {
    const c = await inst.cli(['import', 'clients', join(gen, 'clients.csv'), '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(versionOf(c.stdout)).toBeUndefined(); // clients are not in the read model
    const versions: number[] = [];
    for (const kind of ['persons', 'repertory', 'amounts']) {
      const r = await inst.cli(['import', kind, join(gen, `${kind}.csv`), '--json']);
      expect(r.code, r.stderr).toBe(0);
      versions.push(versionOf(r.stdout) as number);
    }
    expect(versions).toEqual([1, 2, 3]);
    expect(files()).toEqual(['v3.ldmrm']);
    expect(statSync(join(inst.dir, 'data', 'readmodel')).mode & 0o777).toBe(0o700);
    expect(statSync(join(inst.dir, 'data', 'readmodel', 'v3.ldmrm')).mode & 0o777).toBe(0o600);

    // the same file again changes nothing: no new version
    const again = await inst.cli(['import', 'amounts', join(gen, 'amounts.csv'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(versionOf(again.stdout)).toBeUndefined();

    const p = await inst.cli(['process', join(gen, 'request-40.xml'), '-o', join(inst.dir, 'r1.xml'), '--as-of', REF, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const b = await inst.cli(['batches', 'show', String((JSON.parse(p.stdout) as { batch: number }).batch), '--json']);
    expect((JSON.parse(b.stdout) as { storeVersion: number }).storeVersion).toBe(3);

    // a repertory change makes version 4; the next batch builds it
    const reg = await inst.cli(['repertory', 'register', '--ssin', '85073003328', '--sector', '17', '--quality-code', '1', '--start', '2025-01-01', '--json']);
    expect(reg.code, reg.stderr).toBe(0);
    expect(files()).toEqual(['v3.ldmrm']);
    const p2 = await inst.cli(['process', join(gen, 'request-40.xml'), '-o', join(inst.dir, 'r2.xml'), '--as-of', REF, '--json']);
    expect(p2.code, p2.stderr).toBe(0);
    expect(files()).toEqual(['v4.ldmrm']);

    const show = await inst.cli(['snapshot', 'show', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout) as { storeVersion: number; files: { version: number; bytes: number }[] };
    expect(shown.storeVersion).toBe(4);
    expect(shown.files.map((f) => f.version)).toEqual([4]);

    const rb = await inst.cli(['snapshot', 'rebuild', '--json']);
    expect(rb.code, rb.stderr).toBe(0);
    const rebuilt = JSON.parse(rb.stdout) as { storeVersion: number; bytes: number; counts: { persons: number } };
    expect(rebuilt.storeVersion).toBe(4);
    expect(rebuilt.bytes).toBe(shown.files[0].bytes);
    expect(rebuilt.counts.persons).toBeGreaterThan(300);
  }, 180_000);
});
