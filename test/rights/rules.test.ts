// Table tests of the pure rights rules (services/rights/rules.ts) and the rights.csv row check.
import { describe, expect, it } from 'vitest';
import type { Integration, RightVersion } from '../../src/interfaces.js';
import {
  currentRights,
  notificationFileName,
  notificationId,
  notificationRecipients,
  rightsInRange,
  rightsLineProblem,
  ssinConflict,
  versionDifferences,
  type Subscriber,
} from '../../src/services/rights/rules.js';
import { checkRightRow, RIGHTS_COLUMNS, RowProblem } from '../../src/services/rights/rowCheck.js';
import { makeSsin } from '../../src/domain/ssin.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);
const ANTWERPEN = '0212000032';
const GENT = '0212111779';

const v = (over: Partial<RightVersion>): RightVersion => ({
  rightId: 'R-1',
  version: 1,
  ssin: A,
  ocmwCbe: ANTWERPEN,
  rightType: 'LEEFLOON',
  startDate: '2025-01-01',
  endDate: '2025-12-31',
  event: 'CREATED',
  decidedOn: '2025-01-05',
  ...over,
});

const YEAR_2025 = { from: '2025-01-01', to: '2025-12-31' };

describe('currentRights', () => {
  const cases: [string, RightVersion[], string[]][] = [
    ['no versions', [], []],
    ['a creation', [v({})], ['R-1/1']],
    ['the highest version counts, whatever the order', [v({ version: 3, event: 'MODIFIED' }), v({}), v({ version: 2, event: 'MODIFIED' })], ['R-1/3']],
    ['a cancelled current version removes the right', [v({}), v({ version: 2, event: 'CANCELLED' })], []],
    ['a cancellation that is not current does not', [v({}), v({ version: 2, event: 'CANCELLED' }), v({ version: 3, event: 'MODIFIED' })], ['R-1/3']],
    ['rights are independent, sorted by right_id', [v({ rightId: 'R-2' }), v({}), v({ rightId: 'R-3', event: 'CANCELLED' })], ['R-1/1', 'R-2/1']],
  ];
  it.each(cases)('%s', (_name, versions, expected) => {
    expect(currentRights(versions).map((r) => `${r.rightId}/${r.version}`)).toEqual(expected);
  });
});

