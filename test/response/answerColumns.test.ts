// The amounts resolver encodes answers straight from the rules' columns (LineEncoder.yearAnswer /
// monthsAnswer, a client's field profile as AMOUNT_ATTR bits); every other caller gets objects
// (monthsOf / yearOf), profiled by applyFieldProfile and written by responseLine. The two must be
// the same bytes: checked here on generated rows (both roles, partners mixed, corrections,
// provisional rows, values that need escaping) under every single-field profile, every
// profile without one field, and random profiles.
import { describe, expect, it } from 'vitest';
import type { AmountRow, ResponseLine, Role, StatusCode } from '../../src/interfaces.js';
import { answerGroups, monthGroups, monthsOf, packAmountRows, yearGroups, yearOf } from '../../src/domain/aggregate.js';
import { EncodedLines, LineEncoder } from '../../src/response/lineBytes.js';
import { AMOUNT_FIELDS, amountAttrMask, applyFieldProfile, periodKindAllowed } from '../../src/services/amounts/profile.js';

const REF = '2026-03-15';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function rows(r: () => number): AmountRow[] {
  const n = 1 + Math.floor(r() * 14);
  return Array.from({ length: n }, () => {
    const m = String(1 + Math.floor(r() * 12)).padStart(2, '0');
    const year = pick(r, ['2025', '2025', '2024']);
    return {
      ssin: pick(r, ['85073003328', '00073003318']),
      partnerSsin: pick(r, [null, '01000000149', '99073003331', '00000000097']),
      // not a CBE number the store would hold, but a table value must be escaped if it needs it
      ocmwCbe: pick(r, ['0212345678', '0308357159', 'A&B<"C>']),
      benefitType: pick(r, ['LEEFLOON', 'EQUIVALENT_LEEFLOON']),
      category: pick(r, ['ISOLATED', 'COHABITANT', 'FAMILY']),
      month: `${year}-${m}`,
      grantFrom: `${year}-${m}-${pick(r, ['01', '10'])}`,
      grantTo: `${year}-${m}-${pick(r, ['28', '15'])}`,
      amountCents: Math.floor(r() * 300_000) - 50_000,
      paidOn: `${year}-${m}-${pick(r, ['05', '24'])}`,
      status: pick(r, ['DEFINITIVE', 'PROVISIONAL']),
    } as AmountRow;
  });
}

function profiles(r: () => number): string[][] {
  const out: string[][] = [[], [...AMOUNT_FIELDS]];
  for (const f of AMOUNT_FIELDS) {
    out.push(['Year', 'Months', f]);
    out.push(AMOUNT_FIELDS.filter((g) => g !== f));
  }
  for (let i = 0; i < 20; i++) out.push(['Year', 'Months', ...AMOUNT_FIELDS.filter(() => r() < 0.5)]);
  return out;
}

describe('amounts answers encoded from columns', () => {
  it('are byte for byte the profiled objects written by responseLine', () => {
    const r = rng(7);
    const fieldSets = profiles(r);
    let compared = 0;
    for (let person = 0; person < 150; person++) {
      const given = rows(r);
      for (const role of ['BENEFICIARY', 'PARTNER'] as Role[]) {
        const c = packAmountRows(given, role);
        for (const kind of ['year', 'months'] as const) {
          const g = answerGroups(1);
          const period = kind === 'year' ? { year: pick(r, [2024, 2025]) } : { from: pick(r, ['2024-06', '2025-01']), to: pick(r, ['2025-03', '2025-12']) };
          if (kind === 'year') yearGroups(c, role, period.year as number, REF, g);
          else monthGroups(c, role, period.from as string, period.to as string, REF, g);
          if (g.count === 0) continue;
          for (const fields of fieldSets) {
            // a profile without the period kind is answered MSG00008 before any data (resolve.ts)
            if (!periodKindAllowed(kind, fields)) continue;
            const status: StatusCode = 'MSG00000';
            const line: ResponseLine =
              kind === 'year'
                ? { seq: 3, ticket: 't<&>', ssin: '85073003328', status, year: { year: period.year as number, totals: yearOf(c, role, period.year as number, REF) } }
                : { seq: 3, ticket: 't<&>', ssin: '85073003328', status, months: monthsOf(c, role, period.from as string, period.to as string, REF) };
            const expected = new LineEncoder(256);
            expected.responseLine(applyFieldProfile(line, fields), () => '');
            const actual = new EncodedLines(64); // small: growth is exercised too
            actual.responseStart(3, 't<&>', '85073003328', status, undefined);
            if (kind === 'year') actual.yearAnswer(period.year as number, g, c.strings, role === 'PARTNER', amountAttrMask(fields));
            else actual.monthsAnswer(g, c.strings, role === 'PARTNER', amountAttrMask(fields));
            actual.responseEnd();
            expect(actual.bytes().toString('utf8')).toBe(expected.written());
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('cover what the comparison needs: partners lists, both flags, corrections, escaped values', () => {
    const r = rng(7);
    const seen = { partners: 0, negative: 0, provisional: 0, escaped: 0, beneficiary: 0 };
    for (let person = 0; person < 150; person++) {
      const given = rows(r);
      for (const role of ['BENEFICIARY', 'PARTNER'] as Role[]) {
        const c = packAmountRows(given, role);
        for (const t of yearOf(c, role, 2025, REF)) {
          if (t.partners !== undefined) seen.partners++;
          if (t.amountCents < 0) seen.negative++;
          if (t.provisional) seen.provisional++;
          if (t.ocmw.includes('&')) seen.escaped++;
          if (t.beneficiarySsin !== undefined) seen.beneficiary++;
        }
      }
    }
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(0);
  });

  it('EncodedLines records each line and starts over on clear', () => {
    const e = new EncodedLines(16);
    for (let i = 1; i <= 1000; i++) {
      e.responseStart(i, undefined, '1', i % 2 === 0 ? 'MSG00100' : 'MSG00011', undefined);
      e.responseEnd();
    }
    expect(e.length).toBe(1000);
    expect(e.seq[999]).toBe(1000);
    expect(e.status[998]).toBe('MSG00011');
    expect(e.bytes().toString('utf8')).toContain('<Response seq="1000">');
    e.clear();
    expect(e.length).toBe(0);
    expect(e.bytes().length).toBe(0);
  });
});
