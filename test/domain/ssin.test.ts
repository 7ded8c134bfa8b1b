import { describe, expect, it } from 'vitest';
import { isValidSsin, makeSsin, maskSsin, ssinKind, ssinText } from '../../src/domain/ssin.js';

/** Independent oracle (BigInt, string concat) to build numbers whose only defect is elsewhere. */
function withCheck(first9: string, bornFrom2000 = false): string {
  const n = BigInt(bornFrom2000 ? `2${first9}` : first9);
  return `${first9}${String(97n - (n % 97n)).padStart(2, '0')}`;
}

const REF_YEAR = 2026;

describe('isValidSsin / ssinKind', () => {
  it.each([
    // [label, ssin, kind]
    ['contract example, born 1985', '85073003328', 'NATIONAL'],
    ['born 1999', '99073003331', 'NATIONAL'],
    ['born 2000 (2-prefixed check)', '00073003318', 'NATIONAL'],
    ['same digits, born 1900 variant', '00073003386', 'NATIONAL'],
    ['born 2001, unknown month and day', '01000000149', 'NATIONAL'],
    ['BIS, gender unknown (+20)', '85273003371', 'BIS'],
    ['BIS, gender known (+40)', '85473003317', 'BIS'],
    ['BIS, unknown month (20)', '85200000181', 'BIS'],
    ['BIS +40, month 12 → 52', withCheck('855231001'), 'BIS'],
    ['BIS +20, born 2005', withCheck('052001123', true), 'BIS'],
    ['day 31', withCheck('850131001'), 'NATIONAL'],
  ] as const)('%s: %s is valid (%s)', (_label, ssin, kind) => {
    expect(isValidSsin(ssin, REF_YEAR)).toBe(true);
    expect(ssinKind(ssin, REF_YEAR)).toBe(kind);
  });

  it.each([
    ['check digits off by one', '85073003329'],
    ['check digits swapped', '85073003382'],
    ['check digits of another number', '99073003318'],
    ['month 13', withCheck('851330033')],
    ['month 19', withCheck('851930033')],
    ['month 33 (BIS +20 range ends at 32)', withCheck('853330033')],
    ['month 53 (BIS +40 range ends at 52)', withCheck('855330033')],
    ['day 32', withCheck('850132033')],
    ['10 digits', '8507300332'],
    ['12 digits', '850730033280'],
    ['letters', '8507300332A'],
    ['dots and dash', '85.07.30-033.28'],
    ['spaces', ' 85073003328'],
    ['empty', ''],
    ['fullwidth digits', '８５０７３００３３２８'],
  ])('%s: %s is invalid', (_label, ssin) => {
    expect(isValidSsin(ssin, REF_YEAR)).toBe(false);
    expect(ssinKind(ssin, REF_YEAR)).toBeNull();
  });
});

describe('the 2000+ variant only for a birth year not after the reference year (contract §3)', () => {
  // 55090071250 has the check digits of "born 2055" only (97 − (2550900712 mod 97) = 50).
  it.each([
    ['born-2055 form, reference 2026', '55090071250', 2026, false],
    ['born-2055 form, reference 2055', '55090071250', 2055, true],
    ['born-2026 form, reference 2026 (the same year counts)', withCheck('260101001', true), 2026, true],
    ['born-2026 form, reference 2025', withCheck('260101001', true), 2025, false],
    ['born-2027 form, reference 2026', withCheck('270101001', true), 2026, false],
    ['born-1927 form, reference 2026 (the 1900 variant needs no year)', withCheck('270101001'), 2026, true],
    ['born-2000 form, reference 2000', withCheck('000101001', true), 2000, true],
    ['born-2000 form, reference 1999', withCheck('000101001', true), 1999, false],
    ['BIS born-2030 form, reference 2026', withCheck('302101001', true), 2026, false],
    ['BIS born-2030 form, reference 2030', withCheck('302101001', true), 2030, true],
  ] as const)('%s: %s → %s', (_label, ssin, year, valid) => {
    expect(isValidSsin(ssin, year)).toBe(valid);
  });
});

describe('makeSsin', () => {
  it.each([
    [{ year: 1985, month: 7, day: 30 }, 33, undefined, '85073003328'],
    [{ year: 1999, month: 7, day: 30 }, 33, undefined, '99073003331'],
    [{ year: 2000, month: 7, day: 30 }, 33, undefined, '00073003318'],
    [{ year: 1985, month: 7, day: 30 }, 33, 'unknown', '85273003371'],
    [{ year: 1985, month: 7, day: 30 }, 33, 'known', '85473003317'],
    [{ year: 2001, month: 0, day: 0 }, 1, undefined, '01000000149'],
  ] as const)('%o serial %i bis %s → %s', (birth, serial, bis, expected) => {
    const s = makeSsin(birth, serial, bis);
    expect(s).toBe(expected);
    expect(isValidSsin(s, REF_YEAR)).toBe(true);
  });

  it.each([1900, 1945, 1999, 2000, 2006, 2024])('matches the BigInt oracle for year %i', (year) => {
    for (const [month, day, serial] of [[1, 1, 1], [2, 29, 997], [12, 31, 500], [0, 0, 2]] as const) {
      const s = makeSsin({ year, month, day }, serial);
      expect(s).toBe(withCheck(s.slice(0, 9), year >= 2000));
    }
  });

  it.each([
    [{ year: 1985, month: 13, day: 1 }, 1],
    [{ year: 1985, month: 1, day: 32 }, 1],
    [{ year: 1985, month: 1, day: 1 }, 1000],
    [{ year: 1985, month: 1, day: 1 }, -1],
    [{ year: 1985.5, month: 1, day: 1 }, 1],
  ])('rejects %o serial %i', (birth, serial) => {
    expect(() => makeSsin(birth, serial)).toThrow(RangeError);
  });
});

describe('maskSsin', () => {
  it.each([
    ['85073003328', '85*******28'],
    ['00073003318', '00*******18'],
    ['8507300332', '**********'],
    ['850730033280000', '***********'],
    ['8507300332A', '***********'],
    ['', ''],
  ])('%s → %s', (input, masked) => {
    expect(maskSsin(input)).toBe(masked);
  });
});

describe('ssinText (an SSIN held as a number)', () => {
  it.each([
    [0, '00000000000'],
    [1, '00000000001'],
    [999_999, '00000999999'],
    [1_000_000, '00001000000'],
    [1_000_001, '00001000001'],
    [85_073_003_328, '85073003328'],
    [99_999_999_999, '99999999999'],
    [10_000_000_000, '10000000000'],
    [9_999_900_000, '09999900000'],
  ])('%d → %s', (key, text) => {
    expect(ssinText(key)).toBe(text);
  });

  it('is the 11-digit text of every number in a sweep of the range', () => {
    for (let key = 7; key < 99_999_999_999; key += 12_345_677) expect(ssinText(key)).toBe(String(key).padStart(11, '0'));
  });
});
