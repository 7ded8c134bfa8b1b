import { describe, expect, it } from 'vitest';
import type { AmountRow, MonthEntry, YearTotal } from '../../src/interfaces.js';
import { aggregateMonths, aggregateYear, ensureCapacity, monthsOf as monthsOfColumns, packAmountRows, visibleAmounts, yearOf } from '../../src/domain/aggregate.js';
import { addMonths, lastDayOfMonth } from '../../src/domain/dates.js';

const REF = '2026-01-15';
const BEN = '85073003328';
const BEN2 = '99073003331';
const P1 = '00073003318';
const P2 = '01000000149';
const O1 = '0212345678';
const O2 = '0308357159';

/** A full-month leefloon row paid late in its own month: visible from early next month. */
function row(month: string, over: Partial<AmountRow> = {}): AmountRow {
  return {
    ssin: BEN,
    partnerSsin: P1,
    ocmwCbe: O1,
    benefitType: 'LEEFLOON',
    category: 'ISOLATED',
    month,
    grantFrom: `${month}-01`,
    grantTo: lastDayOfMonth(month),
    amountCents: 100_000,
    paidOn: `${month}-24`,
    status: 'DEFINITIVE',
    ...over,
  };
}

/** Paid 2026-01-05: first visible 2026-02-07, so not yet visible on REF. */
const TOO_RECENT = '2026-01-05';

function monthsOf(year: number, count: number, over: Partial<AmountRow> = {}): AmountRow[] {
  return Array.from({ length: count }, (_, i) => row(addMonths(`${year}-01`, i), over));
}

function entry(month: string, over: Partial<MonthEntry> = {}): MonthEntry {
  return {
    month,
    ocmw: O1,
    benefitType: 'LEEFLOON',
    category: 'ISOLATED',
    amountCents: 100_000,
    from: `${month}-01`,
    to: lastDayOfMonth(month),
    fullMonth: true,
    provisional: false,
    partnerSsin: P1,
    ...over,
  };
}

describe('visibleAmounts', () => {
  it.each([
    ['paid in December, visible from 2026-01-03', row('2025-12'), true],
    ['paid 2026-01-05, visible from 2026-02-07', row('2025-12', { paidOn: TOO_RECENT }), false],
    ['paid on the reference date', row('2025-12', { paidOn: REF }), false],
  ])('%s → %s', (_label, r, visible) => {
    expect(visibleAmounts([r], REF)).toEqual(visible ? [r] : []);
  });
});

