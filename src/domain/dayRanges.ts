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
  const from = ranges.map((r) => dayNumber(r.from));
  const to = ranges.map((r) => dayNumber(r.to));
  return spansCoverEveryDay(from, to, ranges.length, dayNumber(target.from), dayNumber(target.to));
}

/**
 * The same rule on day numbers in columns (the amounts rules' compact rows): whether spans
 * [from[i], to[i]] (i < n; a reversed span grants no day) cover every day of [start, end]. `from`
 * and `to` are reordered in place (sorted by from).
 */
export function spansCoverEveryDay(from: number[] | Float64Array, to: number[] | Float64Array, n: number, start: number, end: number): boolean {
  // insertion sort by start day: the spans of one month or year are a handful
  for (let i = 1; i < n; i++) {
    const a = from[i];
    const b = to[i];
    let j = i - 1;
    while (j >= 0 && from[j] > a) {
      from[j + 1] = from[j];
      to[j + 1] = to[j];
      j--;
    }
    from[j + 1] = a;
    to[j + 1] = b;
  }
  // sweep: `next` is the first day not covered yet; a span starting after it leaves a gap
  let next = start;
  for (let i = 0; i < n && next <= end; i++) {
    if (from[i] > to[i]) continue;
    if (from[i] > next) return false;
    if (to[i] + 1 > next) next = to[i] + 1;
  }
  return next > end;
}
