import { describe, expect, it } from 'vitest';
import type { RequestPeriod, ServiceName } from '../../src/interfaces.js';
import { checkPeriod, overlaps, periodBounds } from '../../src/domain/period.js';

const AMOUNTS: ServiceName = 'LivingWagesWithAmount';
const RIGHTS: ServiceName = 'LivingWages';
const REF = '2026-01-15';

const year = (y: number): RequestPeriod => ({ kind: 'year', year: y });
const months = (from: string, to: string): RequestPeriod => ({ kind: 'months', from, to });
const dates = (from: string, to: string): RequestPeriod => ({ kind: 'dates', from, to });

describe('periodBounds', () => {
  it.each([
    [year(2025), '2025-01-01', '2025-12-31'],
    [year(2024), '2024-01-01', '2024-12-31'],
    [months('2025-01', '2025-06'), '2025-01-01', '2025-06-30'],
    [months('2024-02', '2024-02'), '2024-02-01', '2024-02-29'],
    [months('2025-02', '2025-02'), '2025-02-01', '2025-02-28'],
    [dates('2025-03-10', '2025-04-05'), '2025-03-10', '2025-04-05'],
  ])('%o → %s..%s', (p, from, to) => {
    expect(periodBounds(p)).toEqual({ from, to });
  });

  it.each([months('2025-13', '2025-13'), dates('2025-02-30', '2025-03-01'), year(0), year(2025.5)])('throws on %o', (p) => {
    expect(() => periodBounds(p)).toThrow(RangeError);
  });
});

describe('checkPeriod', () => {
  it.each([
    ['past year', year(2025), AMOUNTS, REF],
    ['year whose December is the reference month', year(2025), AMOUNTS, '2025-12-15'],
    ['one month', months('2025-06', '2025-06'), AMOUNTS, REF],
    ['exactly 24 months', months('2024-02', '2026-01'), AMOUNTS, REF],
    ['ends in the reference month', months('2025-12', '2026-01'), AMOUNTS, REF],
    ['dates, one day', dates('2025-06-01', '2025-06-01'), RIGHTS, REF],
    ['dates ending in the reference month after the reference day', dates('2025-06-01', '2026-01-31'), RIGHTS, REF],
    ['dates spanning 24 months', dates('2024-02-29', '2026-01-01'), RIGHTS, REF],
  ])('accepts %s', (_label, p, service, ref) => {
    expect(checkPeriod(p, service, ref)).toEqual({ ok: true });
  });

  it.each([
    ['current year', year(2026), AMOUNTS, REF, /after the reference month/],
    ['future year', year(2030), AMOUNTS, REF, /after the reference month/],
    ['year, reference in November', year(2025), AMOUNTS, '2025-11-30', /after the reference month/],
    ['months reversed', months('2025-06', '2025-01'), AMOUNTS, REF, /From is after To/],
    ['25 months', months('2024-01', '2026-01'), AMOUNTS, REF, /25 months/],
    ['ends after the reference month', months('2025-12', '2026-02'), AMOUNTS, REF, /after the reference month/],
    ['month 13', months('2025-13', '2025-13'), AMOUNTS, REF, /2025-13 does not exist/],
    ['month 00', months('2025-00', '2025-01'), AMOUNTS, REF, /does not exist/],
    ['year 0', year(0), AMOUNTS, REF, /does not exist/],
    ['dates reversed', dates('2025-06-02', '2025-06-01'), RIGHTS, REF, /From is after To/],
    ['dates over 25 months', dates('2024-01-31', '2026-01-01'), RIGHTS, REF, /25 months/],
    ['dates in the next month', dates('2026-01-01', '2026-02-01'), RIGHTS, REF, /after the reference month/],
    ['30 February', dates('2025-02-30', '2025-03-01'), RIGHTS, REF, /2025-02-30 does not exist/],
    ['29 February in a common year', dates('2025-01-01', '2025-02-29'), RIGHTS, REF, /does not exist/],
    ['dates for the amounts service', dates('2025-01-01', '2025-01-31'), AMOUNTS, REF, /does not take a dates period/],
    ['year for the rights service', year(2025), RIGHTS, REF, /does not take a year period/],
    ['months for the rights service', months('2025-01', '2025-02'), RIGHTS, REF, /does not take a months period/],
  ])('rejects %s', (_label, p, service, ref, reason) => {
    const result = checkPeriod(p, service, ref);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('checks the kind before the calendar values', () => {
    const r = checkPeriod(dates('2025-02-30', '2025-01-01'), AMOUNTS, REF);
    expect(r).toEqual({ ok: false, reason: 'LivingWagesWithAmount does not take a dates period' });
  });

  it('throws on an invalid reference date (a bug, not a line error)', () => {
    expect(() => checkPeriod(year(2025), AMOUNTS, '2026-02-30')).toThrow(RangeError);
  });
});

describe('overlaps', () => {
  it.each([
    ['a ends the day before b starts', '2025-01-01', '2025-01-31', '2025-02-01', '2025-02-28', false],
    ['a starts the day after b ends', '2025-03-01', '2025-03-31', '2025-02-01', '2025-02-28', false],
    ['a ends on b’s first day', '2025-01-01', '2025-02-01', '2025-02-01', '2025-02-28', true],
    ['a starts on b’s last day', '2025-02-28', '2025-03-31', '2025-02-01', '2025-02-28', true],
    ['a inside b', '2025-02-10', '2025-02-11', '2025-02-01', '2025-02-28', true],
    ['single days, same', '2025-02-10', '2025-02-10', '2025-02-10', '2025-02-10', true],
    ['a open, starts before b ends', '2020-01-01', null, '2025-02-01', '2025-02-28', true],
    ['a open, starts after b ends', '2025-03-01', null, '2025-02-01', '2025-02-28', false],
    ['b open', '2025-01-01', '2025-01-31', '2025-01-31', null, true],
    ['b open, starts after a ends', '2025-01-01', '2025-01-31', '2025-02-01', null, false],
    ['both open', '2025-01-01', null, '2030-01-01', null, true],
  ])('%s', (_label, aFrom, aTo, bFrom, bTo, expected) => {
    expect(overlaps(aFrom, aTo, bFrom, bTo)).toBe(expected);
    expect(overlaps(bFrom, bTo, aFrom, aTo)).toBe(expected); // symmetric
  });
});
