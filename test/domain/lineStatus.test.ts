import { describe, expect, it } from 'vitest';
import type { Person, RequestPeriod, ServiceName } from '../../src/interfaces.js';
import { decideLine, type LineInput } from '../../src/domain/lineStatus.js';

const GOOD_SSIN = '85073003328';
const BAD_CHECK = '85073003329';
const NEW_SSIN = '99073003331';
const REF = '2026-01-15';

const known: Person = { ssin: GOOD_SSIN, replacedBy: null };
const replaced: Person = { ssin: GOOD_SSIN, replacedBy: NEW_SSIN };
const goodPeriod: RequestPeriod = { kind: 'year', year: 2025 };
const futurePeriod: RequestPeriod = { kind: 'year', year: 2026 };
const reversed: RequestPeriod = { kind: 'months', from: '2025-06', to: '2025-01' };
const datesPeriod: RequestPeriod = { kind: 'dates', from: '2025-01-01', to: '2025-01-31' };

const input = (over: Partial<LineInput>): LineInput => ({
  ssin: GOOD_SSIN,
  period: goodPeriod,
  service: 'LivingWagesWithAmount' as ServiceName,
  referenceDate: REF,
  person: known,
  integrationFound: true,
  ...over,
});

describe('decideLine: one row per code', () => {
  it.each([
    ['MSG00011: wrong check digits', input({ ssin: BAD_CHECK, person: undefined }), 'MSG00011', undefined],
    ['MSG00005: unknown to the register', input({ person: undefined }), 'MSG00005', undefined],
    ['MSG00006: replaced', input({ person: replaced }), 'MSG00006', NEW_SSIN],
    ['MSG00008: future year', input({ period: futurePeriod }), 'MSG00008', undefined],
    ['MSG00008: reversed months', input({ period: reversed }), 'MSG00008', undefined],
    ['MSG00008: dates for the amounts service', input({ period: datesPeriod }), 'MSG00008', undefined],
    ['MSG00012: no integration', input({ integrationFound: false }), 'MSG00012', undefined],
    ['CONTINUE: everything fine', input({}), 'CONTINUE', undefined],
    ['CONTINUE: LivingWages with dates', input({ service: 'LivingWages', period: datesPeriod }), 'CONTINUE', undefined],
  ] as const)('%s', (_label, line, code, newSsin) => {
    const d = decideLine(line);
    expect(d.code).toBe(code);
    if (d.code !== 'CONTINUE') {
      expect(d.newSsin).toBe(newSsin);
      expect(d.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('decideLine: order of the checks', () => {
  it.each([
    ['bad check digits AND unknown', input({ ssin: BAD_CHECK, person: undefined }), 'MSG00011'],
    ['bad check digits AND everything else wrong', input({ ssin: BAD_CHECK, person: replaced, period: reversed, integrationFound: false }), 'MSG00011'],
    ['unknown AND bad period AND no integration', input({ person: undefined, period: reversed, integrationFound: false }), 'MSG00005'],
    ['replaced AND bad period', input({ person: replaced, period: futurePeriod }), 'MSG00006'],
    ['replaced AND no integration', input({ person: replaced, integrationFound: false }), 'MSG00006'],
    ['bad period AND no integration', input({ period: futurePeriod, integrationFound: false }), 'MSG00008'],
    ['wrong period kind AND no integration', input({ period: datesPeriod, integrationFound: false }), 'MSG00008'],
  ] as const)('%s → %s', (_label, line, code) => {
    expect(decideLine(line).code).toBe(code);
  });

  it('passes the period reason through', () => {
    expect(decideLine(input({ period: reversed }))).toEqual({ code: 'MSG00008', reason: 'period From is after To' });
  });
});