describe('rightsInRange', () => {
  const cases: [string, RightVersion[], { from: string; to: string }, { rightId: string; ocmw: string; type: string; from: string; to: string }[]][] = [
    ['creation: the whole right inside the range', [v({ startDate: '2025-02-01', endDate: '2025-05-31' })], YEAR_2025, [{ rightId: 'R-1', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-02-01', to: '2025-05-31' }]],
    [
      'modification that shortens the period: the new end counts',
      [v({}), v({ version: 2, event: 'MODIFIED', endDate: '2025-06-30', decidedOn: '2025-07-01' })],
      YEAR_2025,
      [{ rightId: 'R-1', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-01-01', to: '2025-06-30' }],
    ],
    ['the shortened right no longer reaches a later range', [v({}), v({ version: 2, event: 'MODIFIED', endDate: '2025-06-30' })], { from: '2025-07-01', to: '2025-09-30' }, []],
    ['cancellation: nothing', [v({}), v({ version: 2, event: 'CANCELLED' })], YEAR_2025, []],
    [
      "two OCMW's in one year, in date order",
      [
        v({ rightId: 'R-B', ocmwCbe: GENT, rightType: 'EQUIVALENT_LEEFLOON', startDate: '2025-07-01', endDate: null }),
        v({ rightId: 'R-A', startDate: '2025-01-01', endDate: '2025-06-30' }),
      ],
      YEAR_2025,
      [
        { rightId: 'R-A', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-01-01', to: '2025-06-30' },
        { rightId: 'R-B', ocmw: GENT, type: 'EQUIVALENT_LEEFLOON', from: '2025-07-01', to: '2025-12-31' },
      ],
    ],
    [
      'a range that clips both ends',
      [v({ startDate: '2024-06-01', endDate: '2026-03-31' })],
      { from: '2025-03-15', to: '2025-04-10' },
      [{ rightId: 'R-1', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-03-15', to: '2025-04-10' }],
    ],
    ['an open right is clipped to the range end', [v({ startDate: '2020-01-01', endDate: null })], YEAR_2025, [{ rightId: 'R-1', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-01-01', to: '2025-12-31' }]],
    ['one day of overlap is enough', [v({ endDate: '2025-01-01' })], { from: '2025-01-01', to: '2025-01-31' }, [{ rightId: 'R-1', ocmw: ANTWERPEN, type: 'LEEFLOON', from: '2025-01-01', to: '2025-01-01' }]],
    ['a right ending the day before the range: nothing', [v({ endDate: '2024-12-31', startDate: '2024-01-01' })], YEAR_2025, []],
    ['a right starting the day after the range: nothing', [v({ startDate: '2026-01-01', endDate: null })], YEAR_2025, []],
  ];
  it.each(cases)('%s', (_name, versions, range, expected) => {
    const got = rightsInRange(versions, range).map((r) => ({ rightId: r.rightId, ocmw: r.ocmw, type: r.type, from: r.periods[0].from, to: r.periods[0].to }));
    expect(got).toEqual(expected);
  });

  it('never carries amounts or the SSIN, only rightId, type, ocmw and periods', () => {
    const [entry] = rightsInRange([v({})], YEAR_2025);
    expect(Object.keys(entry).sort()).toEqual(['ocmw', 'periods', 'rightId', 'type']);
  });
});

describe('rightsLineProblem', () => {
  it.each([
    [{}, null],
    [{ role: 'BENEFICIARY' as const }, /no Role/],
    [{ role: 'PARTNER' as const }, /no Role/],
  ])('%j', (line, expected) => {
    const got = rightsLineProblem(line);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toMatch(expected);
  });
});

describe('version history checks', () => {
  it.each([
    ['same content', v({}), v({}), []],
    ['other end date', v({}), v({ endDate: '2025-06-30' }), ['endDate']],
    ['open vs closed end', v({}), v({ endDate: null }), ['endDate']],
    ['other OCMW and event', v({}), v({ ocmwCbe: GENT, event: 'MODIFIED' }), ['ocmwCbe', 'event']],
  ])('versionDifferences: %s', (_n, stored, incoming, expected) => {
    expect(versionDifferences(stored, incoming)).toEqual(expected);
  });

  it.each([
    ['unknown right', undefined, v({}), null],
    ['same SSIN', A, v({ version: 2 }), null],
    ['another SSIN', B, v({ version: 2 }), /another SSIN/],
  ])('ssinConflict: %s', (_n, known, incoming, expected) => {
    const got = ssinConflict(known, incoming);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toMatch(expected);
  });
});

describe('notificationRecipients (finality on the event date)', () => {
  const MUT: Subscriber = { clientId: 'mut', cbeNumber: '0411702543', sector: 26, qualityCodes: [3] };
  const FIN: Subscriber = { clientId: 'fin', cbeNumber: '0308357159', sector: 17, qualityCodes: [1, 2] };
  const integ = (over: Partial<Integration>): Integration => ({ ssin: A, sector: 26, institutionCbe: MUT.cbeNumber, qualityCode: 3, startDate: '2020-01-01', endDate: null, ...over });
  const event = v({ decidedOn: '2025-03-01' });
  const cases: [string, Subscriber[], Integration[], string[]][] = [
    ['integrated subscriber', [MUT], [integ({})], ['mut']],
    ['no integration at all', [MUT], [], []],
    ["another institution's integration", [MUT], [integ({ institutionCbe: FIN.cbeNumber, sector: 17, qualityCode: 1 })], []],
    ['wrong sector', [MUT], [integ({ sector: 17 })], []],
    ['quality code not allowed', [MUT], [integ({ qualityCode: 4 })], []],
    ['integration ended before the event date', [MUT], [integ({ endDate: '2025-02-28' })], []],
    ['integration starts after the event date', [MUT], [integ({ startDate: '2025-03-02' })], []],
    ['integration ends on the event date', [MUT], [integ({ endDate: '2025-03-01' })], ['mut']],
    ['integration for another SSIN', [MUT], [integ({ ssin: B })], []],
    ['a subscription without quality codes allows nothing', [{ ...MUT, qualityCodes: [] }], [integ({})], []],
    ['sector-level integration of the subscriber\'s sector', [MUT], [integ({ institutionCbe: null })], ['mut']],
    ['sector-level integration of another sector', [MUT], [integ({ institutionCbe: null, sector: 17 })], []],
    ['two subscribers, both integrated, sorted', [MUT, FIN], [integ({}), integ({ institutionCbe: FIN.cbeNumber, sector: 17, qualityCode: 2 })], ['fin', 'mut']],
  ];
  it.each(cases)('%s', (_n, subs, integrations, expected) => {
    expect(notificationRecipients(event, subs, integrations)).toEqual(expected);
  });
});

describe('notification names', () => {
  it('are fixed by recipient and file number, and fit the FileId pattern', () => {
    const id = notificationId('0411702543', 17);
    expect(id).toBe('NOTIF-0411702543-000017');
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(notificationFileName(id)).toBe('NOTIF-0411702543-000017.notification.xml');
    expect(() => notificationId('0411702543', 0)).toThrow(RangeError);
  });
});

describe('checkRightRow (rights.csv, contract §8)', () => {
  const OCMWS = new Set([ANTWERPEN, GENT]);
  const good = { right_id: 'R-1', version: '1', ssin: A, ocmw_cbe: ANTWERPEN, right_type: 'LEEFLOON', start_date: '2025-01-01', end_date: '2025-12-31', event: 'CREATED', decided_on: '2025-01-05' };
  const row = (over: Record<string, string | null>): Record<string, string | null> => ({ ...good, ...over });

  it('has the columns of the contract, in order', () => {
    expect(RIGHTS_COLUMNS.join(',')).toBe('right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on');
  });

  it('accepts a good row and an open end', () => {
    expect(checkRightRow(good, OCMWS)).toEqual(v({}));
    expect(checkRightRow(row({ end_date: null }), OCMWS).endDate).toBeNull();
  });

  const bad: [string, Record<string, string | null>, RegExp][] = [
    ['Herstappe has no OCMW: a CBE not on the list', { ocmw_cbe: '0207446079' }, /not on the OCMW list.*Herstappe/],
    ['an OCMW CBE with wrong check digits', { ocmw_cbe: '0212000033' }, /not a valid 10-digit CBE/],
    ['SSIN check digits', { ssin: A.slice(0, 9) + String((Number(A.slice(9)) + 1) % 100).padStart(2, '0') }, /check digits/],
    ['SSIN shape', { ssin: '123' }, /11 digits/],
    ['right type', { right_type: 'CHILD_BENEFIT_ADVANCE' }, /right_type must be one of LEEFLOON, EQUIVALENT_LEEFLOON/],
    ['event', { event: 'DELETED' }, /event must be one of CREATED, MODIFIED, CANCELLED/],
    ['version 0', { version: '0' }, /positive whole number/],
    ['version -1', { version: '-1' }, /positive whole number/],
    ['version 1.5', { version: '1.5' }, /positive whole number/],
    ['end before start', { end_date: '2024-12-31' }, /end_date is before start_date/],
    ['a date that does not exist', { start_date: '2025-02-30' }, /start_date must be a date/],
    ['missing decided_on', { decided_on: null }, /decided_on is required/],
    ['right_id with a space', { right_id: 'R 1' }, /right_id/],
    ['right_id too long', { right_id: 'R'.repeat(65) }, /right_id/],
  ];
  it.each(bad)('refuses %s', (_n, over, reason) => {
    expect(() => checkRightRow(row(over), OCMWS)).toThrow(RowProblem);
    expect(() => checkRightRow(row(over), OCMWS)).toThrow(reason);
  });
});
