// Table tests of the Handiservice rules (contract §6c): the line's period, both integration
// checks at each boundary, clipping with open ends, ordering, and both field profiles.
import { describe, expect, it } from 'vitest';
import type { HandicapRecords, Integration, RequestPeriod, Role } from '../../src/interfaces.js';
import { handicapData, handiserviceLineProblem, providerIntegration, sameDayYearsLater, senderIntegration, senderWindow } from '../../src/services/handiservice/rules.js';
import { applyHandicapProfile, grantedFields, HANDISERVICE_PROFILES, unknownHandiserviceFields } from '../../src/services/handiservice/profile.js';

const SSIN = '85073003328';
const OCMW = '0212000032';
const OTHER = '0212111779';
const REF = '2026-06-15'; // sender window: [2025-06-15, 2026-06-15]

const integ = (over: Partial<Integration>): Integration => ({
  ssin: SSIN,
  sector: 17,
  institutionCbe: OCMW,
  qualityCode: 1,
  startDate: '2024-01-01',
  endDate: null,
  ...over,
});

const dates = (from: string, to: string): RequestPeriod => ({ kind: 'dates', from, to });

describe('sameDayYearsLater and the sender window', () => {
  it.each([
    ['2025-03-10', 1, '2026-03-10'],
    ['2024-02-29', 1, '2025-03-01'],
    ['2024-02-29', 4, '2028-02-29'],
    ['2028-02-29', -1, '2027-03-01'],
    ['2026-06-15', -1, '2025-06-15'],
    ['2023-02-28', 1, '2024-02-28'],
  ])('%s %+d year(s) = %s', (d, n, want) => expect(sameDayYearsLater(d, n)).toBe(want));
  it('window is [reference − 1 year, reference]', () => {
    expect(senderWindow(REF)).toEqual({ from: '2025-06-15', to: REF });
    expect(senderWindow('2028-02-29')).toEqual({ from: '2027-03-01', to: '2028-02-29' });
  });
});

describe('the line (MSG00008): period kind, Role, one-year limit, reference month', () => {
  const cases: [string, RequestPeriod, Role | undefined, string | null][] = [
    ['one year minus a day', dates('2025-03-10', '2026-03-09'), undefined, null],
    ['exactly one year (To = From + 1 year)', dates('2025-03-10', '2026-03-10'), undefined, 'longer than one year'],
    ['29 Feb: To = 28 Feb next year accepted', dates('2024-02-29', '2025-02-28'), undefined, null],
    ['29 Feb: To = 1 March next year refused', dates('2024-02-29', '2025-03-01'), undefined, 'longer than one year'],
    ['To = 29 Feb in a leap year (limit 1 March)', dates('2023-03-01', '2024-02-29'), undefined, null],
    ['From 28 Feb, To 28 Feb of the leap year', dates('2023-02-28', '2024-02-28'), undefined, 'longer than one year'],
    ['From 28 Feb, To 27 Feb of the leap year', dates('2023-02-28', '2024-02-27'), undefined, null],
    ['one day', dates('2026-01-01', '2026-01-01'), undefined, null],
    ['From after To', dates('2026-01-02', '2026-01-01'), undefined, 'From is after To'],
    ['To in the reference month', dates('2026-01-01', '2026-06-30'), undefined, null],
    ['To after the reference month', dates('2026-01-01', '2026-07-01'), undefined, 'after the reference month'],
    ['a Role', dates('2026-01-01', '2026-02-01'), 'BENEFICIARY', 'carries no Role'],
    ['Months', { kind: 'months', from: '2026-01', to: '2026-02' }, undefined, 'does not take a months period'],
    ['Year', { kind: 'year', year: 2025 }, undefined, 'does not take a year period'],
    ['a date that does not exist', dates('2025-02-29', '2025-03-01'), undefined, 'does not exist'],
  ];
  it.each(cases)('%s', (_name, period, role, want) => {
    const got = handiserviceLineProblem({ period, role }, REF);
    if (want === null) expect(got).toBeNull();
    else expect(got).toContain(want);
  });
});

