// Response content of LivingWagesWithAmount (contract §5, §7) from the amount rows of one person
// in one role. Rows arrive unfiltered; visibility and the period are applied here.
//
// One implementation, on compact rows (AmountColumns): the rows of a line as typed columns whose
// text fields are indexes into a sorted string table (index order = string order), as the read
// model holds them (readmodel/layout.ts). No object is made per row, nor per answer: the rules
// (monthGroups, yearGroups) write a line's answer into reused columns (AnswerGroups), which the
// resolver's encoder writes as XML. monthsOf/yearOf turn those columns into MonthEntry/YearTotal
// objects for the other callers (extracts, tests); `aggregateMonths`/`aggregateYear` on AmountRow
// objects pack the rows into columns (packAmountRows) first. Same rules on every path.
import type { AmountRow, BenefitType, Category, MonthEntry, Role, YearTotal } from '../interfaces.js';
import { dayNumber, firstDayOfMonth, isValidMonth, lastDayOfMonth } from './dates.js';
import { spansCoverEveryDay } from './dayRanges.js';
import { isVisible } from './visibility.js';
import { ssinText } from './ssin.js';

/**
 * The amount rows of one person in one role, as columns. `count` rows are used (the columns may
 * be longer: a reused buffer).
 */
export interface AmountColumns {
  /** Every text value the index columns point to, sorted in code-unit order. */
  strings: readonly string[];
  count: number;
  /**
   * The other person of each row, as an SSIN number (11 digits fit a double), -1 for none: the
   * partner on a BENEFICIARY line, the beneficiary on a PARTNER line.
   */
  other: Float64Array;
  /** Amount in cents (may be negative: a correction). */
  cents: Float64Array;
  /** String indexes. */
  ocmw: Uint16Array;
  benefitType: Uint16Array;
  category: Uint16Array;
  month: Uint16Array;
  grantFrom: Uint16Array;
  grantTo: Uint16Array;
  paidOn: Uint16Array;
  status: Uint16Array;
}

/** Empty columns with room for `capacity` rows. */
export function amountColumns(strings: readonly string[], capacity = 64): AmountColumns {
  return {
    strings,
    count: 0,
    other: new Float64Array(capacity),
    cents: new Float64Array(capacity),
    ocmw: new Uint16Array(capacity),
    benefitType: new Uint16Array(capacity),
    category: new Uint16Array(capacity),
    month: new Uint16Array(capacity),
    grantFrom: new Uint16Array(capacity),
    grantTo: new Uint16Array(capacity),
    paidOn: new Uint16Array(capacity),
    status: new Uint16Array(capacity),
  };
}

/** Makes room for `n` rows (keeping the first `c.count`). */
export function ensureCapacity(c: AmountColumns, n: number): void {
  if (c.other.length >= n) return;
  const size = Math.max(n, c.other.length * 2);
  const grow = <T extends Float64Array | Uint16Array>(a: T, make: (k: number) => T): T => {
    const b = make(size);
    b.set(a.subarray(0, c.count));
    return b;
  };
  const f = (k: number): Float64Array => new Float64Array(k);
  const u = (k: number): Uint16Array => new Uint16Array(k);
  c.other = grow(c.other, f);
  c.cents = grow(c.cents, f);
  c.ocmw = grow(c.ocmw, u);
  c.benefitType = grow(c.benefitType, u);
  c.category = grow(c.category, u);
  c.month = grow(c.month, u);
  c.grantFrom = grow(c.grantFrom, u);
  c.grantTo = grow(c.grantTo, u);
  c.paidOn = grow(c.paidOn, u);
  c.status = grow(c.status, u);
}

/**
 * AmountRow objects as columns, for one role (the other person: the partner on a BENEFICIARY line,
 * the beneficiary on a PARTNER line). SSINs must be 11 digits (the store only holds such).
 */
