import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  dayNumber,
  daysInMonth,
  firstDayOfMonth,
  fromDayNumber,
  isValidDate,
  isValidMonth,
  lastDayOfMonth,
  monthOf,
  monthsBetweenInclusive,
  weekday,
} from '../../src/domain/dates.js';

describe('daysInMonth / firstDayOfMonth / lastDayOfMonth', () => {
  it.each([
    ['2025-01', 31, '2025-01-31'],
    ['2025-02', 28, '2025-02-28'],
    ['2024-02', 29, '2024-02-29'],
    ['2000-02', 29, '2000-02-29'], // divisible by 400
    ['1900-02', 28, '1900-02-28'], // divisible by 100 only
    ['2025-04', 30, '2025-04-30'],
    ['2025-12', 31, '2025-12-31'],
  ])('%s has %i days, last %s', (month, days, last) => {
    expect(daysInMonth(month)).toBe(days);
    expect(firstDayOfMonth(month)).toBe(`${month}-01`);
    expect(lastDayOfMonth(month)).toBe(last);
  });

  it.each(['2025-13', '2025-00', '2025-1', '25-01', '2025-01-01'])('rejects month %s', (month) => {
    expect(() => daysInMonth(month)).toThrow(RangeError);
  });
});

describe('isValidDate / isValidMonth', () => {
  it.each([
    ['2024-02-29', true],
    ['2025-02-29', false],
    ['2025-02-30', false],
    ['2025-04-31', false],
    ['2025-12-31', true],
    ['2025-13-01', false],
    ['2025-01-00', false],
    ['2025-1-01', false],
    ['2025-01-01T00:00:00Z', false],
    ['', false],
  ])('date %s → %s', (s, ok) => {
    expect(isValidDate(s)).toBe(ok);
  });

  it.each([
    ['2025-01', true],
    ['2025-12', true],
    ['2025-13', false],
    ['2025-00', false],
    ['2025-1', false],
    ['2025-01-01', false],
  ])('month %s → %s', (s, ok) => {
    expect(isValidMonth(s)).toBe(ok);
  });
});

describe('addDays / dayNumber', () => {
  it.each([
    ['2025-01-31', 1, '2025-02-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2024-02-29', 1, '2024-03-01'],
    ['2025-02-28', 1, '2025-03-01'],
    ['2025-12-31', 1, '2026-01-01'],
    ['2026-01-01', -1, '2025-12-31'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2025-01-15', 0, '2025-01-15'],
    ['2024-01-01', 366, '2025-01-01'],
    ['1969-12-31', 1, '1970-01-01'],
  ])('%s %+i → %s', (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it.each([
    ['1970-01-01', 0],
    ['1970-01-02', 1],
    ['1969-12-31', -1],
    ['2000-03-01', 11017],
    ['2025-01-01', 20089],
  ])('dayNumber(%s) = %i', (date, n) => {
    expect(dayNumber(date)).toBe(n);
    expect(fromDayNumber(n)).toBe(date);
  });

  it('round-trips every day of 1999..2001 and agrees with Date.UTC', () => {
    for (let n = dayNumber('1999-01-01'); n <= dayNumber('2001-12-31'); n++) {
      const iso = new Date(n * 86_400_000).toISOString().slice(0, 10);
      expect(fromDayNumber(n)).toBe(iso);
      expect(dayNumber(iso)).toBe(n);
    }
  });
});

describe('addMonths / monthOf / monthsBetweenInclusive', () => {
  it.each([
    ['2025-01', 1, '2025-02'],
    ['2025-12', 1, '2026-01'],
    ['2025-01', -1, '2024-12'],
    ['2025-06', 24, '2027-06'],
    ['2025-06', -18, '2023-12'],
    ['2025-06', 0, '2025-06'],
  ])('addMonths(%s, %i) = %s', (month, n, expected) => {
    expect(addMonths(month, n)).toBe(expected);
  });

  it.each([
    ['2024-02-29', '2024-02'],
    ['2025-12-31', '2025-12'],
  ])('monthOf(%s) = %s', (date, month) => {
    expect(monthOf(date)).toBe(month);
  });

  it('monthOf rejects an impossible date', () => {
    expect(() => monthOf('2025-02-30')).toThrow(RangeError);
  });

  it.each([
    ['2025-01', '2025-01', 1],
    ['2025-01', '2025-12', 12],
    ['2024-01', '2025-12', 24],
    ['2024-01', '2026-01', 25],
    ['2025-03', '2025-02', 0],
    ['2025-01-31', '2025-02-01', 2], // dates count as their months
    ['2024-01-15', '2025-12-15', 24],
  ])('monthsBetweenInclusive(%s, %s) = %i', (from, to, n) => {
    expect(monthsBetweenInclusive(from, to)).toBe(n);
  });
});

describe('weekday', () => {
  it.each([
    ['1970-01-01', 4], // Thursday
    ['2025-11-01', 6], // Saturday
    ['2026-02-01', 0], // Sunday
    ['2024-02-29', 4], // Thursday
  ])('%s → %i', (date, wd) => {
    expect(weekday(date)).toBe(wd);
  });
});