describe('sender check (MSG00012)', () => {
  const sender = { cbeNumber: OCMW, allowedQualityCodes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] };
  const P = { from: '2025-06-01', to: '2025-06-30' };
  const cases: [string, Partial<Integration>, { from: string; to: string }, boolean][] = [
    ['own institution-level sector 17, open', {}, P, true],
    ['ends the day before the window', { endDate: '2025-06-14' }, P, false],
    ['one day of overlap with the window (and the period)', { endDate: '2025-06-15' }, P, true],
    ['overlaps the window but not the period', { startDate: '2025-07-01' }, P, false],
    ['overlaps the period on its last day', { startDate: '2025-06-30' }, P, true],
    ['overlaps the period and the window, the period before the window', { startDate: '2025-01-01', endDate: '2025-12-31' }, { from: '2025-01-01', to: '2025-03-31' }, true],
    ['overlaps the period but not the window', { startDate: '2024-01-01', endDate: '2025-03-31' }, { from: '2025-01-01', to: '2025-03-31' }, false],
    ['starts the day after the reference date', { startDate: '2026-06-16' }, { from: '2026-06-01', to: '2026-06-30' }, false],
    ['starts on the reference date', { startDate: '2026-06-15' }, { from: '2026-06-01', to: '2026-06-30' }, true],
    ['quality code 9 (last in the list)', { qualityCode: 9 }, P, true],
    ['quality code 10 (just outside, though authorized)', { qualityCode: 10 }, P, false],
    ['quality code 0', { qualityCode: 0 }, P, false],
    ['sector-level sector 17 (not the OCMW’s own dossier)', { institutionCbe: null }, P, false],
    ['another OCMW’s dossier', { institutionCbe: OTHER }, P, false],
    ['a sector-16 integration at institution level (own CBE)', { sector: 16 }, P, false],
  ];
  it.each(cases)('%s → %s', (_name, over, period, found) => {
    expect(senderIntegration([integ(over)], sender, period, REF) !== undefined).toBe(found);
  });
  it('a quality code the authorization does not allow does not count', () => {
    expect(senderIntegration([integ({ qualityCode: 3 })], { cbeNumber: OCMW, allowedQualityCodes: [1, 2] }, P, REF)).toBeUndefined();
    expect(senderIntegration([integ({ qualityCode: 3 })], { cbeNumber: OCMW, allowedQualityCodes: [] }, P, REF)).toBeUndefined();
  });
  it('29 February reference: the window starts on 1 March', () => {
    const s = { cbeNumber: OCMW, allowedQualityCodes: [1] };
    const p = { from: '2027-01-01', to: '2027-12-31' };
    expect(senderIntegration([integ({ endDate: '2027-02-28' })], s, p, '2028-02-29')).toBeUndefined();
    expect(senderIntegration([integ({ endDate: '2027-03-01' })], s, p, '2028-02-29')).toBeDefined();
  });
  it('picks the earliest matching integration (deterministic audited quality code)', () => {
    const got = senderIntegration([integ({ qualityCode: 5, startDate: '2025-01-01' }), integ({ qualityCode: 7, startDate: '2024-01-01' }), integ({ qualityCode: 2, startDate: '2025-01-01' })], sender, P, REF);
    expect(got?.qualityCode).toBe(7);
  });
});

describe('provider check (MSG00021)', () => {
  const P = { from: '2025-03-01', to: '2025-08-31' };
  const p16 = (over: Partial<Integration>): Integration => integ({ sector: 16, institutionCbe: null, ...over });
  const cases: [string, Integration, boolean][] = [
    ...[1, 2, 3, 5, 7].map((q): [string, Integration, boolean] => [`quality code ${q}`, p16({ qualityCode: q }), true]),
    ...[0, 4, 6, 8, 9].map((q): [string, Integration, boolean] => [`quality code ${q} (outside the list)`, p16({ qualityCode: q }), false]),
    ['ends the day before the period', p16({ endDate: '2025-02-28' }), false],
    ['ends on the period’s first day', p16({ endDate: '2025-03-01' }), true],
    ['starts on the period’s last day', p16({ startDate: '2025-08-31' }), true],
    ['starts the day after the period', p16({ startDate: '2025-09-01' }), false],
    ['at institution level (a sector-16 institution’s own register)', p16({ institutionCbe: OTHER }), true],
    ['sector 17 with quality code 1', integ({}), false],
  ];
  it.each(cases)('%s → %s', (_name, i, found) => expect(providerIntegration([i], P) !== undefined).toBe(found));
});

