// `generate` writes Handiservice data that the real imports take without a bad row, and a
// Handiservice request file that `process` answers with data, both checks' codes and a signature.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';

const REF = '2026-01-15';
let inst: Instance;
let gen: string;

beforeAll(async () => {
  inst = await makeInstance();
  gen = join(inst.dir, 'gen');
  const g = await run(process.execPath, [BIN, 'generate', '--out', gen, '--persons', '600', '--lines', '300', '--seed', '16', '--reference-date', REF]);
  expect(g.code, g.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await inst?.cleanup();
});

describe('generate: Handiservice', () => {
  it('its files import without a bad row and its request is answered with every outcome', async () => {
    for (const kind of ['clients', 'persons', 'repertory', 'handicap_recognitions', 'handicap_rights', 'handicap_payments', 'social_cards']) {
      const r = await inst.cli(['import', kind, join(gen, `${kind}.csv`), '--json']);
      expect(r.code, `${kind}: ${r.stderr}`).toBe(0);
      const report = JSON.parse(r.stdout) as { rows: number; inserted: number };
      expect(report.rows, kind).toBeGreaterThan(0);
      expect(report.inserted, kind).toBe(report.rows);
    }
    const out = join(inst.dir, 'hs.response.xml');
    const p = await inst.cli(['process', join(gen, 'request-handiservice-300.xml'), '-o', out, '--as-of', REF]);
    expect(p.code, p.stderr).toBe(0);
    const xml = await readFile(out, 'utf8');
    expect(xml).toContain('<Service>Handiservice</Service>');
    const counts = Object.fromEntries([...xml.matchAll(/<StatusCount code="(\w+)">(\d+)</g)].map((m) => [m[1], Number(m[2])]));
    for (const code of ['MSG00000', 'MSG00012', 'MSG00021']) expect(counts[code] ?? 0, `${code} in ${JSON.stringify(counts)}`).toBeGreaterThan(0);
    expect(xml).toMatch(/<Handicap>\n\s+<(Recognition|Right|Payment|SocialCard) /);
    const v = await inst.cli(['verify', out]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});