describe('aggregateMonths: BENEFICIARY entries', () => {
  it.each<[string, AmountRow[], string, string, MonthEntry[]]>([
    ['one full month', [row('2025-03')], '2025-03', '2025-03', [entry('2025-03')]],
    [
      'two rows of the same month are summed',
      [row('2025-03'), row('2025-03', { amountCents: 5_000 })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 105_000 })],
    ],
    [
      'a negative correction is subtracted',
      [row('2025-03'), row('2025-03', { amountCents: -2_500, paidOn: '2025-06-10' })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 97_500 })],
    ],
    [
      'a correction alone still makes a (negative) entry',
      [row('2025-03', { amountCents: -2_500 })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: -2_500 })],
    ],
    [
      'partial month: fullMonth false, from = first granted day',
      [row('2025-03', { grantFrom: '2025-03-10' })],
      '2025-03', '2025-03',
      [entry('2025-03', { from: '2025-03-10', fullMonth: false })],
    ],
    [
      'split grant 1–15 + 16–31 covers the month',
      [row('2025-03', { grantTo: '2025-03-15' }), row('2025-03', { grantFrom: '2025-03-16', amountCents: 50_000 })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 150_000 })],
    ],
    [
      'grant 1–14 + 16–31 leaves a hole',
      [row('2025-03', { grantTo: '2025-03-14' }), row('2025-03', { grantFrom: '2025-03-16' })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 200_000, fullMonth: false })],
    ],
    ['29 February 2024 granted: full month', [row('2024-02')], '2024-02', '2024-02', [entry('2024-02', { to: '2024-02-29' })]],
    [
      'grant to 28 February 2024: not full',
      [row('2024-02', { grantTo: '2024-02-28' })],
      '2024-02', '2024-02',
      [entry('2024-02', { to: '2024-02-28', fullMonth: false })],
    ],
    [
      'provisional when any row is',
      [row('2025-03'), row('2025-03', { status: 'PROVISIONAL', amountCents: 0 })],
      '2025-03', '2025-03',
      [entry('2025-03', { provisional: true })],
    ],
    [
      'two partners in a month: no partnerSsin',
      [row('2025-03'), row('2025-03', { partnerSsin: P2 })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 200_000, partnerSsin: undefined })],
    ],
    [
      'a partner and a null partner: no partnerSsin',
      [row('2025-03'), row('2025-03', { partnerSsin: null })],
      '2025-03', '2025-03',
      [entry('2025-03', { amountCents: 200_000, partnerSsin: undefined })],
    ],
    ['no partner at all', [row('2025-03', { partnerSsin: null })], '2025-03', '2025-03', [entry('2025-03', { partnerSsin: undefined })]],
    [
      'rows outside the months are left out',
      [row('2025-01'), row('2025-02'), row('2025-03'), row('2025-04')],
      '2025-02', '2025-03',
      [entry('2025-02'), entry('2025-03')],
    ],
    [
      'rows paid too recently are left out',
      [row('2025-11'), row('2025-12', { paidOn: TOO_RECENT }), row('2025-11', { amountCents: 1, paidOn: TOO_RECENT })],
      '2025-11', '2025-12',
      [entry('2025-11')],
    ],
    [
      'groups per ocmw, benefit type, category; sorted by month, ocmw, type, category',
      [
        row('2025-04'),
        row('2025-03', { category: 'FAMILY' }),
        row('2025-03', { ocmwCbe: O2 }),
        row('2025-03', { benefitType: 'EQUIVALENT_LEEFLOON' }),
        row('2025-03'),
      ],
      '2025-03', '2025-04',
      [
        entry('2025-03', { benefitType: 'EQUIVALENT_LEEFLOON' }),
        entry('2025-03', { category: 'FAMILY' }),
        entry('2025-03'),
        entry('2025-03', { ocmw: O2 }),
        entry('2025-04'),
      ],
    ],
  ])('%s', (_label, rows, from, to, expected) => {
    // toStrictEqual: optional attributes must be absent, not present as undefined.
    const strip = expected.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
    expect(aggregateMonths(rows, 'BENEFICIARY', from, to, REF).entries).toStrictEqual(strip);
  });
});

describe('aggregateMonths: PARTNER entries', () => {
  it('groups by beneficiary and names it, without partnerSsin', () => {
    const rows = [
      row('2025-03', { ssin: BEN2, partnerSsin: P1 }),
      row('2025-03', { ssin: BEN, partnerSsin: P1 }),
      row('2025-03', { ssin: BEN, partnerSsin: P1, amountCents: -100 }),
    ];
    expect(aggregateMonths(rows, 'PARTNER', '2025-03', '2025-03', REF).entries).toStrictEqual([
      { ...entry('2025-03', { amountCents: 99_900, beneficiarySsin: BEN }), partnerSsin: undefined },
      { ...entry('2025-03', { beneficiarySsin: BEN2 }), partnerSsin: undefined },
    ].map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined))));
  });
});