const records = (over: Partial<HandicapRecords> = {}): HandicapRecords => ({
  recognitions: [],
  rights: [],
  payments: [],
  cards: [],
  ...over,
});

const rec = (id: string, startDate: string | null, endDate: string | null, over: Partial<HandicapRecords['recognitions'][number]> = {}): HandicapRecords['recognitions'][number] => ({
  recognitionId: id,
  ssin: SSIN,
  legislation: 'IT',
  requestDate: '2020-01-10',
  status: 'DECIDED',
  decisionDate: '2020-03-01',
  startDate,
  endDate,
  points: 12,
  earningCapacityReduced: true,
  lowerLimbs50: false,
  fullBlindness: null,
  upperLimbsAmputated: false,
  upperLimbsParalysed: null,
  ...over,
});

describe('data: clipping, open ends, ordering', () => {
  const R = { from: '2025-03-01', to: '2025-08-31' };
  it('clips from/to to the period; an open end becomes the period’s end; other dates stay', () => {
    const d = handicapData(records({ recognitions: [rec('A', '2020-01-01', null)] }), R);
    expect(d.recognitions).toHaveLength(1);
    expect(d.recognitions[0]).toMatchObject({ from: '2025-03-01', to: '2025-08-31', requestDate: '2020-01-10', decisionDate: '2020-03-01' });
  });
  it('inside the period: not clipped', () => {
    const d = handicapData(records({ rights: [{ rightId: 'X', ssin: SSIN, legislation: 'IVT', category: 'C3', startDate: '2025-04-02', endDate: '2025-05-03', monthlyAmountCents: 100, partnerIncome: null }] }), R);
    expect(d.rights[0]).toMatchObject({ from: '2025-04-02', to: '2025-05-03' });
  });
  it('a pending recognition (no start_date) starts on its request date', () => {
    const d = handicapData(records({ recognitions: [rec('P', null, null, { requestDate: '2025-05-05', status: 'PENDING', decisionDate: null })] }), R);
    expect(d.recognitions[0]).toMatchObject({ from: '2025-05-05', to: '2025-08-31', status: 'PENDING' });
    const before = handicapData(records({ recognitions: [rec('P', null, null, { requestDate: '2025-09-01', status: 'PENDING' })] }), R);
    expect(before.recognitions).toHaveLength(0);
  });
  it.each([
    ['ends the day before', '2024-01-01', '2025-02-28', 0],
    ['ends on the first day', '2024-01-01', '2025-03-01', 1],
    ['starts on the last day', '2025-08-31', null, 1],
    ['starts the day after', '2025-09-01', null, 0],
  ])('overlap: %s', (_n, s, e, n) => {
    expect(handicapData(records({ cards: [{ cardNumber: 'C1', ssin: SSIN, type: 'PARKING', deliveredOn: s, endDate: e }] }), R).cards).toHaveLength(n);
  });
  it('orders by clipped from, then id; payments by month then legislation, only the period’s months', () => {
    const d = handicapData(
      records({
        recognitions: [rec('B', '2019-01-01', null), rec('A', '2024-01-01', null), rec('C', '2025-04-01', null)],
        payments: [
          { ssin: SSIN, month: '2025-04', legislation: 'IVT', amountCents: 1, suspendedCents: null },
          { ssin: SSIN, month: '2025-04', legislation: 'IT', amountCents: 2, suspendedCents: 0 },
          { ssin: SSIN, month: '2025-02', legislation: 'IT', amountCents: 3, suspendedCents: null },
          { ssin: SSIN, month: '2025-08', legislation: 'IT', amountCents: 4, suspendedCents: null },
          { ssin: SSIN, month: '2025-09', legislation: 'IT', amountCents: 5, suspendedCents: null },
        ],
        cards: [
          { cardNumber: 'K2', ssin: SSIN, type: 'T', deliveredOn: '2025-01-01', endDate: null },
          { cardNumber: 'K1', ssin: SSIN, type: 'T', deliveredOn: '2025-02-01', endDate: null },
        ],
      }),
      R,
    );
    expect(d.recognitions.map((r) => r.id)).toEqual(['A', 'B', 'C']); // A and B both clipped to 2025-03-01
    expect(d.payments.map((p) => `${p.month}/${p.legislation}`)).toEqual(['2025-04/IT', '2025-04/IVT', '2025-08/IT']);
    expect(d.cards.map((c) => c.number)).toEqual(['K1', 'K2']);
  });
});

