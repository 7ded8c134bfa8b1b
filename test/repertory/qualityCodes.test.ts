import { describe, expect, it } from 'vitest';
import { defaultEndDate, formatQualityCode, isKnownQualityCode, OCMW_QUALITY_CODES, qualityCodeInfo } from '../../src/repertory/qualityCodes.js';

describe('defaultEndDate: start + duration − 1 day', () => {
  it.each([
    // 001 dossier under investigation: 2 months
    [1, '2025-01-01', '2025-02-28'],
    [1, '2024-01-01', '2024-02-29'],
    [1, '2025-01-15', '2025-03-14'],
    [1, '2024-12-29', '2025-02-28'], // 29 Feb 2025 does not exist: to the end of February
    [1, '2023-12-29', '2024-02-28'], // 29 Feb 2024 exists: the day before it
    [1, '2023-12-31', '2024-02-29'],
    [1, '2025-03-31', '2025-05-30'],
    [1, '2025-11-01', '2025-12-31'], // crosses no year
    [1, '2025-11-15', '2026-01-14'], // crosses the year
    [1, '2024-02-29', '2024-04-28'],
    // 030 maintenance-debtor investigation: 1 year
    [30, '2025-01-01', '2025-12-31'],
    [30, '2024-02-29', '2025-02-28'], // from a leap day into a common year
    [30, '2023-03-01', '2024-02-29'], // ends on the leap day
    [30, '2023-02-28', '2024-02-27'],
    // 007 collective debt mediation: 5 years
    [7, '2020-02-29', '2025-02-28'],
    [7, '2019-03-01', '2024-02-29'],
    [7, '2025-06-15', '2030-06-14'],
    // open-ended codes
    [2, '2025-01-01', null],
    [3, '2024-02-29', null],
    [4, '2025-06-15', null],
    [5, '2025-06-15', null],
  ] as const)('code %i from %s → %s', (code, start, end) => {
    expect(defaultEndDate(code, start)).toBe(end);
  });

  it.each([
    ['001', '2025-01-01', '2025-02-28'],
    ['1', '2025-01-01', '2025-02-28'],
    ['007', '2025-01-01', '2029-12-31'],
  ])('code written "%s" is the same code', (code, start, end) => {
    expect(defaultEndDate(code, start)).toBe(end);
  });

  it.each([
    ['unknown code', 99, '2025-01-01'],
    ['not a code', 'x1', '2025-01-01'],
    ['30 February', 1, '2025-02-30'],
    ['not a date', 1, '2025/01/01'],
  ])('%s throws', (_label, code, start) => {
    expect(() => defaultEndDate(code, start)).toThrow(RangeError);
  });
});

describe('isKnownQualityCode', () => {
  it.each([
    [1, true],
    ['001', true],
    ['01', true],
    [7, true],
    ['030', true],
    [30, true],
    [99, false],
    ['0', false],
    ['', false],
    ['abc', false],
    [-1, false],
    [1.5, false],
  ])('%j → %s', (code, known) => {
    expect(isKnownQualityCode(code)).toBe(known);
  });

  it('the register is consistent: unique codes, durations only where specified', () => {
    expect(new Set(OCMW_QUALITY_CODES.map((q) => q.code)).size).toBe(OCMW_QUALITY_CODES.length);
    const timed = OCMW_QUALITY_CODES.filter((q) => q.defaultDuration !== undefined).map((q) => [formatQualityCode(q.code), q.defaultDuration?.months]);
    expect(timed).toEqual([['001', 2], ['007', 60], ['030', 12]]);
    expect(qualityCodeInfo('007')?.label).toBe('collective debt mediation');
  });
});
