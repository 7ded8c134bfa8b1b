// An independent computation of an extract (contract §5, §6d) from the import CSV files, for the
// differential tests: plain loops over the rows, sharing no code with src/. Who is in the extract
// of a client and year, and each person's yearly totals per (ocmw, benefitType, category).
import { readFileSync } from 'node:fs';

export interface OracleClient {
  cbe: string;
  sector: number;
  qualityCodes: number[];
}

export interface OracleTotal {
  ocmw: string;
  benefitType: string;
  category: string;
  amountCents: number;
  months: number;
  fullYear: boolean;
  provisional: boolean;
  partnerSsin?: string;
  partners?: string[];
}

/** Rows of a simple CSV file (no quoted commas in the generated data; quotes are dropped). */
export function csv(path: string): Record<string, string>[] {
  const lines = readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.length > 0);
  const head = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',').map((c) => c.replace(/^"(.*)"$/, '$1'));
    const row: Record<string, string> = {};
    head.forEach((h, i) => (row[h] = cells[i] ?? ''));
    return row;
  });
}

function mod97(digits: string): number {
  let r = 0;
  for (const ch of digits) r = (r * 10 + Number(ch)) % 97;
  return r;
}

/** National/BIS number check digits (contract §3), on the first nine digits or "2" + them. */
export function ssinOk(ssin: string, referenceYear: number): boolean {
  if (!/^\d{11}$/.test(ssin)) return false;
  const check = Number(ssin.slice(9));
  if (97 - mod97(ssin.slice(0, 9)) === check) return true;
  return 2000 + Number(ssin.slice(0, 2)) <= referenceYear && 97 - mod97(`2${ssin.slice(0, 9)}`) === check;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function utc(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Visible from the first Saturday of the month after the payment's month. */
export function visibleOn(paidOn: string, referenceDate: string): boolean {
  const d = utc(paidOn);
  const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  while (next.getUTCDay() !== 6) next.setUTCDate(next.getUTCDate() + 1);
  return iso(next) <= referenceDate;
}

/** The extract as the contract defines it: SSIN → totals, persons in SSIN order. */
export function expectedExtract(dir: string, client: OracleClient, year: number, referenceDate: string): Map<string, OracleTotal[]> {
  const refYear = Number(referenceDate.slice(0, 4));
  const first = `${year}-01-01`;
  const last = `${year}-12-31`;
  const persons = csv(`${dir}/persons.csv`);
  const integrated = new Set<string>();
  for (const r of csv(`${dir}/repertory.csv`)) {
    if (Number(r.sector) !== client.sector) continue;
    if (r.institution_cbe !== '' && r.institution_cbe !== client.cbe) continue;
    if (!client.qualityCodes.includes(Number(r.quality_code))) continue;
    if (r.start_date > last) continue;
    if (r.end_date !== '' && r.end_date < first) continue;
    integrated.add(r.ssin);
  }
  const rowsBySsin = new Map<string, Record<string, string>[]>();
  for (const a of csv(`${dir}/amounts.csv`)) {
    if (!a.month.startsWith(`${year}-`)) continue;
    if (!visibleOn(a.paid_on, referenceDate)) continue;
    const list = rowsBySsin.get(a.ssin) ?? [];
    list.push(a);
    rowsBySsin.set(a.ssin, list);
  }
  const out = new Map<string, OracleTotal[]>();
  const ssins = persons.filter((p) => p.replaced_by === '').map((p) => p.ssin).sort();
  for (const ssin of ssins) {
    if (!ssinOk(ssin, refYear) || !integrated.has(ssin)) continue;
    const rows = rowsBySsin.get(ssin);
    if (rows === undefined) continue;
    const groups = new Map<string, Record<string, string>[]>();
    for (const r of rows) {
      const k = `${r.ocmw_cbe}|${r.benefit_type}|${r.category}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    const totals: OracleTotal[] = [];
    for (const [k, g] of groups) {
      const [ocmw, benefitType, category] = k.split('|');
      let amount = 0;
      const months = new Set<string>();
      let provisional = false;
      const covered = new Set<string>();
      for (const r of g) {
        amount += Number(r.amount_cents);
        months.add(r.month);
        if (r.status === 'PROVISIONAL') provisional = true;
        for (let d = utc(r.grant_from); iso(d) <= r.grant_to; d.setUTCDate(d.getUTCDate() + 1)) if (iso(d) >= first && iso(d) <= last) covered.add(iso(d));
      }
      const daysInYear = (Date.UTC(year + 1, 0, 1) - Date.UTC(year, 0, 1)) / 86_400_000;
      const t: OracleTotal = { ocmw, benefitType, category, amountCents: amount, months: months.size, fullYear: covered.size === daysInYear, provisional };
      const named = g.map((r) => r.partner_ssin);
      if (named.every((p) => p !== '' && p === named[0])) t.partnerSsin = named[0];
      else {
        const distinct = [...new Set(named.filter((p) => p !== ''))].sort();
        if (distinct.length > 0) t.partners = distinct;
      }
      totals.push(t);
    }
    totals.sort((a, b) => cmp(a.ocmw, b.ocmw) || cmp(a.benefitType, b.benefitType) || cmp(a.category, b.category));
    out.set(ssin, totals);
  }
  return out;
}
