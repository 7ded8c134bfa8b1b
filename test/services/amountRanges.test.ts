// The pipeline looks up only the amount rows a line needs (lookupAmountRanges); the rules must
// answer exactly as with every row of the person (lookupAmounts). Random data on a real SQLite
// store: amounts over several years, late payments and corrections, both roles, yearly and
// monthly lines, reference dates around the visibility boundaries.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.js';
import { lookupAmountRanges, lookupAmounts, type AmountRange } from '../../src/store/lookupAmounts.js';
import { aggregateMonths, aggregateYear } from '../../src/domain/aggregate.js';
import { addMonths, lastDayOfMonth } from '../../src/domain/dates.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { rng } from '../../src/generate/dataset.js';
import { visibleBefore } from '../../src/services/amounts/resolve.js';
import type { RequestPeriod, Role } from '../../src/interfaces.js';

let db: Db;
let dir: string;
const r = rng(20260315);
const persons = Array.from({ length: 60 }, (_, i) => makeSsin({ year: 1950 + (i % 50), month: 1 + (i % 12), day: 1 + (i % 28) }, i + 1));
const OCMWS = ['0212000032', '0212111779'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-ranges-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  const rows: Record<string, unknown>[] = [];
  for (const [i, ssin] of persons.entries()) {
    const partner = i % 3 === 0 ? persons[(i + 1) % persons.length] : null;
    let month = `${2022 + Math.floor(r() * 3)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}`;
    const count = Math.floor(r() * 30);
    for (let k = 0; k < count; k++) {
      month = addMonths(month, Math.floor(r() * 3));
      const paidMonth = addMonths(month, 1 + Math.floor(r() * 3));
      const paidOn = `${paidMonth}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
      const from = `${month}-${String(1 + Math.floor(r() * 10)).padStart(2, '0')}`;
      rows.push({
        ssin,
        partner_ssin: k % 4 === 0 ? null : partner,
        ocmw_cbe: OCMWS[Math.floor(r() * 2)],
        benefit_type: r() < 0.8 ? 'LEEFLOON' : 'EQUIVALENT_LEEFLOON',
        category: r() < 0.5 ? 'ISOLATED' : 'COHABITANT',
        month,
        grant_from: from,
        grant_to: r() < 0.8 ? lastDayOfMonth(month) : `${month}-20`,
        amount_cents: Math.floor(r() * 200_000) - 10_000,
        paid_on: paidOn,
        status: r() < 0.3 ? 'PROVISIONAL' : 'DEFINITIVE',
      });
    }
  }
  for (let i = 0; i < rows.length; i += 50) await db('amounts').insert(rows.slice(i, i + 50)).onConflict().ignore();
});

afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function randomPeriod(): RequestPeriod {
  const y = 2022 + Math.floor(r() * 5);
  if (r() < 0.5) return { kind: 'year', year: y };
  const a = 1 + Math.floor(r() * 12);
  const b = a + Math.floor(r() * (13 - a));
  return { kind: 'months', from: `${y}-${String(a).padStart(2, '0')}`, to: `${y}-${String(b).padStart(2, '0')}` };
}

function range(ssin: string, p: RequestPeriod): AmountRange {
  if (p.kind === 'year') return { ssin, from: `${p.year}-`, to: `${p.year}-\uffff`, after: false };
  if (p.kind === 'months') return { ssin, from: p.from, to: p.to, after: true };
  throw new Error('no dates lines here');
}

function answer(rows: Parameters<typeof aggregateYear>[0], role: Role, p: RequestPeriod, referenceDate: string): unknown {
  if (p.kind === 'year') return aggregateYear(rows, role, p.year, referenceDate);
  if (p.kind === 'months') return aggregateMonths(rows, role, p.from, p.to, referenceDate);
  return undefined;
}

describe('lookupAmountRanges', () => {
  it('gives the same answers as every row of the person, for both roles and many reference dates', async () => {
    const referenceDates = ['2023-03-03', '2023-03-04', '2024-02-29', '2024-12-07', '2025-01-01', '2025-06-14', '2026-03-15', '2027-01-01'];
    let compared = 0;
    let withData = 0;
    const lastPaid = new Set<boolean>();
    for (const role of ['BENEFICIARY', 'PARTNER'] as const) {
      const all = await lookupAmounts(db, role, persons);
      for (const referenceDate of referenceDates) {
        const lines = persons.flatMap((ssin) => [randomPeriod(), randomPeriod(), randomPeriod()].map((period) => ({ ssin, period })));
        const threshold = visibleBefore(referenceDate);
        expect(threshold).toMatch(/^\d{4}-\d{2}-01$/);
        const got = await lookupAmountRanges(db, role, lines.map((l) => range(l.ssin, l.period)));
        const gotWithThreshold = await lookupAmountRanges(db, role, lines.map((l) => range(l.ssin, l.period)), threshold);
        for (const [i, l] of lines.entries()) {
          const expected = answer(all.get(l.ssin) ?? [], role, l.period, referenceDate);
          expect(answer(got[i], role, l.period, referenceDate)).toEqual(expected);
          expect(answer(gotWithThreshold[i], role, l.period, referenceDate)).toEqual(expected);
          compared++;
          if (Array.isArray(expected) ? expected.length > 0 : (expected as { entries: unknown[] }).entries.length > 0) withData++;
          if (!Array.isArray(expected)) lastPaid.add((expected as { lastMonthIsLastPaid: boolean }).lastMonthIsLastPaid);
        }
      }
    }
    expect(compared).toBe(2 * 8 * persons.length * 3);
    // the comparison is not vacuous: many answers hold data, and lastMonthIsLastPaid takes both values
    expect(withData).toBeGreaterThan(compared / 10);
    expect([...lastPaid].sort()).toEqual([false, true]);
  });

  it('finds the visibility threshold: payments of the month before are visible from its first Saturday', () => {
    expect(visibleBefore('2026-03-15')).toBe('2026-03-01'); // February's payments visible since Sat 7 March
    expect(visibleBefore('2026-03-06')).toBe('2026-02-01'); // not yet: the first Saturday of March is the 7th
    expect(visibleBefore('2026-03-07')).toBe('2026-03-01');
  });

  it('returns nothing for no ranges and for unknown persons', async () => {
    expect(await lookupAmountRanges(db, 'BENEFICIARY', [])).toEqual([]);
    expect(await lookupAmountRanges(db, 'BENEFICIARY', [{ ssin: '00000000097', from: '2024-01', to: '2024-12', after: true }])).toEqual([[]]);
  });
});
