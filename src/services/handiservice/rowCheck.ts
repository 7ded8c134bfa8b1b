// Checks of the four Handiservice import rows (contract §8), as pure functions: each returns the
// row to store (column → value) or throws RowProblem, which the import kind turns into a bad row
// with the row's line number. Empty cells are null; booleans are `true`/`false`.
import { isValidSsin } from '../../domain/ssin.js';
import { isValidDate, isValidMonth } from '../../domain/dates.js';
import { HANDICAP_LEGISLATIONS, RECOGNITION_STATUSES } from '../../interfaces.js';

export class RowProblem extends Error {}

type Values = Record<string, string | null>;
export type StoredRow = Record<string, string | number | null>;

export const RECOGNITION_COLUMNS = [
  'recognition_id',
  'ssin',
  'legislation',
  'request_date',
  'status',
  'decision_date',
  'start_date',
  'end_date',
  'points',
  'earning_capacity_reduced',
  'lower_limbs_50',
  'full_blindness',
  'upper_limbs_amputated',
  'upper_limbs_paralysed',
] as const;
export const HANDICAP_RIGHT_COLUMNS = ['right_id', 'ssin', 'legislation', 'category', 'start_date', 'end_date', 'monthly_amount_cents', 'partner_income'] as const;
export const HANDICAP_PAYMENT_COLUMNS = ['ssin', 'month', 'legislation', 'amount_cents', 'suspended_cents'] as const;
export const SOCIAL_CARD_COLUMNS = ['card_number', 'ssin', 'type', 'delivered_on', 'end_date'] as const;

function required(v: Values, col: string): string {
  const s = v[col];
  if (s === null || s === undefined) throw new RowProblem(`${col} is required`);
  return s;
}
function optional(v: Values, col: string): string | null {
  return v[col] ?? null;
}
/** An identifier written in XML attributes and shown to operators: printable ASCII without spaces. */
function ident(v: Values, col: string, max: number): string {
  const s = required(v, col);
  if (!new RegExp(`^[!-~]{1,${max}}$`).test(s)) throw new RowProblem(`${col} must be 1-${max} printable ASCII characters without spaces, found "${s}"`);
  return s;
}
function ssin(v: Values, year: number): string {
  const s = required(v, 'ssin');
  if (!/^\d{11}$/.test(s)) throw new RowProblem('ssin must be 11 digits');
  if (!isValidSsin(s, year)) throw new RowProblem('ssin has wrong check digits (not a valid national or BIS number)');
  return s;
}
function date(s: string | null, col: string): string | null {
  if (s === null) return null;
  if (!isValidDate(s)) throw new RowProblem(`${col} must be a date YYYY-MM-DD, found "${s}"`);
  return s;
}
function oneOf(v: Values, col: string, allowed: readonly string[]): string {
  const s = required(v, col);
  if (!allowed.includes(s)) throw new RowProblem(`${col} must be one of ${allowed.join(', ')}, found "${s}"`);
  return s;
}
function bool(v: Values, col: string): string | null {
  const s = optional(v, col);
  if (s !== null && s !== 'true' && s !== 'false') throw new RowProblem(`${col} must be true or false (or empty), found "${s}"`);
  return s;
}
function whole(s: string | null, col: string, opts: { negative?: boolean; max?: number } = {}): number | null {
  if (s === null) return null;
  const re = opts.negative ? /^-?\d{1,12}$/ : /^\d{1,12}$/;
  if (!re.test(s)) throw new RowProblem(`${col} must be a whole number${opts.negative ? '' : ' (0 or more)'}, found "${s}"`);
  const n = Number(s);
  if (opts.max !== undefined && n > opts.max) throw new RowProblem(`${col} must be at most ${opts.max}, found "${s}"`);
  return n;
}
function notBefore(later: string | null, laterCol: string, earlier: string | null, earlierCol: string): void {
  if (later !== null && earlier !== null && later < earlier) throw new RowProblem(`${laterCol} is before ${earlierCol}`);
}

/** handicap_recognitions.csv: key recognition_id. */
export function checkRecognitionRow(v: Values, referenceYear: number): StoredRow {
  const requestDate = date(required(v, 'request_date'), 'request_date') as string;
  const decisionDate = date(optional(v, 'decision_date'), 'decision_date');
  const startDate = date(optional(v, 'start_date'), 'start_date');
  const endDate = date(optional(v, 'end_date'), 'end_date');
  notBefore(decisionDate, 'decision_date', requestDate, 'request_date');
  // A recognition without start_date is pending and starts on its request date (§6c).
  if (startDate !== null) notBefore(endDate, 'end_date', startDate, 'start_date');
  else notBefore(endDate, 'end_date', requestDate, 'request_date (the start of a recognition without start_date)');
  return {
    recognition_id: ident(v, 'recognition_id', 64),
    ssin: ssin(v, referenceYear),
    legislation: oneOf(v, 'legislation', HANDICAP_LEGISLATIONS),
    request_date: requestDate,
    status: oneOf(v, 'status', RECOGNITION_STATUSES),
    decision_date: decisionDate,
    start_date: startDate,
    end_date: endDate,
    points: whole(optional(v, 'points'), 'points', { max: 999 }),
    earning_capacity_reduced: bool(v, 'earning_capacity_reduced'),
    lower_limbs_50: bool(v, 'lower_limbs_50'),
    full_blindness: bool(v, 'full_blindness'),
    upper_limbs_amputated: bool(v, 'upper_limbs_amputated'),
    upper_limbs_paralysed: bool(v, 'upper_limbs_paralysed'),
  };
}

/** handicap_rights.csv: key right_id. */
export function checkHandicapRightRow(v: Values, referenceYear: number): StoredRow {
  const startDate = date(required(v, 'start_date'), 'start_date') as string;
  const endDate = date(optional(v, 'end_date'), 'end_date');
  notBefore(endDate, 'end_date', startDate, 'start_date');
  return {
    right_id: ident(v, 'right_id', 64),
    ssin: ssin(v, referenceYear),
    legislation: oneOf(v, 'legislation', HANDICAP_LEGISLATIONS),
    category: ident(v, 'category', 32),
    start_date: startDate,
    end_date: endDate,
    monthly_amount_cents: whole(optional(v, 'monthly_amount_cents'), 'monthly_amount_cents'),
    partner_income: bool(v, 'partner_income'),
  };
}

/** handicap_payments.csv: key (ssin, month, legislation). amount_cents may be negative (a correction). */
export function checkHandicapPaymentRow(v: Values, referenceYear: number): StoredRow {
  const month = required(v, 'month');
  if (!isValidMonth(month)) throw new RowProblem(`month must be YYYY-MM, found "${month}"`);
  return {
    ssin: ssin(v, referenceYear),
    month,
    legislation: oneOf(v, 'legislation', HANDICAP_LEGISLATIONS),
    amount_cents: whole(required(v, 'amount_cents'), 'amount_cents', { negative: true }),
    suspended_cents: whole(optional(v, 'suspended_cents'), 'suspended_cents'),
  };
}

/** social_cards.csv: key card_number. */
export function checkSocialCardRow(v: Values, referenceYear: number): StoredRow {
  const deliveredOn = date(required(v, 'delivered_on'), 'delivered_on') as string;
  const endDate = date(optional(v, 'end_date'), 'end_date');
  notBefore(endDate, 'end_date', deliveredOn, 'delivered_on');
  return {
    card_number: ident(v, 'card_number', 64),
    ssin: ssin(v, referenceYear),
    type: ident(v, 'type', 32),
    delivered_on: deliveredOn,
    end_date: endDate,
  };
}
