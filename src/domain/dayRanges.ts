// Unions of day ranges, for fullMonth / fullYear ("the union of granted days covers every day").
import { dayNumber } from './dates.js';

export interface DayRange {
  from: string; // YYYY-MM-DD inclusive
  to: string;
}

/** Merged [start, end] day numbers, sorted; overlapping and adjacent ranges become one. */
export function mergeDayRanges(ranges: readonly DayRange[]): Array<[number, number]> {
  const spans = ranges
    .map((r): [number, number] => [dayNumber(r.from), dayNumber(r.to)])
    .filter(([a, b]) => a <= b) // a reversed range grants no day
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** True when every day of `target` lies in the union of `ranges`. */
export function coversEveryDay(ranges: readonly DayRange[], target: DayRange): boolean {
  const start = dayNumber(target.from);
  const end = dayNumber(target.to);
  // Merged spans are disjoint and non-adjacent, so one of them must hold the whole target.
  return mergeDayRanges(ranges).some(([a, b]) => a <= start && b >= end);
}
