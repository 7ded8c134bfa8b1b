// Request periods: their bounds and the MSG00008 rules of contract §4/§5.
import type { RequestPeriod, ServiceName } from '../interfaces.js';
import { SERVICE_DECLARATIONS } from '../services/declarations.js';
import { firstDayOfMonth, isValidDate, isValidMonth, lastDayOfMonth, monthOf, monthsBetweenInclusive } from './dates.js';

export const MAX_MONTHS_PER_LINE = 24;

export type PeriodCheck = { ok: true } | { ok: false; reason: string };

/** Which period kinds each service takes (contract §3): declared by the service. */
const KINDS_BY_SERVICE = (service: ServiceName): readonly RequestPeriod['kind'][] => SERVICE_DECLARATIONS[service].periodKinds;

function isValidYear(year: number): boolean {
  return Number.isInteger(year) && year >= 1 && year <= 9999;
}

/** First and last day of the period. Throws RangeError on calendar values that do not exist. */
export function periodBounds(p: RequestPeriod): { from: string; to: string } {
  switch (p.kind) {
    case 'year': {
      if (!isValidYear(p.year)) throw new RangeError(`not a year: ${p.year}`);
      const y = String(p.year).padStart(4, '0');
      return { from: `${y}-01-01`, to: `${y}-12-31` };
    }
    case 'months':
      return { from: firstDayOfMonth(p.from), to: lastDayOfMonth(p.to) };
    case 'dates':
      if (!isValidDate(p.from) || !isValidDate(p.to)) throw new RangeError(`not a date range: ${p.from}..${p.to}`);
      return { from: p.from, to: p.to };
  }
}

function calendarProblem(p: RequestPeriod): string | null {
  switch (p.kind) {
    case 'year':
      return isValidYear(p.year) ? null : `year ${p.year} does not exist`;
    case 'months':
      if (!isValidMonth(p.from)) return `month ${p.from} does not exist`;
      return isValidMonth(p.to) ? null : `month ${p.to} does not exist`;
    case 'dates':
      if (!isValidDate(p.from)) return `date ${p.from} does not exist`;
      return isValidDate(p.to) ? null : `date ${p.to} does not exist`;
  }
}

/**
 * MSG00008 rules, first failing one wins: period kind for the service, calendar values,
 * From ≤ To, at most 24 months (inclusive count; a date range counts the months it touches),
 * last month not after the reference date's month.
 */
export function checkPeriod(p: RequestPeriod, service: ServiceName, referenceDate: string): PeriodCheck {
  if (!isValidDate(referenceDate)) throw new RangeError(`reference date is not a date: "${referenceDate}"`);
  if (!KINDS_BY_SERVICE(service).includes(p.kind)) {
    return { ok: false, reason: `${service} does not take a ${p.kind} period` };
  }
  const problem = calendarProblem(p);
  if (problem !== null) return { ok: false, reason: problem };
  const { from, to } = periodBounds(p);
  if (from > to) return { ok: false, reason: 'period From is after To' };
  const months = monthsBetweenInclusive(from, to);
  if (months > MAX_MONTHS_PER_LINE) {
    return { ok: false, reason: `period spans ${months} months, at most ${MAX_MONTHS_PER_LINE} allowed` };
  }
  const referenceMonth = monthOf(referenceDate);
  if (monthOf(to) > referenceMonth) {
    return { ok: false, reason: `period ends after the reference month ${referenceMonth}` };
  }
  return { ok: true };
}

/** At least one day in common; bounds inclusive; null end = open. ISO dates compare lexically. */
export function overlaps(aFrom: string, aTo: string | null, bFrom: string, bTo: string | null): boolean {
  return (bTo === null || aFrom <= bTo) && (aTo === null || bFrom <= aTo);
}
