// Response content of LivingWagesWithAmount (contract §5, §7) from the amount rows of one person
// in one role. Rows arrive unfiltered; visibility and the period are applied here.
import type { AmountRow, MonthEntry, Role, YearTotal } from '../interfaces.js';
import { firstDayOfMonth, isValidMonth, lastDayOfMonth } from './dates.js';
import { coversEveryDay } from './dayRanges.js';
import { isVisible } from './visibility.js';

export function visibleAmounts(rows: AmountRow[], referenceDate: string): AmountRow[] {
  return rows.filter((r) => isVisible(r.paidOn, referenceDate));
}

/** Plain code-unit order: deterministic and independent of the machine's locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Groups rows by a string key, keeping first-seen order (sorted afterwards anyway). */
function groupBy(rows: AmountRow[], key: (r: AmountRow) => string): AmountRow[][] {
  const groups = new Map<string, AmountRow[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()];
}

/** '\u0000' cannot occur in any field, so joined keys cannot collide. */
function groupKey(r: AmountRow, role: Role, withMonth: boolean): string {
  const parts = [r.ocmwCbe, r.benefitType, r.category, role === 'PARTNER' ? r.ssin : ''];
  return (withMonth ? [r.month, ...parts] : parts).join('\u0000');
}

function sum(rows: AmountRow[]): number {
  return rows.reduce((acc, r) => acc + r.amountCents, 0);
}

function distinctPartners(rows: AmountRow[]): string[] {
  return [...new Set(rows.map((r) => r.partnerSsin).filter((p): p is string => p !== null))].sort(cmp);
}

/** The partner when every row names the same non-null one. */
function commonPartner(rows: AmountRow[]): string | undefined {
  const first = rows[0]?.partnerSsin ?? null;
  return first !== null && rows.every((r) => r.partnerSsin === first) ? first : undefined;
}

/** Shared tail of the sort order: ocmw, benefitType, category, beneficiarySsin. */
function cmpGroup(a: Omit<YearTotal, 'amountCents' | 'months' | 'fullYear' | 'provisional'>, b: typeof a): number {
  return (
    cmp(a.ocmw, b.ocmw) ||
    cmp(a.benefitType, b.benefitType) ||
    cmp(a.category, b.category) ||
    cmp(a.beneficiarySsin ?? '', b.beneficiarySsin ?? '')
  );
}

/**
 * Monthly answer for months from..to (YYYY-MM, inclusive). Empty entries → the caller answers
 * MSG00100. lastMonthIsLastPaid looks at every visible row given, not only those in the period.
 */
export function aggregateMonths(
  rows: AmountRow[],
  role: Role,
  from: string,
  to: string,
  referenceDate: string,
): { lastMonthIsLastPaid: boolean; entries: MonthEntry[] } {
  if (!isValidMonth(from) || !isValidMonth(to)) throw new RangeError(`not a month range: ${from}..${to}`);
  const visible = visibleAmounts(rows, referenceDate);
  const inPeriod = visible.filter((r) => r.month >= from && r.month <= to);

  const entries = groupBy(inPeriod, (r) => groupKey(r, role, true)).map((g): MonthEntry => {
    const head = g[0];
    const entry: MonthEntry = {
      month: head.month,
      ocmw: head.ocmwCbe,
      benefitType: head.benefitType,
      category: head.category,
      amountCents: sum(g),
      from: g.reduce((m, r) => (r.grantFrom < m ? r.grantFrom : m), head.grantFrom),
      to: g.reduce((m, r) => (r.grantTo > m ? r.grantTo : m), head.grantTo),
      fullMonth: coversEveryDay(
        g.map((r) => ({ from: r.grantFrom, to: r.grantTo })),
        { from: firstDayOfMonth(head.month), to: lastDayOfMonth(head.month) },
      ),
      provisional: g.some((r) => r.status === 'PROVISIONAL'),
    };
    // Optional attributes are left out rather than set to undefined (contract §7: never empty).
    if (role === 'BENEFICIARY') {
      const partner = commonPartner(g);
      if (partner !== undefined) entry.partnerSsin = partner;
    } else {
      entry.beneficiarySsin = head.ssin;
    }
    return entry;
  });
  entries.sort((a, b) => cmp(a.month, b.month) || cmpGroup(a, b));

  // With no entries the flag is not written; compare against the requested end then.
  const lastMonth = entries.length > 0 ? entries[entries.length - 1].month : to;
  return { lastMonthIsLastPaid: !visible.some((r) => r.month > lastMonth), entries };
}

/** Yearly answer: one total per (ocmw, benefitType, category[, beneficiary for PARTNER]). */
export function aggregateYear(rows: AmountRow[], role: Role, year: number, referenceDate: string): YearTotal[] {
  if (!Number.isInteger(year) || year < 1 || year > 9999) throw new RangeError(`not a year: ${year}`);
  const y = String(year).padStart(4, '0');
  const inYear = visibleAmounts(rows, referenceDate).filter((r) => r.month.startsWith(`${y}-`));
  const yearRange = { from: `${y}-01-01`, to: `${y}-12-31` };

  const totals = groupBy(inYear, (r) => groupKey(r, role, false)).map((g): YearTotal => {
    const head = g[0];
    const total: YearTotal = {
      ocmw: head.ocmwCbe,
      benefitType: head.benefitType,
      category: head.category,
      amountCents: sum(g),
      months: new Set(g.map((r) => r.month)).size,
      fullYear: coversEveryDay(
        g.map((r) => ({ from: r.grantFrom, to: r.grantTo })),
        yearRange,
      ),
      provisional: g.some((r) => r.status === 'PROVISIONAL'),
    };
    if (role === 'BENEFICIARY') {
      const partner = commonPartner(g);
      const partners = distinctPartners(g);
      if (partner !== undefined) total.partnerSsin = partner;
      else if (partners.length > 0) total.partners = partners;
    } else {
      // On a PARTNER line every row names the requested person as partner: nothing to add.
      total.beneficiarySsin = head.ssin;
    }
    return total;
  });
  return totals.sort(cmpGroup);
}
