// The identity of an amounts row (contract §8): the data provider's payment_id when given,
// otherwise all its columns but status together with its rank among the rows of the same file
// that are equal in those columns. Stored in amounts.identity (unique); migration 007 gives the
// rows stored before it rank 1 with the same formula in SQL (they were unique on a narrower key).

export interface AmountIdentityColumns {
  ssin: string;
  partner_ssin: string | null;
  ocmw_cbe: string;
  benefit_type: string;
  category: string;
  month: string;
  grant_from: string;
  grant_to: string;
  amount_cents: number;
  paid_on: string;
  payment_id: string | null;
}

/** `rank` 0 gives the content part alone (what equal rows share). */
export function amountIdentity(r: AmountIdentityColumns, rank: number): string {
  if (r.payment_id !== null) return `P:${r.payment_id}`;
  return `R:${rank}:${r.ssin}|${r.partner_ssin ?? ''}|${r.ocmw_cbe}|${r.benefit_type}|${r.category}|${r.month}|${r.grant_from}|${r.grant_to}|${r.amount_cents}|${r.paid_on}`;
}

/** The same as amountIdentity(row, 1) for a row without payment_id, in SQL (SQLite and PostgreSQL). */
export const AMOUNT_IDENTITY_RANK1_SQL =
  "'R:1:' || ssin || '|' || COALESCE(partner_ssin, '') || '|' || ocmw_cbe || '|' || benefit_type || '|' || category || '|' || month || '|' || " +
  "grant_from || '|' || grant_to || '|' || CAST(amount_cents AS TEXT) || '|' || paid_on";