describe('field profiles', () => {
  const R = { from: '2025-03-01', to: '2025-08-31' };
  const all = handicapData(
    records({
      recognitions: [rec('A', '2024-01-01', null)],
      rights: [{ rightId: 'X', ssin: SSIN, legislation: 'IVT', category: 'C3', startDate: '2025-04-02', endDate: null, monthlyAmountCents: 100, partnerIncome: false }],
      payments: [{ ssin: SSIN, month: '2025-04', legislation: 'IT', amountCents: 2, suspendedCents: null }],
      cards: [{ cardNumber: 'K1', ssin: SSIN, type: 'T', deliveredOn: '2025-02-01', endDate: null }],
    }),
    R,
  );
  it('empty fields and handiservice:general give everything; empty values are left out', () => {
    for (const f of [[], ['handiservice:general']]) {
      const a = applyHandicapProfile(all, f);
      expect(a?.payments).toEqual([{ month: '2025-04', legislation: 'IT', amountCents: 2 }]);
      expect(a?.recognitions[0]).toEqual({
        id: 'A',
        legislation: 'IT',
        requestDate: '2020-01-10',
        status: 'DECIDED',
        decisionDate: '2020-03-01',
        from: '2025-03-01',
        to: '2025-08-31',
        points: 12,
        earningCapacityReduced: true,
        lowerLimbs50: false,
        upperLimbsAmputated: false,
      });
      expect(a?.rights).toHaveLength(1);
      expect(a?.cards).toHaveLength(1);
    }
  });
  it('handiservice:reopened: no Payment; no status, decisionDate, requestDate, points on a Recognition', () => {
    const a = applyHandicapProfile(all, ['handiservice:reopened']);
    expect(a?.payments).toEqual([]);
    expect(a?.recognitions[0]).toEqual({ id: 'A', legislation: 'IT', from: '2025-03-01', to: '2025-08-31', earningCapacityReduced: true, lowerLimbs50: false, upperLimbsAmputated: false });
    expect(a?.rights[0]).toEqual({ id: 'X', legislation: 'IVT', category: 'C3', from: '2025-04-02', to: '2025-08-31', monthlyAmountCents: 100, partnerIncome: false });
    expect(a?.cards[0]).toEqual({ number: 'K1', type: 'T', from: '2025-03-01', to: '2025-08-31' });
  });
  it('nothing left under the profile: undefined (MSG00100)', () => {
    const onlyPayments = handicapData(records({ payments: [{ ssin: SSIN, month: '2025-04', legislation: 'IT', amountCents: 2, suspendedCents: null }] }), R);
    expect(applyHandicapProfile(onlyPayments, ['handiservice:reopened'])).toBeUndefined();
    expect(applyHandicapProfile(onlyPayments, [])).toBeDefined();
    expect(applyHandicapProfile(handicapData(records(), R), [])).toBeUndefined();
  });
  it('a list of names: kinds and attributes; identities always kept', () => {
    const a = applyHandicapProfile(all, ['SocialCard', 'from']);
    expect(a).toEqual({ recognitions: [], rights: [], payments: [], cards: [{ number: 'K1', from: '2025-03-01' }] });
  });
  it('names are checked; profiles expand', () => {
    expect(unknownHandiserviceFields(['handiservice:reopened', 'Recognition', 'points', 'bogus', 'Year'])).toEqual(['bogus', 'Year']);
    expect(grantedFields([])).toBeUndefined();
    expect([...(grantedFields(['handiservice:reopened']) ?? [])].sort()).toEqual([...HANDISERVICE_PROFILES['handiservice:reopened']].sort());
  });
});