export function packAmountRows(rows: readonly AmountRow[], role: Role): AmountColumns {
  const texts = new Set<string>();
  for (const r of rows) for (const t of [r.ocmwCbe, r.benefitType, r.category, r.month, r.grantFrom, r.grantTo, r.paidOn, r.status]) texts.add(t);
  const strings = [...texts].sort(cmp);
  const index = new Map(strings.map((s, i) => [s, i]));
  const at = (s: string): number => index.get(s) as number;
  const c = amountColumns(strings, Math.max(rows.length, 1));
  for (const r of rows) {
    const i = c.count++;
    const other = role === 'PARTNER' ? r.ssin : r.partnerSsin;
    if (other !== null && !/^\d{11}$/.test(other)) throw new RangeError(`an amount row names an SSIN that is not 11 digits: ${other.length} characters`);
    c.other[i] = other === null ? -1 : Number(other);
    c.cents[i] = r.amountCents;
    c.ocmw[i] = at(r.ocmwCbe);
    c.benefitType[i] = at(r.benefitType);
    c.category[i] = at(r.category);
    c.month[i] = at(r.month);
    c.grantFrom[i] = at(r.grantFrom);
    c.grantTo[i] = at(r.grantTo);
    c.paidOn[i] = at(r.paidOn);
    c.status[i] = at(r.status);
  }
  return c;
}

// ------------------------------------------------------------------ facts per string table

/**
 * What the rules ask of a text value, remembered per string table and index (a batch asks the
 * same few hundred dates over and over): visibility on a reference date, day numbers.
 */
interface Facts {
  referenceDate: string;
  /** 1 visible, 0 not, -1 not asked yet (paidOn values, on `referenceDate`). */
  visible: Int8Array;
  /** dayNumber of a date value; NaN: not asked yet. */
  day: Float64Array;
  /** Day numbers of the first and last day of a month value; NaN: not asked yet. */
  monthFirst: Float64Array;
  monthLast: Float64Array;
  /** The index of 'PROVISIONAL', -1 when the table has none. */
  provisional: number;
  /** Per year asked: its months' run [lo, hi) in the table, its first and last day numbers. */
  years: Map<number, YearBounds>;
}

interface YearBounds {
  lo: number;
  hi: number;
  start: number;
  end: number;
}

const factsOf = new WeakMap<readonly string[], Facts>();

function facts(strings: readonly string[], referenceDate: string): Facts {
  let f = factsOf.get(strings);
  if (f === undefined) {
    const n = strings.length;
    f = {
      referenceDate,
      visible: new Int8Array(n).fill(-1),
      day: new Float64Array(n).fill(NaN),
      monthFirst: new Float64Array(n).fill(NaN),
      monthLast: new Float64Array(n).fill(NaN),
      provisional: lowerBound(strings, 'PROVISIONAL'),
      years: new Map(),
    };
    if (strings[f.provisional] !== 'PROVISIONAL') f.provisional = -1;
    factsOf.set(strings, f);
  } else if (f.referenceDate !== referenceDate) {
    f.referenceDate = referenceDate;
    f.visible.fill(-1);
  }
  return f;
}

/** Whether the amount paid on `strings[paidOn]` is visible on the reference date (visibility.ts). */
export function visibleAt(strings: readonly string[], paidOn: number, referenceDate: string): boolean {
  return visibleIn(facts(strings, referenceDate), strings, paidOn);
}

function visibleIn(f: Facts, strings: readonly string[], paidOn: number): boolean {
  let v = f.visible[paidOn];
  if (v < 0) {
    v = isVisible(strings[paidOn], f.referenceDate) ? 1 : 0;
    f.visible[paidOn] = v;
  }
  return v === 1;
}

function dayOf(f: Facts, strings: readonly string[], i: number): number {
  let d = f.day[i];
  if (d !== d) {
    d = dayNumber(strings[i]);
    f.day[i] = d;
  }
  return d;
}

function monthBounds(f: Facts, strings: readonly string[], i: number): void {
  if (f.monthFirst[i] !== f.monthFirst[i]) {
    f.monthFirst[i] = dayNumber(firstDayOfMonth(strings[i]));
    f.monthLast[i] = dayNumber(lastDayOfMonth(strings[i]));
  }
}

