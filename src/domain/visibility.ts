// Contract §5: an amount paid on day D is visible from the first Saturday of the month after
// D's month (inclusive).
import { addDays, addMonths, firstDayOfMonth, monthOf, weekday } from './dates.js';

const SATURDAY = 6;

/** Between the 1st and the 7th of the month following paidOn's month. */
export function firstVisibleDay(paidOn: string): string {
  const first = firstDayOfMonth(addMonths(monthOf(paidOn), 1));
  return addDays(first, (SATURDAY - weekday(first) + 7) % 7);
}

/** ISO dates compare lexically. */
export function isVisible(paidOn: string, referenceDate: string): boolean {
  return referenceDate >= firstVisibleDay(paidOn);
}