describe('aggregateMonths: lastMonthIsLastPaid', () => {
  const janToJun = monthsOf(2025, 6);
  it.each<[string, AmountRow[], string, string, boolean, number]>([
    ['later visible months exist', janToJun, '2025-01', '2025-03', false, 3],
    ['the period reaches the last paid month', janToJun, '2025-01', '2025-06', true, 6],
    ['the period goes past the last paid month', janToJun, '2025-04', '2025-12', true, 3],
    ['a later month exists but is not visible yet', [row('2025-11'), row('2025-12', { paidOn: TOO_RECENT })], '2025-11', '2025-12', true, 1],
    ['later month visible, returned months end earlier', [row('2025-02'), row('2025-09')], '2025-01', '2025-06', false, 1],
    ['nothing visible: empty entries', [row('2025-12', { paidOn: TOO_RECENT })], '2025-12', '2025-12', true, 0],
    ['nothing in the period but later months: empty entries', [row('2025-09')], '2025-01', '2025-06', false, 0],
  ])('%s → %s', (_label, rows, from, to, last, count) => {
    const result = aggregateMonths(rows, 'BENEFICIARY', from, to, REF);
    expect(result.lastMonthIsLastPaid).toBe(last);
    expect(result.entries).toHaveLength(count);
  });

  it('rejects an invalid month range', () => {
    expect(() => aggregateMonths([], 'BENEFICIARY', '2025-13', '2025-13', REF)).toThrow(RangeError);
  });
});

describe('aggregateYear', () => {
  const total = (over: Partial<YearTotal> = {}): YearTotal => ({
    ocmw: O1,
    benefitType: 'LEEFLOON',
    category: 'ISOLATED',
    amountCents: 1_200_000,
    months: 12,
    fullYear: true,
    provisional: false,
    partnerSsin: P1,
    ...over,
  });
  const clean = (t: YearTotal[]) => t.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));

  it.each<[string, AmountRow[], number, YearTotal[]]>([
    ['twelve full months', monthsOf(2025, 12), 2025, [total()]],
    ['leap year 2024, February to the 29th: 366 days covered', monthsOf(2024, 12), 2024, [total()]],
    [
      'leap year 2024, February granted to the 28th: not full',
      monthsOf(2024, 12).map((r) => (r.month === '2024-02' ? { ...r, grantTo: '2024-02-28' } : r)),
      2024,
      [total({ fullYear: false })],
    ],
    ['eleven months', monthsOf(2025, 11), 2025, [total({ amountCents: 1_100_000, months: 11, fullYear: false })]],
    [
      'December not yet visible on the reference date',
      monthsOf(2025, 12).map((r) => (r.month === '2025-12' ? { ...r, paidOn: TOO_RECENT } : r)),
      2025,
      [total({ amountCents: 1_100_000, months: 11, fullYear: false })],
    ],
    [
      'a negative correction lowers the total, not the month count',
      [...monthsOf(2025, 12), row('2025-05', { amountCents: -30_000, paidOn: '2025-08-12' })],
      2025,
      [total({ amountCents: 1_170_000 })],
    ],
    [
      'two partners in the year: partners sorted, no partnerSsin',
      monthsOf(2025, 12).map((r) => (r.month >= '2025-07' ? { ...r, partnerSsin: P2 } : r)),
      2025,
      [total({ partnerSsin: undefined, partners: [P1, P2].sort() })],
    ],
    [
      'a partner for part of the year, none for the rest',
      monthsOf(2025, 12).map((r) => (r.month >= '2025-07' ? { ...r, partnerSsin: null } : r)),
      2025,
      [total({ partnerSsin: undefined, partners: [P1] })],
    ],
    ['no partner at all', monthsOf(2025, 12, { partnerSsin: null }), 2025, [total({ partnerSsin: undefined })]],
    [
      'provisional when any amount is',
      monthsOf(2025, 12).map((r) => (r.month === '2025-11' ? { ...r, status: 'PROVISIONAL' as const } : r)),
      2025,
      [total({ provisional: true })],
    ],
    [
      'other years are left out',
      [...monthsOf(2024, 12), row('2025-01'), row('2026-01')],
      2025,
      [total({ amountCents: 100_000, months: 1, fullYear: false })],
    ],
    ['no visible rows in the year', [row('2025-12', { paidOn: TOO_RECENT })], 2025, []],
    [
      'groups sorted by ocmw, benefit type, category',
      [row('2025-02', { ocmwCbe: O2 }), row('2025-02', { category: 'COHABITANT' }), row('2025-02', { benefitType: 'CHILD_BENEFIT_ADVANCE' })],
      2025,
      [
        total({ benefitType: 'CHILD_BENEFIT_ADVANCE', amountCents: 100_000, months: 1, fullYear: false }),
        total({ category: 'COHABITANT', amountCents: 100_000, months: 1, fullYear: false }),
        total({ ocmw: O2, amountCents: 100_000, months: 1, fullYear: false }),
      ],
    ],
  ])('BENEFICIARY: %s', (_label, rows, year, expected) => {
    expect(aggregateYear(rows, 'BENEFICIARY', year, REF)).toStrictEqual(clean(expected));
  });

  it('PARTNER: one total per beneficiary, beneficiarySsin set, no partner fields', () => {
    const rows = [...monthsOf(2025, 12, { ssin: BEN2 }), ...monthsOf(2025, 3, { ssin: BEN })];
    expect(aggregateYear(rows, 'PARTNER', 2025, REF)).toStrictEqual(
      clean([
        total({ partnerSsin: undefined, beneficiarySsin: BEN, amountCents: 300_000, months: 3, fullYear: false }),
        total({ partnerSsin: undefined, beneficiarySsin: BEN2 }),
      ]),
    );
  });

  it('rejects a non-year', () => {
    expect(() => aggregateYear([], 'BENEFICIARY', 2025.5, REF)).toThrow(RangeError);
  });
});

