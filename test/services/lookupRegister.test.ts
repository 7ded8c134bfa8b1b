// The one-statement register lookup (SQLite) must say exactly what the two separate lookups say,
// for every SSIN the rules will ask about: persons present, replaced, unknown; no, one or several
// integrations of the sender; integrations of other senders; sector-level integrations of the
// sender's sector (they count) and of another sector (they do not); keys repeated in one chunk.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.js';
import { lookupRegister } from '../../src/store/lookupRegister.js';
import { lookupPersons } from '../../src/store/lookupPersons.js';
import { lookupIntegrations } from '../../src/store/lookupIntegrations.js';
import { makeSsin } from '../../src/domain/ssin.js';

const SENDER_CBE = '0212000032';
const SENDER = { institutionCbe: SENDER_CBE, sector: 17 };
const OTHER = '0212111779';
const ssin = (i: number): string => makeSsin({ year: 1960 + (i % 40), month: 1 + (i % 12), day: 1 + (i % 28) }, i + 1);
// index → [persons row?, replaced?, integrations of the sender, integrations of another institution,
//          sector-level integrations of sector 17, sector-level integrations of sector 26]
const CASES: [number, boolean, boolean, number, number, number, number][] = [
  [0, true, false, 0, 0, 0, 0], // known, no integration
  [1, true, false, 1, 0, 0, 0], // one integration
  [2, true, false, 3, 1, 0, 0], // several, and one of another institution
  [3, true, true, 1, 0, 0, 0], // replaced
  [4, false, false, 2, 0, 1, 0], // unknown to the register, yet integrated (stops at MSG00005)
  [5, false, false, 0, 0, 0, 0], // unknown
  [6, true, false, 0, 2, 0, 0], // only another institution's integrations
  [7, true, false, 0, 0, 2, 0], // only sector-level integrations of the sender's sector
  [8, true, false, 1, 1, 1, 1], // all kinds
  [9, true, false, 0, 0, 0, 2], // only another sector's sector-level integrations
];

let db: Db;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-register-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  for (const [i, known, replaced, mine, others, sector17, sector26] of CASES) {
    if (known) await db('persons').insert({ ssin: ssin(i), replaced_by: replaced ? ssin(100 + i) : null });
    const holders: [string, number][] = [
      ...Array<[string, number]>(mine).fill([SENDER_CBE, 17]),
      ...Array<[string, number]>(others).fill([OTHER, 17]),
      ...Array<[string, number]>(sector17).fill(['', 17]),
      ...Array<[string, number]>(sector26).fill(['', 26]),
    ];
    const rows = holders.map(([cbe, sector], k) => ({
      ssin: ssin(i),
      sector,
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
    expect(got.integrations.get(ssin(7))?.map((x) => x.institutionCbe)).toEqual([null, null]);
    expect(got.integrations.get(ssin(8))?.map((x) => x.institutionCbe ?? 'sector').sort()).toEqual([SENDER_CBE, 'sector']);
    expect(got.integrations.has(ssin(9))).toBe(false);
    expect(got.persons.get(ssin(3))?.replacedBy).toBe(ssin(103));
  });

  it('returns empty maps for no keys', async () => {
    const got = await lookupRegister(db, SENDER, []);
    expect(got.persons.size).toBe(0);
    expect(got.integrations.size).toBe(0);
  });
});
