import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/audit/since.js';
import { LdmError } from '../../src/errors.js';

describe('parseSince', () => {
  it.each([
    ['6m', '2026-01-15', '2025-07-15'],
    ['6m', '2025-08-31', '2025-02-28'], // no 31 February: its last day
    ['6m', '2024-08-31', '2024-02-29'],
    ['1m', '2025-03-31', '2025-02-28'],
    ['12m', '2025-02-28', '2024-02-28'],
    ['1y', '2024-02-29', '2023-02-28'],
    ['4y', '2024-02-29', '2020-02-29'],
    ['1y', '2026-01-15', '2025-01-15'],
    ['30d', '2026-01-15', '2025-12-16'],
    ['1d', '2024-03-01', '2024-02-29'],
    ['0d', '2026-01-15', '2026-01-15'],
    ['2w', '2026-01-15', '2026-01-01'],
    ['365d', '2025-01-01', '2024-01-02'],
    [' 6m ', '2026-01-15', '2025-07-15'],
    ['2025-07-01', '2026-01-15', '2025-07-01'],
    ['2030-01-01', '2026-01-15', '2030-01-01'], // a future date is a valid (empty) question
  ])('%s before %s → %s', (value, today, expected) => {
    expect(parseSince(value, today)).toBe(expected);
  });

  it.each([['6'], ['m'], ['6 months'], ['-6m'], ['6M'], ['2025-02-30'], ['2025-7-1'], [''], ['99999d'], ['1.5y']])('"%s" is bad usage (exit 2)', (value) => {
    let err: unknown;
    try {
      parseSince(value, '2026-01-15');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LdmError);
    expect((err as LdmError).exitCode).toBe(2);
  });

  it('a bad "today" is a programming error', () => {
    expect(() => parseSince('6m', '2026-13-01')).toThrow(RangeError);
  });
});
