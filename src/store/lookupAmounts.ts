import type { Db } from './db.js';
import { isSqlite } from './db.js';
import type { AmountRow, AmountStatus, BenefitType, Category, Role } from '../interfaces.js';

interface AmountDbRow {
  ssin: string;
  partner_ssin: string | null;
  ocmw_cbe: string;
  benefit_type: string;
  category: string;
  month: string;
  grant_from: string;
  grant_to: string;
  amount_cents: number | string; // pg returns bigint as string
  paid_on: string;
  status: string;
}

/**
 * Every amount row of these SSINs in one role (BENEFICIARY: rows of the person; PARTNER: rows
 * naming the person as partner), grouped by the requested SSIN. Rows are not filtered by period
 * or visibility here: `lastMonthIsLastPaid` needs to see what lies after the period.
 */
export async function lookupAmounts(db: Db, role: Role, ssins: readonly string[]): Promise<Map<string, AmountRow[]>> {
  const out = new Map<string, AmountRow[]>();
  if (ssins.length === 0) return out;
  const key = role === 'BENEFICIARY' ? 'ssin' : 'partner_ssin';
  const rows: AmountDbRow[] = await db('amounts')
    .select('ssin', 'partner_ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'grant_from', 'grant_to', 'amount_cents', 'paid_on', 'status')
    .whereIn(key, [...new Set(ssins)])
    .orderBy([{ column: key }, { column: 'month' }, { column: 'id' }]);
  for (const r of rows) {
    const requested = role === 'BENEFICIARY' ? r.ssin : (r.partner_ssin as string);
    const list = out.get(requested) ?? [];
    list.push({
      ssin: r.ssin,
      partnerSsin: r.partner_ssin,
      ocmwCbe: r.ocmw_cbe,
      benefitType: r.benefit_type as BenefitType,
      category: r.category as Category,
      month: r.month,
      grantFrom: r.grant_from,
      grantTo: r.grant_to,
      amountCents: Number(r.amount_cents),
      paidOn: r.paid_on,
      status: r.status as AmountStatus,
    });
    out.set(requested, list);
  }
  return out;
}

/**
 * What one request line needs of a person's amount rows: the rows with `from ≤ month ≤ to`
 * (plain string order, as the rules compare them) and, when `after` is set, the earliest-paid
 * row with `month > to` (see lookupAmountRanges).
 */
export interface AmountRange {
  ssin: string;
  from: string;
  to: string;
  after: boolean;
}

const AMOUNT_RANGE_COLUMNS = 'o, ocmw_cbe, benefit_type, category, month, grant_from, grant_to, amount_cents, paid_on, status';

function amountRangesSql(role: Role, withThreshold: boolean): string {
  // `key` is the requested person's column; `o` the other SSIN of the row (the partner on a
  // BENEFICIARY line, the beneficiary on a PARTNER line). CROSS JOIN keeps the planner from
  // scanning amounts: every range is one seek on the (key, month) index.
  const key = role === 'BENEFICIARY' ? 'ssin' : 'partner_ssin';
  const other = role === 'BENEFICIARY' ? 'partner_ssin' : 'ssin';
  const cols = `a.${other} AS o, a.ocmw_cbe, a.benefit_type, a.category, a.month, a.grant_from, a.grant_to, a.amount_cents, a.paid_on, a.status`;
  // The row after the range: with a visibility threshold, the first visible one in month order
  // (the scan usually stops at the first row); without, the earliest-paid one.
  const after = withThreshold
    ? `SELECT b.id FROM amounts b WHERE b.${key} = q.s AND b.month > q.t AND b.paid_on < ?2 ORDER BY b.month LIMIT 1`
    : `SELECT b.id FROM amounts b WHERE b.${key} = q.s AND b.month > q.t ORDER BY b.paid_on, b.id LIMIT 1`;
  return (
    `WITH q(k, s, f, t, x) AS (SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?1)) ` +
    `SELECT json_group_array(json_array(k, ${AMOUNT_RANGE_COLUMNS})) AS j FROM (` +
    `SELECT q.k AS k, ${cols} FROM q CROSS JOIN amounts a ON a.${key} = q.s AND a.month >= q.f AND a.month <= q.t ` +
    `UNION ALL ` +
    `SELECT q.k AS k, ${cols} FROM q CROSS JOIN amounts a ON a.id = (${after}) WHERE q.x = 1` +
    `)`
  );
}

const RANGES_SQL = {
  BENEFICIARY: [amountRangesSql('BENEFICIARY', false), amountRangesSql('BENEFICIARY', true)],
  PARTNER: [amountRangesSql('PARTNER', false), amountRangesSql('PARTNER', true)],
};

type RangeRow = [number, string | null, string, string, string, string, string, string, number | string, string, string];

/**
 * The amount rows each range needs, in the order of `ranges` (one list per range; a person's rows
 * are not shared between ranges).
 *
 * Why this is enough for the rules (domain/aggregate.ts), which see every row of the person:
 * a year or month answer only uses the rows of its months; `lastMonthIsLastPaid` only asks
 * whether some *visible* row lies after the period's last answered month, which is the same as
 * asking it of the rows after `to`; and visibility only grows with an earlier paid_on (an amount
 * is visible from a day fixed by its payment month), so the earliest-paid row after `to` is
 * visible exactly when any of them is. With `visibleBefore` (the day from which payments are
 * not visible yet on the reference date, see visibleBefore() in services/amounts), any row
 * after `to` paid before it is visible, and there is one exactly when a visible one exists:
 * the first such row is taken instead, which the index scan finds without sorting.
 * test/services/amountRanges.test.ts checks the equivalence.
 *
 * On PostgreSQL every row of the person is returned for each range (lookupAmounts).
 */
export async function lookupAmountRanges(db: Db, role: Role, ranges: readonly AmountRange[], visibleBefore?: string): Promise<AmountRow[][]> {
  const out: AmountRow[][] = ranges.map(() => []);
  if (ranges.length === 0) return out;
  if (!isSqlite(db)) {
    const byPerson = await lookupAmounts(db, role, ranges.map((r) => r.ssin));
    ranges.forEach((r, i) => {
      out[i] = byPerson.get(r.ssin) ?? [];
    });
    return out;
  }
  const param = JSON.stringify(ranges.map((r) => [r.ssin, r.from, r.to, r.after ? 1 : 0]));
  const rows: { j: string }[] =
    visibleBefore === undefined ? await db.raw(RANGES_SQL[role][0], [param]) : await db.raw(RANGES_SQL[role][1], [param, visibleBefore]);
  const found = JSON.parse(rows[0].j) as RangeRow[];
  const beneficiary = role === 'BENEFICIARY';
  for (const [k, o, ocmwCbe, benefitType, category, month, grantFrom, grantTo, cents, paidOn, status] of found) {
    const requested = ranges[k].ssin;
    out[k].push({
      ssin: beneficiary ? requested : (o as string),
      partnerSsin: beneficiary ? o : requested,
      ocmwCbe,
      benefitType: benefitType as BenefitType,
      category: category as Category,
      month,
      grantFrom,
      grantTo,
      amountCents: Number(cents),
      paidOn,
      status: status as AmountStatus,
    });
  }
  return out;
}
