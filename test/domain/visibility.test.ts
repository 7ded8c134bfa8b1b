import { describe, expect, it } from 'vitest';
import { firstVisibleDay, isVisible } from '../../src/domain/visibility.js';

describe('firstVisibleDay', () => {
  it.each([
    ['paid in 2025-10, 2025-11-01 is a Saturday', '2025-10-15', '2025-11-01'],
    ['paid on the 1st of the month', '2025-10-01', '2025-11-01'],
    ['paid in 2026-01, 2026-02-01 is a Sunday → the 7th', '2026-01-10', '2026-02-07'],
    ['paid on 31 December → January next year', '2025-12-31', '2026-01-03'],
    ['paid on 29 February 2024', '2024-02-29', '2024-03-02'],
    ['paid on 31 May 2025 (June 1st is a Sunday)', '2025-05-31', '2025-06-07'],
  ])('%s: %s → %s', (_label, paidOn, expected) => {
    expect(firstVisibleDay(paidOn)).toBe(expected);
  });

  it('is always a Saturday between the 1st and the 7th', () => {
    for (let y = 2023; y <= 2027; y++) {
      for (let m = 1; m <= 12; m++) {
        const paidOn = `${y}-${String(m).padStart(2, '0')}-15`;
        const day = firstVisibleDay(paidOn);
        expect(new Date(`${day}T00:00:00Z`).getUTCDay()).toBe(6);
        expect(Number(day.slice(8))).toBeLessThanOrEqual(7);
      }
    }
  });
});

describe('isVisible', () => {
  it.each([
    ['day before the first Saturday', '2025-10-15', '2025-10-31', false],
    ['the first Saturday itself', '2025-10-15', '2025-11-01', true],
    ['later', '2025-10-15', '2026-01-15', true],
    ['the 6th, visible only on the 7th', '2026-01-10', '2026-02-06', false],
    ['the 7th', '2026-01-10', '2026-02-07', true],
    ['paid on the reference date', '2026-01-15', '2026-01-15', false],
    ['December, day before', '2025-12-31', '2026-01-02', false],
    ['December, the day itself', '2025-12-31', '2026-01-03', true],
    ['29 Feb 2024, day before', '2024-02-29', '2024-03-01', false],
    ['29 Feb 2024, the day itself', '2024-02-29', '2024-03-02', true],
  ])('%s: paid %s, reference %s → %s', (_label, paidOn, ref, visible) => {
    expect(isVisible(paidOn, ref)).toBe(visible);
  });
});
