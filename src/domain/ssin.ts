// Belgian national register numbers (rijksregisternummer) and BIS numbers.
// Layout: YYMMDD + serial (3) + check (2). The check covers the first 9 digits; for people born
// in 2000 or later a '2' is prefixed before taking mod 97. The century is not in the number, so a
// number is valid when either variant matches — the 2000+ variant only for a birth year 2000 + YY
// that is not after the reference year (contract §3): nobody is born in the future.

export type SsinKind = 'NATIONAL' | 'BIS';

const ELEVEN_DIGITS = /^\d{11}$/;
/** 2 followed by 9 digits = 2_000_000_000 + n: exact in a double, no BigInt needed. */
const BORN_2000_PREFIX = 2_000_000_000;

function checkDigits(first9: number, bornFrom2000: boolean): number {
  return 97 - ((bornFrom2000 ? BORN_2000_PREFIX + first9 : first9) % 97);
}

/** NATIONAL: month 0..12; BIS: month + 20 (gender unknown) or + 40 (gender known). Month 0 = unknown. */
function kindOfMonthField(mm: number): SsinKind | null {
  if (mm >= 0 && mm <= 12) return 'NATIONAL';
  if ((mm >= 20 && mm <= 32) || (mm >= 40 && mm <= 52)) return 'BIS';
  return null;
}

/** The number the characters s[from, to) write in decimal, or -1 when one of them is not a digit 0–9 (no sign, no space). */
export function digitsValue(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Shape, month/day fields and check digits; null when any of them is wrong. `referenceYear` is
 * the year of the batch's reference date (or of today, for imports and operator commands).
 */
export function ssinKind(ssin: string, referenceYear: number): SsinKind | null {
  // Digit by digit rather than a pattern and slices: every line of a batch passes here.
  if (ssin.length !== 11) return null;
  const first9 = digitsValue(ssin, 0, 9);
  const check = digitsValue(ssin, 9, 11);
  if (first9 < 0 || check < 0) return null;
  const yy = Math.floor(first9 / 10_000_000);
  const mm = Math.floor(first9 / 100_000) % 100;
  const dd = Math.floor(first9 / 1000) % 100;
  const kind = kindOfMonthField(mm);
  // Day 0 is used when the birth day is unknown; we do not check day against month length
  // (the register issues numbers with approximate birth dates).
  if (kind === null || dd > 31) return null;
  if (check === checkDigits(first9, false)) return kind;
  return 2000 + yy <= referenceYear && check === checkDigits(first9, true) ? kind : null;
}

export function isValidSsin(ssin: string, referenceYear: number): boolean {
  return ssinKind(ssin, referenceYear) !== null;
}

const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/**
 * The 11-digit text of an SSIN held as a number (the read model's and the audit's form). In two
 * small-integer halves: a double of 11 digits converts to text several times slower, and the hot
 * path names a partner or a beneficiary this way on most answered lines.
 */
export function ssinText(key: number): string {
  const hi = Math.floor(key / 1_000_000);
  const lo = String(key - hi * 1_000_000);
  return String(hi).padStart(5, '0') + ZEROS[6 - lo.length] + lo;
}

/** The reference year of a YYYY-MM-DD reference date. */
export function yearOf(referenceDate: string): number {
  return Number(referenceDate.slice(0, 4));
}

/** The reference year for checks made now (imports, operator commands): today's year in UTC. */
export function currentYear(now: Date = new Date()): number {
  return now.getUTCFullYear();
}

/**
 * For logs: the first 2 and last 2 digits only (`85*******28`). The first 6 would be the birth
 * date, which together with the rest identifies the person. Anything not 11 digits becomes stars.
 */
export function maskSsin(ssin: string): string {
  if (ELEVEN_DIGITS.test(ssin)) return `${ssin.slice(0, 2)}*******${ssin.slice(9)}`;
  return '*'.repeat(Math.min(ssin.length, 11));
}

/**
 * A valid SSIN for test data. month/day 0 = unknown; `bis` shifts the month by 20 ('unknown'
 * gender) or 40 ('known'). The check variant follows the birth year (2000+ → '2' prefix).
 */
export function makeSsin(birth: { year: number; month: number; day: number }, serial: number, bis?: 'unknown' | 'known'): string {
  const { year, month, day } = birth;
  if (!Number.isInteger(year) || year < 1800 || year > 2099) throw new RangeError(`birth year out of range: ${year}`);
  if (!Number.isInteger(month) || month < 0 || month > 12) throw new RangeError(`birth month out of range: ${month}`);
  if (!Number.isInteger(day) || day < 0 || day > 31) throw new RangeError(`birth day out of range: ${day}`);
  if (!Number.isInteger(serial) || serial < 0 || serial > 999) throw new RangeError(`serial out of range: ${serial}`);
  const mm = month + (bis === 'unknown' ? 20 : bis === 'known' ? 40 : 0);
  const first9 = `${String(year % 100).padStart(2, '0')}${String(mm).padStart(2, '0')}${String(day).padStart(2, '0')}${String(serial).padStart(3, '0')}`;
  const check = checkDigits(Number(first9), year >= 2000);
  return `${first9}${String(check).padStart(2, '0')}`;
}
