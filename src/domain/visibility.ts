// Contract §5: an amount paid on day D is visible from the first Saturday of the month after
// D's month (inclusive).
import { addDays, addMonths, firstDayOfMonth, monthOf, weekday } from './dates.js';

const SATURDAY = 6;

/** Remembered per paidOn (a batch sees the same few hundred payment dates over and over). */
const remembered = new Map<string, string>();

/** Between the 1st and the 7th of the month following paidOn's month. */
export function firstVisibleDay(paidOn: string): string {
  const hit = remembered.get(paidOn);
  if (hit !== undefined) return hit;
  const first = firstDayOfMonth(addMonths(monthOf(paidOn), 1));
  const day = addDays(first, (SATURDAY - weekday(first) + 7) % 7);
  if (remembered.size >= 50_000) remembered.clear();
  remembered.set(paidOn, day);
  return day;
}

/** ISO dates compare lexically. */
export function isVisible(paidOn: string, referenceDate: string): boolean {
  return referenceDate >= firstVisibleDay(paidOn);
}
