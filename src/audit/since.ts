// `--since 6m` / `30d` / `2w` / `1y` / `2025-07-01`: the first day to include, relative to "today".
// Pure: the caller passes today's date (in the instance's time zone).
import { LdmError } from '../errors.js';
import { addDays, addMonths, daysInMonth, isValidDate, monthOf } from '../domain/dates.js';

const RELATIVE = /^(\d{1,4})([dwmy])$/;

/** `today` minus `n` calendar months; a day the target month lacks becomes its last day (31 Aug − 6m = 28/29 Feb). */
function minusMonths(today: string, n: number): string {
  const month = addMonths(monthOf(today), -n);
  const day = Math.min(Number(today.slice(8, 10)), daysInMonth(month));
  return `${month}-${String(day).padStart(2, '0')}`;
}

/**
 * Returns a date YYYY-MM-DD. Relative values count back from `today` (`0d` = today).
 * Throws LdmError USAGE (exit 2) on anything else.
 */
export function parseSince(value: string, today: string, what = '--since'): string {
  if (!isValidDate(today)) throw new RangeError(`today is not a date: "${today}"`);
  const v = value.trim();
  if (isValidDate(v)) return v;
  const m = RELATIVE.exec(v);
  if (m === null) {
    throw new LdmError('USAGE', `${what} must be a date YYYY-MM-DD or a duration like 30d, 2w, 6m, 1y; got "${value}"`, { exitCode: 2 });
  }
  const n = Number(m[1]);
  try {
    switch (m[2]) {
      case 'd':
        return addDays(today, -n);
      case 'w':
        return addDays(today, -7 * n);
      case 'm':
        return minusMonths(today, n);
      default:
        return minusMonths(today, 12 * n);
    }
  } catch (err) {
    // Only a duration reaching before year 0 gets here.
    throw new LdmError('USAGE', `${what} "${value}" reaches too far back`, { exitCode: 2, cause: err });
  }
}
