// Proportionality: a client receives only the response fields its authorization (deliberation)
// names in `fields` (clients.csv / config). Applied to each answered line before it is written.
//
// Field vocabulary of LivingWagesWithAmount (case matters: `Months` is the element, `months`
// the attribute of a yearly Total):
//   Year                 the yearly answer (<Year>); without it a year line is refused, see below
//   Months               the monthly answer (<Months>); without it a months line is refused
//   amountCents          Total/@amountCents, Month/@amountCents
//   months               Total/@months (number of months with an amount)
//   fullYear             Total/@fullYear
//   fullMonth            Month/@fullMonth
//   provisional          Total/@provisional, Month/@provisional
//   from, to             Month/@from, Month/@to (first and last granted day)
//   partnerSsin          Total/@partnerSsin, Month/@partnerSsin and the <Partner> children of a Total
//   beneficiarySsin      Total/@beneficiarySsin, Month/@beneficiarySsin (PARTNER lines)
//   lastMonthIsLastPaid  Months/@lastMonthIsLastPaid
//   ocmw, benefitType, category   the grouping keys of Total and Month
// Always present: the line itself (seq, Ticket, Ssin, Status), Year/@year and Month/@month.
// An empty list means every field. Names outside the vocabulary grant nothing (fail closed);
// `unknownAmountFields` lets configuration and import reject them up front.
//
// A line whose period kind the profile does not allow (a year line without `Year`, a months
// line without `Months`) is answered MSG00008 with no data: contract §4 defines MSG00008 for
// "wrong period kind for the service", and for this client's authorization of the service that
// is exactly the case. MSG00100 would falsely say "nothing found"; MSG00012 is about the
// integration, which exists; MSG00013 is a file-level code for service/legal context.
// Grouping keys outside the profile are left out; entries are not merged (that would change
// the amounts' meaning), so such a client may see several entries for one month.
import { ALL_AMOUNT_ATTRS, AMOUNT_ATTR } from '../../response/lineBytes.js';
import type { MonthEntry, ProfiledMonthEntry, ProfiledResponseLine, ProfiledYearTotal, RequestPeriod, ResponseLine, YearTotal } from '../../interfaces.js';

export const AMOUNT_FIELDS = [
  'Year',
  'Months',
  'amountCents',
  'months',
  'fullYear',
  'fullMonth',
  'provisional',
  'from',
  'to',
  'partnerSsin',
  'beneficiarySsin',
  'lastMonthIsLastPaid',
  'ocmw',
  'benefitType',
  'category',
] as const;
export type AmountField = (typeof AMOUNT_FIELDS)[number];

export type { ProfiledMonthEntry, ProfiledResponseLine, ProfiledYearTotal } from '../../interfaces.js';

/** Names in `fields` that are not in the vocabulary (for configuration checks). */
export function unknownAmountFields(fields: readonly string[]): string[] {
  const known: readonly string[] = AMOUNT_FIELDS;
  return fields.filter((f) => !known.includes(f));
}

function allows(fields: readonly string[], f: AmountField): boolean {
  return fields.length === 0 || fields.includes(f);
}

/**
 * Whether the profile allows this period kind. The pipeline should use it next to decideLine,
 * so the §4 order holds (MSG00008 before MSG00012) also for lines that get no data:
 * a CONTINUE or MSG00012 decision becomes MSG00008 when this is false.
 */
export function periodKindAllowed(kind: RequestPeriod['kind'], fields: readonly string[]): boolean {
  if (kind === 'year') return allows(fields, 'Year');
  if (kind === 'months') return allows(fields, 'Months');
  return true; // 'dates' is not this service's; checkPeriod already answers MSG00008
}

/**
 * The profile as the encoder's AMOUNT_ATTR bits (the same rule as applyFieldProfile, for the
 * answers the resolver encodes straight from the rules' columns).
 */
export function amountAttrMask(fields: readonly string[]): number {
  if (fields.length === 0) return ALL_AMOUNT_ATTRS;
  let mask = 0;
  for (const f of fields) if (Object.hasOwn(AMOUNT_ATTR, f)) mask |= AMOUNT_ATTR[f as keyof typeof AMOUNT_ATTR];
  return mask;
}

/** Copies the listed keys of `src` that the profile allows and that are present. */
function pick<T extends object, K extends keyof T & AmountField>(src: T, keys: readonly K[], fields: readonly string[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (allows(fields, k) && src[k] !== undefined) out[k] = src[k];
  return out as Pick<T, K>;
}

const TOTAL_KEYS = ['ocmw', 'benefitType', 'category', 'amountCents', 'months', 'fullYear', 'provisional', 'partnerSsin', 'beneficiarySsin'] as const;
const MONTH_KEYS = ['ocmw', 'benefitType', 'category', 'amountCents', 'from', 'to', 'fullMonth', 'provisional', 'partnerSsin', 'beneficiarySsin'] as const;

function profileTotal(t: YearTotal, fields: readonly string[]): ProfiledYearTotal {
  const out: ProfiledYearTotal = pick(t, TOTAL_KEYS, fields);
  // <Partner> children name partners just like partnerSsin does.
  if (t.partners !== undefined && allows(fields, 'partnerSsin')) out.partners = [...t.partners];
  return out;
}

function profileMonth(m: MonthEntry, fields: readonly string[]): ProfiledMonthEntry {
  return { month: m.month, ...pick(m, MONTH_KEYS, fields) };
}

/** Pure: returns a new line; `line` is not modified. */
export function applyFieldProfile(line: ResponseLine, fields: readonly string[]): ProfiledResponseLine {
  if (fields.length === 0) return line;
  const { year, months, ...rest } = line;
  if (year !== undefined) {
    if (!allows(fields, 'Year')) return { ...rest, status: 'MSG00008' };
    return { ...rest, year: { year: year.year, totals: year.totals.map((t) => profileTotal(t, fields)) } };
  }
  if (months !== undefined) {
    if (!allows(fields, 'Months')) return { ...rest, status: 'MSG00008' };
    const answer: NonNullable<ProfiledResponseLine['months']> = { entries: months.entries.map((m) => profileMonth(m, fields)) };
    if (allows(fields, 'lastMonthIsLastPaid')) answer.lastMonthIsLastPaid = months.lastMonthIsLastPaid;
    return { ...rest, months: answer };
  }
  return { ...rest };
}
