// Date arithmetic on ISO strings ('YYYY-MM-DD' days, 'YYYY-MM' months), proleptic Gregorian,
// no time zones. Own civil<->day-number conversion instead of Date, because Date.UTC maps
// years 0..99 to 1900..1999 and we never want a local-time surprise.
// Invalid input throws RangeError: callers validate first (isValidDate / isValidMonth).

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function monthLength(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function formatMonth(y: number, m: number): string {
  if (y < 0 || y > 9999) throw new RangeError(`year ${y} is outside 0000..9999`);
  return `${pad(y, 4)}-${pad(m, 2)}`;
}

function formatDate(y: number, m: number, d: number): string {
  return `${formatMonth(y, m)}-${pad(d, 2)}`;
}

// Parsed values are remembered: the same few thousand dates and months come back millions of
// times in a big batch. Only valid input is remembered (invalid input throws every time); the
// results are never modified by their callers. A full cache is simply emptied.
const MAX_REMEMBERED = 50_000;
const parsedMonths = new Map<string, Readonly<{ y: number; m: number }>>();
const parsedDates = new Map<string, Readonly<{ y: number; m: number; d: number }>>();
const dayNumbers = new Map<string, number>();

function remember<K, V>(cache: Map<K, V>, key: K, value: V): V {
  if (cache.size >= MAX_REMEMBERED) cache.clear();
  cache.set(key, value);
  return value;
}

function parseMonth(s: string): Readonly<{ y: number; m: number }> {
  const hit = parsedMonths.get(s);
  if (hit !== undefined) return hit;
  const match = MONTH_RE.exec(s);
  const y = match ? Number(match[1]) : NaN;
  const m = match ? Number(match[2]) : NaN;
  if (!match || m < 1 || m > 12) throw new RangeError(`not a month YYYY-MM: "${s}"`);
  return remember(parsedMonths, s, { y, m });
}

function parseDate(s: string): Readonly<{ y: number; m: number; d: number }> {
  const hit = parsedDates.get(s);
  if (hit !== undefined) return hit;
  const match = DATE_RE.exec(s);
  if (!match) throw new RangeError(`not a date YYYY-MM-DD: "${s}"`);
  const y = Number(match[1]);
  const m = Number(match[2]);
  const d = Number(match[3]);
  if (m < 1 || m > 12 || d < 1 || d > monthLength(y, m)) throw new RangeError(`not a calendar date: "${s}"`);
  return remember(parsedDates, s, { y, m, d });
}

export function isValidDate(s: string): boolean {
  try {
    parseDate(s);
    return true;
  } catch {
    return false;
  }
}

export function isValidMonth(s: string): boolean {
  try {
    parseMonth(s);
    return true;
  } catch {
    return false;
  }
}

export function daysInMonth(month: string): number {
  const { y, m } = parseMonth(month);
  return monthLength(y, m);
}

export function firstDayOfMonth(month: string): string {
  const { y, m } = parseMonth(month);
  return formatDate(y, m, 1);
}

export function lastDayOfMonth(month: string): string {
  const { y, m } = parseMonth(month);
  return formatDate(y, m, monthLength(y, m));
}

/** 'YYYY-MM' of a valid 'YYYY-MM-DD'. */
export function monthOf(date: string): string {
  parseDate(date);
  return date.slice(0, 7);
}

/** Days since 1970-01-01 (negative before). Algorithm: H. Hinnant, days_from_civil. */
export function dayNumber(date: string): number {
  const hit = dayNumbers.get(date);
  return hit !== undefined ? hit : remember(dayNumbers, date, computeDayNumber(date));
}

function computeDayNumber(date: string): number {
  const { y: y0, m, d } = parseDate(date);
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of dayNumber (civil_from_days). */
export function fromDayNumber(n: number): string {
  if (!Number.isInteger(n)) throw new RangeError(`day number must be an integer: ${n}`);
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return formatDate(y, m, d);
}

export function addDays(date: string, n: number): string {
  if (!Number.isInteger(n)) throw new RangeError(`days must be an integer: ${n}`);
  return fromDayNumber(dayNumber(date) + n);
}

export function addMonths(month: string, n: number): string {
  if (!Number.isInteger(n)) throw new RangeError(`months must be an integer: ${n}`);
  const { y, m } = parseMonth(month);
  const index = y * 12 + (m - 1) + n;
  return formatMonth(Math.floor(index / 12), (((index % 12) + 12) % 12) + 1);
}

/**
 * Number of calendar months from `from` to `to`, both counted: 2025-01..2025-01 = 1.
 * Takes months or dates (a date counts as its month). Zero or negative when to < from.
 */
export function monthsBetweenInclusive(from: string, to: string): number {
  const a = parseMonth(from.length === 10 ? monthOf(from) : from);
  const b = parseMonth(to.length === 10 ? monthOf(to) : to);
  return (b.y - a.y) * 12 + (b.m - a.m) + 1;
}

/** 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday. */
export function weekday(date: string): number {
  return (((dayNumber(date) + 4) % 7) + 7) % 7;
}
