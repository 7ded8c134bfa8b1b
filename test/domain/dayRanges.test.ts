import { describe, expect, it } from 'vitest';
import { coversEveryDay, mergeDayRanges } from '../../src/domain/dayRanges.js';
import { dayNumber } from '../../src/domain/dates.js';

const r = (from: string, to: string) => ({ from, to });
const JAN = r('2025-01-01', '2025-01-31');

describe('mergeDayRanges', () => {
  it.each([
    ['empty', [], []],
    ['adjacent days merge', [r('2025-01-16', '2025-01-31'), r('2025-01-01', '2025-01-15')], [['2025-01-01', '2025-01-31']]],
    ['gap of one day stays split', [r('2025-01-01', '2025-01-14'), r('2025-01-16', '2025-01-31')], [['2025-01-01', '2025-01-14'], ['2025-01-16', '2025-01-31']]],
    ['overlap and containment', [r('2025-01-01', '2025-01-20'), r('2025-01-05', '2025-01-10'), r('2025-01-15', '2025-01-25')], [['2025-01-01', '2025-01-25']]],
    ['reversed range ignored', [r('2025-01-10', '2025-01-01')], []],
  ])('%s', (_label, ranges, expected) => {
    expect(mergeDayRanges(ranges)).toEqual(expected.map(([a, b]) => [dayNumber(a), dayNumber(b)]));
  });
});

describe('coversEveryDay', () => {
  it.each([
    ['whole month', [JAN], JAN, true],
    ['split 1–15 + 16–31', [r('2025-01-01', '2025-01-15'), r('2025-01-16', '2025-01-31')], JAN, true],
    ['missing the 16th', [r('2025-01-01', '2025-01-15'), r('2025-01-17', '2025-01-31')], JAN, false],
    ['missing the last day', [r('2025-01-01', '2025-01-30')], JAN, false],
    ['missing the first day', [r('2025-01-02', '2025-01-31')], JAN, false],
    ['wider than the target', [r('2024-12-01', '2025-02-28')], JAN, true],
    ['nothing', [], JAN, false],
  ])('%s → %s', (_label, ranges, target, expected) => {
    expect(coversEveryDay(ranges, target)).toBe(expected);
  });
});