/** The first index whose value is ≥ s (strings.length when none). */
export function lowerBound(strings: readonly string[], s: string): number {
  let lo = 0;
  let hi = strings.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strings[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose value is > s. */
export function upperBound(strings: readonly string[], s: string): number {
  let lo = 0;
  let hi = strings.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strings[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ------------------------------------------------------------------ scratch (reused, single-threaded)

let order = new Uint32Array(256);
let spanFrom = new Float64Array(256);
let spanTo = new Float64Array(256);
let partnerScratch = new Float64Array(64);

function room(n: number): void {
  if (order.length < n) {
    order = new Uint32Array(n * 2);
    spanFrom = new Float64Array(n * 2);
    spanTo = new Float64Array(n * 2);
  }
}

/** Plain code-unit order: deterministic and independent of the machine's locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two rows by their group: (month when `withMonth`), ocmw, benefitType, category, and the
 * beneficiary on a PARTNER line — index order is string order, and 11-digit SSINs compare as numbers.
 */
function cmpRows(c: AmountColumns, a: number, b: number, withMonth: boolean, partnerLine: boolean): number {
  return (
    (withMonth ? c.month[a] - c.month[b] : 0) ||
    c.ocmw[a] - c.ocmw[b] ||
    c.benefitType[a] - c.benefitType[b] ||
    c.category[a] - c.category[b] ||
    (partnerLine ? c.other[a] - c.other[b] : 0)
  );
}

/** Sorts order[0..n) by group (then month, for counting distinct months within a year group). */
function sortRows(c: AmountColumns, n: number, withMonth: boolean, partnerLine: boolean): void {
  if (n > 48) {
    order.subarray(0, n).sort((a, b) => cmpRows(c, a, b, withMonth, partnerLine) || c.month[a] - c.month[b] || a - b);
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = order[i];
    let j = i - 1;
    while (j >= 0 && (cmpRows(c, order[j], x, withMonth, partnerLine) || c.month[order[j]] - c.month[x]) > 0) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
}

/**
 * What summarize found of the group it was last called on (scratch, like `order`: an object per
 * group was a good part of the rules' garbage).
 */
const group = {
  cents: 0,
  provisional: false,
  /** The common partner's SSIN number; -1: none or not common. */
  partner: -1,
  /** Whether the rows name more than one partner, or a partner and none. */
  mixed: false,
};

/** Sums up rows order[from..to) of one group into `group`. */
function summarize(c: AmountColumns, f: Facts, from: number, to: number): typeof group {
  let cents = 0;
  let provisional = false;
  const first = c.other[order[from]];
  let mixed = false;
  for (let k = from; k < to; k++) {
    const i = order[k];
    cents += c.cents[i];
    if (c.status[i] === f.provisional) provisional = true;
    if (c.other[i] !== first) mixed = true;
  }
  group.cents = cents;
  group.provisional = provisional;
  group.partner = mixed ? -1 : first;
  group.mixed = mixed;
  return group;
}

/** Whether the granted days of rows order[from..to) cover every day of [start, end]. */
function covers(c: AmountColumns, f: Facts, from: number, to: number, start: number, end: number): boolean {
  const n = to - from;
  for (let k = 0; k < n; k++) {
    const i = order[from + k];
    spanFrom[k] = dayOf(f, c.strings, c.grantFrom[i]);
    spanTo[k] = dayOf(f, c.strings, c.grantTo[i]);
  }
  return spansCoverEveryDay(spanFrom, spanTo, n, start, end);
}

// ------------------------------------------------------------------ the answer, as columns

/**
 * A line's answer as columns, one entry per group (a Month of a monthly answer, a Total of a
 * yearly one): what the rules decide, with text as string-table indexes and SSINs as numbers.
 * The resolver's encoder writes XML straight from it (response/lineBytes.ts), so a million lines
 * make no answer objects; monthsOf/yearOf turn it into MonthEntry/YearTotal objects for the other
 * callers. Reused from line to line (`count` entries are used).
 */
export interface AnswerGroups {
  count: number;
  /** The month (string index): monthly answers only. */
  month: Uint16Array;
  ocmw: Uint16Array;
  benefitType: Uint16Array;
  category: Uint16Array;
  cents: Float64Array;
  /** First and last granted day (string indexes): monthly answers only. */
  from: Uint16Array;
  to: Uint16Array;
  /** Months with an amount: yearly answers only. */
  months: Uint8Array;
  /** fullMonth (monthly) or fullYear (yearly), 1 or 0. */
  full: Uint8Array;
  provisional: Uint8Array;
  /**
   * The other person as an SSIN number, -1 for none: on a BENEFICIARY line the partner every row
   * of the group names; on a PARTNER line the beneficiary.
   */
  other: Float64Array;
  /**
   * A yearly BENEFICIARY total whose rows name several partners (or a partner and none): its
   * distinct partners, ascending, are partners[partnersAt[g] … partnersAt[g + 1]).
   */
  partnersAt: Uint32Array;
  partners: Float64Array;
  /** Monthly answers: whether the last month answered is the last month with a visible amount. */
  lastMonthIsLastPaid: boolean;
}

/** Empty answer columns (they grow with the rows they are filled from). */
export function answerGroups(capacity = 16): AnswerGroups {
  return {
    count: 0,
    month: new Uint16Array(capacity),
    ocmw: new Uint16Array(capacity),
    benefitType: new Uint16Array(capacity),
    category: new Uint16Array(capacity),
    cents: new Float64Array(capacity),
    from: new Uint16Array(capacity),
    to: new Uint16Array(capacity),
    months: new Uint8Array(capacity),
    full: new Uint8Array(capacity),
    provisional: new Uint8Array(capacity),
    other: new Float64Array(capacity),
    partnersAt: new Uint32Array(capacity + 1),
    partners: new Float64Array(capacity),
    lastMonthIsLastPaid: false,
  };
}

/** Room for `n` groups and `n` partners (a group has at least one row: n rows are enough). */
function groupRoom(g: AnswerGroups, n: number): void {
  if (g.ocmw.length >= n) return;
  const size = Math.max(n, g.ocmw.length * 2);
  g.month = new Uint16Array(size);
  g.ocmw = new Uint16Array(size);
  g.benefitType = new Uint16Array(size);
  g.category = new Uint16Array(size);
  g.cents = new Float64Array(size);
  g.from = new Uint16Array(size);
  g.to = new Uint16Array(size);
  g.months = new Uint8Array(size);
  g.full = new Uint8Array(size);
  g.provisional = new Uint8Array(size);
  g.other = new Float64Array(size);
  g.partnersAt = new Uint32Array(size + 1);
  g.partners = new Float64Array(size);
}

// ------------------------------------------------------------------ the rules

/**
 * Monthly answer for months from..to (YYYY-MM, inclusive), into `g`. No groups → the caller
 * answers MSG00100. lastMonthIsLastPaid looks at every visible row given, not only those in the period.
 */
export function monthGroups(c: AmountColumns, role: Role, from: string, to: string, referenceDate: string, g: AnswerGroups): void {
  if (!isValidMonth(from) || !isValidMonth(to)) throw new RangeError(`not a month range: ${from}..${to}`);
  const S = c.strings;
  const f = facts(S, referenceDate);
  const lo = lowerBound(S, from);
  const hi = upperBound(S, to); // months in [lo, hi) lie in from..to
  room(c.count);
  groupRoom(g, c.count);
  let n = 0;
  let lastVisible = -1; // the latest month index of a visible row
  for (let i = 0; i < c.count; i++) {
    if (!visibleIn(f, S, c.paidOn[i])) continue;
    const m = c.month[i];
    if (m > lastVisible) lastVisible = m;
    if (m >= lo && m < hi) order[n++] = i;
  }
  const partnerLine = role === 'PARTNER';
  sortRows(c, n, true, partnerLine);
  let k = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && cmpRows(c, order[start], order[end], true, partnerLine) === 0) end++;
    const head = order[start];
    const sum = summarize(c, f, start, end);
    let minFrom = c.grantFrom[head];
    let maxTo = c.grantTo[head];
    for (let j = start; j < end; j++) {
      const i = order[j];
      if (c.grantFrom[i] < minFrom) minFrom = c.grantFrom[i];
      if (c.grantTo[i] > maxTo) maxTo = c.grantTo[i];
    }
    const month = c.month[head];
    monthBounds(f, S, month);
    g.month[k] = month;
    g.ocmw[k] = c.ocmw[head];
    g.benefitType[k] = c.benefitType[head];
    g.category[k] = c.category[head];
    g.cents[k] = sum.cents;
    g.from[k] = minFrom;
    g.to[k] = maxTo;
    g.full[k] = covers(c, f, start, end, f.monthFirst[month], f.monthLast[month]) ? 1 : 0;
    g.provisional[k] = sum.provisional ? 1 : 0;
    g.other[k] = partnerLine ? c.other[head] : sum.partner;
    k++;
    start = end;
  }
  g.count = k;
  // With no groups the flag is not written; compare against the requested end then.
  g.lastMonthIsLastPaid = lastVisible < 0 || !(S[lastVisible] > (k > 0 ? S[g.month[k - 1]] : to));
}

/** Yearly answer, into `g`: one total per (ocmw, benefitType, category[, beneficiary for PARTNER]). */
export function yearGroups(c: AmountColumns, role: Role, year: number, referenceDate: string, g: AnswerGroups): void {
  if (!Number.isInteger(year) || year < 1 || year > 9999) throw new RangeError(`not a year: ${year}`);
  const S = c.strings;
  const f = facts(S, referenceDate);
  const { lo, hi, start: yearStart, end: yearEnd } = yearBounds(f, S, year);
  room(c.count);
  groupRoom(g, c.count);
  let n = 0;
  for (let i = 0; i < c.count; i++) {
    const m = c.month[i];
    if (m >= lo && m < hi && visibleIn(f, S, c.paidOn[i])) order[n++] = i;
  }
  const partnerLine = role === 'PARTNER';
  sortRows(c, n, false, partnerLine);
  let k = 0;
  let p = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    let months = 1;
    while (end < n && cmpRows(c, order[start], order[end], false, partnerLine) === 0) {
      if (c.month[order[end]] !== c.month[order[end - 1]]) months++; // sorted by month within the group
      end++;
    }
    const head = order[start];
    const sum = summarize(c, f, start, end);
    g.ocmw[k] = c.ocmw[head];
    g.benefitType[k] = c.benefitType[head];
    g.category[k] = c.category[head];
    g.cents[k] = sum.cents;
    g.months[k] = months;
    g.full[k] = covers(c, f, start, end, yearStart, yearEnd) ? 1 : 0;
    g.provisional[k] = sum.provisional ? 1 : 0;
    g.partnersAt[k] = p;
    if (partnerLine) {
      // On a PARTNER line every row names the requested person as partner: nothing to add.
      g.other[k] = c.other[head];
    } else {
      g.other[k] = sum.partner;
      if (sum.mixed) p = distinctPartners(c, start, end, g.partners, p);
    }
    k++;
    start = end;
  }
  g.partnersAt[k] = p;
  g.count = k;
}

/** The object-making callers' columns (read out before they return; single-threaded like `order`). */
const scratchGroups = answerGroups();

/**
 * Monthly answer as objects (monthGroups' columns turned into MonthEntry): empty entries → the
 * caller answers MSG00100.
 */
export function monthsOf(c: AmountColumns, role: Role, from: string, to: string, referenceDate: string): { lastMonthIsLastPaid: boolean; entries: MonthEntry[] } {
  const g = scratchGroups;
  monthGroups(c, role, from, to, referenceDate, g);
  const S = c.strings;
  const entries: MonthEntry[] = [];
  for (let k = 0; k < g.count; k++) {
    const entry: MonthEntry = {
      month: S[g.month[k]],
      ocmw: S[g.ocmw[k]],
      benefitType: S[g.benefitType[k]] as BenefitType,
      category: S[g.category[k]] as Category,
      amountCents: g.cents[k],
      from: S[g.from[k]],
      to: S[g.to[k]],
      fullMonth: g.full[k] === 1,
      provisional: g.provisional[k] === 1,
    };
    // Optional attributes are left out rather than set to undefined (contract §7: never empty).
    if (g.other[k] >= 0) {
      if (role === 'PARTNER') entry.beneficiarySsin = ssinText(g.other[k]);
      else entry.partnerSsin = ssinText(g.other[k]);
    }
    entries.push(entry);
  }
  return { lastMonthIsLastPaid: g.lastMonthIsLastPaid, entries };
}

/** Yearly answer as objects (yearGroups' columns turned into YearTotal). */
export function yearOf(c: AmountColumns, role: Role, year: number, referenceDate: string): YearTotal[] {
  const g = scratchGroups;
  yearGroups(c, role, year, referenceDate, g);
  const S = c.strings;
  const totals: YearTotal[] = [];
  for (let k = 0; k < g.count; k++) {
    const total: YearTotal = {
      ocmw: S[g.ocmw[k]],
      benefitType: S[g.benefitType[k]] as BenefitType,
      category: S[g.category[k]] as Category,
      amountCents: g.cents[k],
      months: g.months[k],
      fullYear: g.full[k] === 1,
      provisional: g.provisional[k] === 1,
    };
    if (role === 'PARTNER') {
      if (g.other[k] >= 0) total.beneficiarySsin = ssinText(g.other[k]);
    } else if (g.other[k] >= 0) total.partnerSsin = ssinText(g.other[k]);
    else if (g.partnersAt[k + 1] > g.partnersAt[k]) {
      const partners: string[] = [];
      for (let j = g.partnersAt[k]; j < g.partnersAt[k + 1]; j++) partners.push(ssinText(g.partners[j]));
      total.partners = partners;
    }
    totals.push(total);
  }
  return totals;
}

/** A year's bounds in the table (a batch asks for a few years, a million times: kept per table). */
function yearBounds(f: Facts, S: readonly string[], year: number): YearBounds {
  let b = f.years.get(year);
  if (b === undefined) {
    const y = String(year).padStart(4, '0');
    // the months "YYYY-…": a contiguous run of the sorted table ('.' follows '-')
    b = { lo: lowerBound(S, `${y}-`), hi: lowerBound(S, `${y}.`), start: dayNumber(`${y}-01-01`), end: dayNumber(`${y}-12-31`) };
    if (f.years.size >= 64) f.years.clear(); // a hostile mix of years stays bounded
    f.years.set(year, b);
  }
  return b;
}

/**
 * The distinct partners of rows order[from..to), ascending (11-digit SSINs: number order is text
 * order), into out[at …); returns the index past the last one written.
 */
function distinctPartners(c: AmountColumns, from: number, to: number, out: Float64Array, at: number): number {
  if (partnerScratch.length < to - from) partnerScratch = new Float64Array((to - from) * 2);
  let n = 0;
  for (let k = from; k < to; k++) {
    const p = c.other[order[k]];
    if (p >= 0) partnerScratch[n++] = p;
  }
  const sorted = partnerScratch.subarray(0, n).sort();
  for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) out[at++] = sorted[k];
  return at;
}

// ------------------------------------------------------------------ on AmountRow objects

export function visibleAmounts(rows: AmountRow[], referenceDate: string): AmountRow[] {
  return rows.filter((r) => isVisible(r.paidOn, referenceDate));
}

/** monthsOf on AmountRow objects (packed into columns first). */
export function aggregateMonths(rows: AmountRow[], role: Role, from: string, to: string, referenceDate: string): { lastMonthIsLastPaid: boolean; entries: MonthEntry[] } {
  return monthsOf(packAmountRows(rows, role), role, from, to, referenceDate);
}

/** yearOf on AmountRow objects (packed into columns first). */
export function aggregateYear(rows: AmountRow[], role: Role, year: number, referenceDate: string): YearTotal[] {
  return yearOf(packAmountRows(rows, role), role, year, referenceDate);
}
