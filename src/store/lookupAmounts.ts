import type { Db } from './db.js';
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