// The rules run on columns (AmountColumns) that the read model reuses from line to line: only the
// first `count` rows count, and the order of the rows does not change the answer.
describe('rules on compact rows', () => {
  const rows = [
    row('2025-03'),
    row('2025-03', { amountCents: -100, paidOn: '2025-04-02' }),
    row('2025-04', { partnerSsin: P2, status: 'PROVISIONAL' }),
    row('2025-05', { grantFrom: '2025-05-10', partnerSsin: null }),
    row('2025-12', { paidOn: '2026-02-02' }), // not visible yet on REF
  ];

  it('reads only the first `count` rows of reused columns', () => {
    const c = packAmountRows([...rows, row('2025-06', { amountCents: 999 })], 'BENEFICIARY');
    c.count = rows.length; // the last row is a leftover of an earlier line
    ensureCapacity(c, 500); // growing keeps the rows
    expect(c.count).toBe(rows.length);
    expect(monthsOfColumns(c, 'BENEFICIARY', '2025-01', '2025-12', REF)).toStrictEqual(aggregateMonths(rows, 'BENEFICIARY', '2025-01', '2025-12', REF));
    expect(yearOf(c, 'BENEFICIARY', 2025, REF)).toStrictEqual(aggregateYear(rows, 'BENEFICIARY', 2025, REF));
  });

  it('answers the same whatever the order of the rows', () => {
    const expectedMonths = aggregateMonths(rows, 'BENEFICIARY', '2025-03', '2025-05', REF);
    const expectedYear = aggregateYear(rows, 'BENEFICIARY', 2025, REF);
    expect(expectedMonths.entries.length).toBe(3);
    expect(expectedYear[0].partners).toEqual([P1, P2].sort());
    for (const order of [[4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [1, 4, 0, 3, 2]]) {
      const shuffled = order.map((i) => rows[i]);
      expect(aggregateMonths(shuffled, 'BENEFICIARY', '2025-03', '2025-05', REF)).toStrictEqual(expectedMonths);
      expect(aggregateYear(shuffled, 'BENEFICIARY', 2025, REF)).toStrictEqual(expectedYear);
    }
  });

  it('refuses an SSIN that is not 11 digits (the store holds no other)', () => {
    expect(() => packAmountRows([row('2025-03', { partnerSsin: '123' })], 'BENEFICIARY')).toThrow(RangeError);
  });
});
