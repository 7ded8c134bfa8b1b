// The one-statement register lookup (SQLite) must say exactly what the two separate lookups say,
// for every SSIN the rules will ask about: persons present, replaced, unknown; no, one or several
// integrations of the sender; integrations of other senders; keys repeated in one chunk.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.js';
import { lookupRegister } from '../../src/store/lookupRegister.js';
import { lookupPersons } from '../../src/store/lookupPersons.js';
import { lookupIntegrations } from '../../src/store/lookupIntegrations.js';
import { makeSsin } from '../../src/domain/ssin.js';

const SENDER = '0212000032';
const OTHER = '0212111779';
const ssin = (i: number): string => makeSsin({ year: 1960 + (i % 40), month: 1 + (i % 12), day: 1 + (i % 28) }, i + 1);
// index → [persons row?, replaced?, integrations of the sender, integrations of another institution]
const CASES: [number, boolean, boolean, number, number][] = [
  [0, true, false, 0, 0], // known, no integration
  [1, true, false, 1, 0], // one integration
  [2, true, false, 3, 1], // several, and one of another institution
  [3, true, true, 1, 0], // replaced
  [4, false, false, 2, 0], // unknown to the register, yet integrated (stops at MSG00005)
  [5, false, false, 0, 0], // unknown
  [6, true, false, 0, 2], // only another institution's integrations
];

let db: Db;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-register-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  for (const [i, known, replaced, mine, others] of CASES) {
    if (known) await db('persons').insert({ ssin: ssin(i), replaced_by: replaced ? ssin(100 + i) : null });
    const rows = [...Array(mine).fill(SENDER), ...Array(others).fill(OTHER)].map((cbe: string, k) => ({
      ssin: ssin(i),
      sector: 17,
      institution_cbe: cbe,
      quality_code: 2 + (k % 2),
      start_date: `202${3 - (k % 3)}-0${1 + k}-01`,
      end_date: k % 2 === 0 ? null : '2025-12-31',
    }));
    if (rows.length > 0) await db('repertory').insert(rows);
  }
});

afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('lookupRegister', () => {
  it('answers as lookupPersons and lookupIntegrations do, for every SSIN a rule reads', async () => {
    const keys = [...CASES.map(([i]) => ssin(i)), ssin(2), ssin(0)]; // repeated keys too
    const got = await lookupRegister(db, SENDER, keys);
    const persons = await lookupPersons(db, keys);
    const integrations = await lookupIntegrations(db, SENDER, keys);
    expect(got.persons).toEqual(persons);
    for (const [i, known] of CASES) {
      const key = ssin(i);
      // Only known persons get as far as the finality check; for them the lists must be equal, in order.
      if (known) expect(got.integrations.get(key) ?? [], `case ${i}`).toEqual(integrations.get(key) ?? []);
      else expect(got.integrations.has(key), `case ${i}`).toBe(false);
    }
    expect(got.integrations.get(ssin(2))).toHaveLength(3);
    expect(got.persons.get(ssin(3))?.replacedBy).toBe(ssin(103));
  });

  it('returns empty maps for no keys', async () => {
    const got = await lookupRegister(db, SENDER, []);
    expect(got.persons.size).toBe(0);
    expect(got.integrations.size).toBe(0);
  });
});
