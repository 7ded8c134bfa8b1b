// Proportionality: a client sees only the fields its authorization names.
import { describe, expect, it } from 'vitest';
import type { MonthEntry, ResponseLine, YearTotal } from '../../src/interfaces.js';
import { AMOUNT_FIELDS, applyFieldProfile, periodKindAllowed, unknownAmountFields, type ProfiledResponseLine } from '../../src/services/amounts/profile.js';

const A = '85073003328';
const P1 = '87031204545';
const P2 = '01020301259';

const total = (over: Partial<YearTotal> = {}): YearTotal => ({
  ocmw: '0212000032',
  benefitType: 'LEEFLOON',
  category: 'ISOLATED',
  amountCents: 1_234_567,
  months: 12,
  fullYear: true,
  provisional: false,
  ...over,
});
const month = (m: string, over: Partial<MonthEntry> = {}): MonthEntry => ({
  month: m,
  ocmw: '0212000032',
  benefitType: 'LEEFLOON',
  category: 'COHABITANT',
  amountCents: 98_765,
  from: `${m}-01`,
  to: `${m}-28`,
  fullMonth: false,
  provisional: true,
  ...over,
});

const yearLine: ResponseLine = {
  seq: 1,
  ticket: 't-1',
  ssin: A,
  status: 'MSG00000',
  year: { year: 2025, totals: [total({ partnerSsin: P1 }), total({ category: 'FAMILY', partners: [P1, P2] })] },
};
const monthsLine: ResponseLine = {
  seq: 2,
  ssin: A,
  status: 'MSG00000',
  months: { lastMonthIsLastPaid: true, entries: [month('2025-01', { partnerSsin: P1 }), month('2025-02', { beneficiarySsin: P2 })] },
};
const noDataLine: ResponseLine = { seq: 3, ssin: A, status: 'MSG00100' };

const allButPartner = AMOUNT_FIELDS.filter((f) => f !== 'partnerSsin');

describe('applyFieldProfile', () => {
  it.each([
    ['empty profile: everything', yearLine, [], yearLine],
    ['empty profile: everything (months)', monthsLine, [], monthsLine],
    ['every field named: everything', monthsLine, [...AMOUNT_FIELDS], monthsLine],
    [
      'yearly totals only: a months line gets no Months detail',
      monthsLine,
      ['Year', 'amountCents', 'months'],
      { seq: 2, ssin: A, status: 'MSG00008' },
    ],
    [
      'yearly totals only: a year line keeps totals, only the named attributes',
      yearLine,
      ['Year', 'amountCents', 'months'],
      { seq: 1, ticket: 't-1', ssin: A, status: 'MSG00000', year: { year: 2025, totals: [{ amountCents: 1_234_567, months: 12 }, { amountCents: 1_234_567, months: 12 }] } },
    ],
    [
      'months without Year: a year line is refused',
      yearLine,
      ['Months', 'amountCents'],
      { seq: 1, ticket: 't-1', ssin: A, status: 'MSG00008' },
    ],
    [
      'grouping keys not allowed are left out, month stays',
      monthsLine,
      ['Months', 'amountCents', 'lastMonthIsLastPaid'],
      { seq: 2, ssin: A, status: 'MSG00000', months: { lastMonthIsLastPaid: true, entries: [{ month: '2025-01', amountCents: 98_765 }, { month: '2025-02', amountCents: 98_765 }] } },
    ],
    [
      'lastMonthIsLastPaid not allowed',
      monthsLine,
      ['Months', 'ocmw'],
      { seq: 2, ssin: A, status: 'MSG00000', months: { entries: [{ month: '2025-01', ocmw: '0212000032' }, { month: '2025-02', ocmw: '0212000032' }] } },
    ],
    ['a line without data is untouched', noDataLine, ['Year'], noDataLine],
    ['unknown names grant nothing', monthsLine, ['Months', 'AMOUNTCENTS', 'everything'], { seq: 2, ssin: A, status: 'MSG00000', months: { entries: [{ month: '2025-01' }, { month: '2025-02' }] } }],
  ] as [string, ResponseLine, string[], ProfiledResponseLine][])('%s', (_label, line, fields, expected) => {
    const before = structuredClone(line);
    expect(applyFieldProfile(line, fields)).toEqual(expected);
    expect(line).toEqual(before); // pure
  });

  describe('a client without partnerSsin never sees a partner SSIN', () => {
    it.each([
      ['year line (attribute and <Partner> children)', yearLine],
      ['months line', monthsLine],
    ])('%s', (_label, line) => {
      const out = applyFieldProfile(line, allButPartner);
      const json = JSON.stringify(out);
      expect(json).not.toContain(P1);
      expect(json).not.toContain('partnerSsin');
      expect(json).not.toContain('partners');
      expect(out.status).toBe('MSG00000');
    });
    it('but still sees the beneficiary when beneficiarySsin is allowed', () => {
      expect(JSON.stringify(applyFieldProfile(monthsLine, allButPartner))).toContain(P2);
    });
  });

  it('with partnerSsin, the <Partner> children are kept', () => {
    const out = applyFieldProfile(yearLine, ['Year', 'partnerSsin']);
    expect(out.year?.totals).toEqual([{ partnerSsin: P1 }, { partners: [P1, P2] }]);
  });
});

describe('periodKindAllowed', () => {
  it.each([
    ['year', [], true],
    ['months', [], true],
    ['year', ['Year'], true],
    ['year', ['Months', 'amountCents'], false],
    ['months', ['Year'], false],
    ['months', ['Months'], true],
    ['dates', ['Year'], true],
  ] as const)('%s with [%s] → %s', (kind, fields, allowed) => {
    expect(periodKindAllowed(kind, fields)).toBe(allowed);
  });
});

describe('unknownAmountFields', () => {
  it.each([
    [[], []],
    [[...AMOUNT_FIELDS], []],
    [['Year', 'year', 'amountcents', 'partners'], ['year', 'amountcents', 'partners']],
  ])('%j → %j', (fields, unknown) => {
    expect(unknownAmountFields(fields)).toEqual(unknown);
  });
});
