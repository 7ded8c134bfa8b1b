// Differential test of LivingWagesWithAmount (contract §4, §5, §7, §8), end to end: a data set
// written by `ldm-batch generate` (corrections with the very key of their payment, equal rows,
// payment_ids, sector- and institution-level integrations, another institution's register in the
// sender's sector, partners, replaced SSINs), imported with `ldm-batch import`, and request files
// of 2,400 lines (FOD Financiën, sector 17) and 600 lines (a mutuality, sector 26) answered by
// `ldm-batch process`; every line compared with what a small independent implementation written
// here from the contract says. It shares no code with src/:
// plain loops over the CSV rows, its own SSIN check, calendar, visibility and grouping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { mulberry32 } from './oracle.js'; // a seeded PRNG for test data, not rule logic

const REF = '2026-01-15';
const REF_YEAR = 2026;
const REF_MONTH = '2026-01';
const LINES = 2400;
const SEED = 1212;
interface Sender {
  clientId: string;
  cbe: string;
  sector: number;
  qualityCodes: number[];
  legalContext: string;
  lines: number;
}
// The generated clients (sector 17 with its own register and another institution's; sector 26).
const SENDERS: Sender[] = [
  { clientId: 'fin', cbe: '0308357159', sector: 17, qualityCodes: [1, 2], legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', lines: LINES },
  { clientId: 'mut', cbe: '0411702543', sector: 26, qualityCodes: [3], legalContext: 'HEALTH_INSURANCE:INCREASED_REIMBURSEMENT', lines: 600 },
];

// ------------------------------------------------------------------ the data, as CSV rows

type Row = Record<string, string>;

function parseCsv(text: string): Row[] {
  const [head, ...lines] = text.replace(/^\uFEFF/, '').split('\n').filter((l) => l !== '');
  const cols = head.split(',');
  // The generated persons, repertory and amounts files have no quoted cells.
  return lines.map((l) => {
    const cells = l.split(',');
    const row: Row = {};
    cols.forEach((c, i) => (row[c] = cells[i] ?? ''));
    return row;
  });
}

// ------------------------------------------------------------------ the rules, from the contract

function ssinOk(s: string): boolean {
  if (!/^[0-9]{11}$/.test(s)) return false;
  const mm = +s.slice(2, 4);
  if (!(mm <= 12 || (mm >= 20 && mm <= 32) || (mm >= 40 && mm <= 52)) || +s.slice(4, 6) > 31) return false;
  const check = +s.slice(9);
  const body = +s.slice(0, 9);
  if (check === 97 - (body % 97)) return true;
  return 2000 + +s.slice(0, 2) <= REF_YEAR && check === 97 - ((2_000_000_000 + body) % 97);
}

const dayNo = (iso: string): number => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000;
const lastDay = (month: string): string => `${month}-${String(new Date(Date.UTC(+month.slice(0, 4), +month.slice(5, 7), 0)).getUTCDate()).padStart(2, '0')}`;
const monthCount = (from: string, to: string): number => (+to.slice(0, 4) - +from.slice(0, 4)) * 12 + (+to.slice(5, 7) - +from.slice(5, 7)) + 1;

/** First Saturday of the month after the payment's month. */
function visibleFrom(paidOn: string): string {
  let y = +paidOn.slice(0, 4);
  let m = +paidOn.slice(5, 7) + 1;
  if (m === 13) {
    y++;
    m = 1;
  }
  for (let d = 1; ; d++) {
    const t = new Date(Date.UTC(y, m - 1, d));
    if (t.getUTCDay() === 6) return t.toISOString().slice(0, 10);
  }
}

/** Whether the grants' days together cover every day of [from, to]. */
function covers(rows: Row[], from: string, to: string): boolean {
  const days = new Set<number>();
  for (const r of rows) for (let d = dayNo(r.grant_from); d <= dayNo(r.grant_to); d++) days.add(d);
  for (let d = dayNo(from); d <= dayNo(to); d++) if (!days.has(d)) return false;
  return true;
}

type Period = { kind: 'year'; year: number } | { kind: 'months'; from: string; to: string } | { kind: 'dates'; from: string; to: string };
interface Line {
  seq: number;
  ssin: string;
  role?: 'BENEFICIARY' | 'PARTNER';
  period: Period;
}

interface Facts {
  persons: Map<string, string>;
  repertory: Row[];
  amounts: Row[];
}

/** What a line must be answered, as one string (same shape as `answered` below). */
function expected(line: Line, f: Facts, sender: Sender, tally: Map<string, number>): string {
  const note = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);
  const head = `${line.seq}`;
  if (!ssinOk(line.ssin)) return `${head} MSG00011`;
  const replaced = f.persons.get(line.ssin);
  if (replaced === undefined) return `${head} MSG00005`;
  if (replaced !== '') return `${head} MSG00006 new=${replaced}`;
  const p = line.period;
  if (p.kind === 'dates') return `${head} MSG00008`;
  const from = p.kind === 'year' ? `${p.year}-01` : p.from;
  const to = p.kind === 'year' ? `${p.year}-12` : p.to;
  if (from > to || monthCount(from, to) > 24 || to > REF_MONTH) return `${head} MSG00008`;
  let sectorOnly = true;
  let allowed = false;
  for (const i of f.repertory) {
    if (i.ssin !== line.ssin || +i.sector !== sender.sector) continue;
    if (i.institution_cbe !== '' && i.institution_cbe !== sender.cbe) continue;
    if (!sender.qualityCodes.includes(+i.quality_code)) continue;
    if (i.start_date > lastDay(to) || (i.end_date !== '' && i.end_date < `${from}-01`)) continue;
    allowed = true;
    if (i.institution_cbe !== '') sectorOnly = false;
  }
  if (!allowed) {
    if (f.repertory.some((i) => i.ssin === line.ssin && i.institution_cbe !== '' && i.institution_cbe !== sender.cbe && +i.sector === sender.sector)) note('refused though another institution of the sector holds one');
    return `${head} MSG00012`;
  }
  if (sectorOnly) note('allowed through sector-level integrations only');
  const role = line.role ?? 'BENEFICIARY';
  const mine = f.amounts.filter((a) => (role === 'PARTNER' ? a.partner_ssin : a.ssin) === line.ssin && REF >= visibleFrom(a.paid_on));
  const inPeriod = mine.filter((a) => a.month >= from && a.month <= to);
  if (inPeriod.length === 0) return `${head} MSG00100`;
  if (role === 'PARTNER') note('PARTNER lines with data');
  const groups = new Map<string, Row[]>();
  for (const a of inPeriod) {
    const k = [p.kind === 'months' ? a.month : '', a.ocmw_cbe, a.benefit_type, a.category, role === 'PARTNER' ? a.ssin : ''].join('|');
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  const out: string[] = [];
  for (const g of groups.values()) {
    const cents = g.reduce((s, a) => s + +a.amount_cents, 0);
    const prov = g.some((a) => a.status === 'PROVISIONAL');
    const partners = [...new Set(g.map((a) => a.partner_ssin).filter((x) => x !== ''))].sort();
    const samePartner = g.every((a) => a.partner_ssin !== '' && a.partner_ssin === g[0].partner_ssin);
    const who = role === 'PARTNER' ? `b=${g[0].ssin}` : samePartner ? `p=${g[0].partner_ssin}` : '';
    const payments = new Map<string, number>();
    for (const a of g) {
      const k = [a.paid_on, a.grant_from, a.month].join('|');
      payments.set(k, (payments.get(k) ?? 0) + 1);
    }
    if ([...payments.values()].some((n) => n > 1)) note('groups with rows sharing the old key (a correction with its payment, equal rows)');
    if (p.kind === 'months') {
      const m = g[0].month;
      const gFrom = g.map((a) => a.grant_from).sort()[0];
      const gTo = g.map((a) => a.grant_to).sort().reverse()[0];
      out.push(`M ${m} ${g[0].ocmw_cbe} ${g[0].benefit_type} ${g[0].category} ${cents} ${gFrom} ${gTo} full=${covers(g, `${m}-01`, lastDay(m))} prov=${prov} ${who}`);
    } else {
      const months = new Set(g.map((a) => a.month)).size;
      const list = role === 'BENEFICIARY' && !samePartner && partners.length > 0 ? ` partners=${partners.join(' ')}` : '';
      out.push(`T ${g[0].ocmw_cbe} ${g[0].benefit_type} ${g[0].category} ${cents} months=${months} full=${covers(g, `${p.year}-01-01`, `${p.year}-12-31`)} prov=${prov} ${who}${list}`);
    }
  }
  out.sort();
  if (p.kind === 'months') {
    const last = out.map((e) => e.split(' ')[1]).sort().reverse()[0];
    const lastPaid = !mine.some((a) => a.month > last);
    return `${head} MSG00000 months last=${lastPaid}\n  ${out.join('\n  ')}`;
  }
  return `${head} MSG00000 year=${p.year}\n  ${out.join('\n  ')}`;
}

// ------------------------------------------------------------------ what the CLI answered

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

function answered(xml: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const block of xml.split('<Response ').slice(1)) {
    const seq = +(/^seq="(\d+)"/.exec(block)?.[1] ?? '0');
    const status = attrs(/<Status [^>]*>/.exec(block)?.[0] ?? '');
    let s = `${seq} ${status.code}${status.newSsin ? ` new=${status.newSsin}` : ''}`;
    const who = (a: Record<string, string>): string => (a.beneficiarySsin ? `b=${a.beneficiarySsin}` : a.partnerSsin ? `p=${a.partnerSsin}` : '');
    const monthsTag = /<Months [^>]*>/.exec(block);
    if (monthsTag) {
      const entries = [...block.matchAll(/<Month [^>]*>/g)].map((m) => {
        const a = attrs(m[0]);
        return `M ${a.month} ${a.ocmw} ${a.benefitType} ${a.category} ${a.amountCents} ${a.from} ${a.to} full=${a.fullMonth} prov=${a.provisional} ${who(a)}`;
      });
      s += ` months last=${attrs(monthsTag[0]).lastMonthIsLastPaid}\n  ${entries.sort().join('\n  ')}`;
    }
    const yearTag = /<Year year="(\d+)">/.exec(block);
    if (yearTag) {
      const totals = [...block.matchAll(/<Total ([^>]*?)(\/>|>([\s\S]*?)<\/Total>)/g)].map((m) => {
        const a = attrs(m[1]);
        const partners = [...(m[3] ?? '').matchAll(/<Partner ssin="(\d+)"/g)].map((x) => x[1]).sort();
        return `T ${a.ocmw} ${a.benefitType} ${a.category} ${a.amountCents} months=${a.months} full=${a.fullYear} prov=${a.provisional} ${who(a)}${partners.length > 0 ? ` partners=${partners.join(' ')}` : ''}`;
      });
      s += ` year=${yearTag[1]}\n  ${totals.sort().join('\n  ')}`;
    }
    out.set(seq, s);
  }
  return out;
}

// ------------------------------------------------------------------ the request lines

function makeLines(f: Facts, n: number, seed: number): Line[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const mm = (y: number, m: number): string => `${y}-${String(m).padStart(2, '0')}`;
  const current = [...f.persons].filter(([, rep]) => rep === '').map(([s]) => s);
  const replaced = [...f.persons].filter(([, rep]) => rep !== '').map(([s]) => s);
  const beneficiaries = [...new Set(f.amounts.map((a) => a.ssin))];
  const partners = [...new Set(f.amounts.map((a) => a.partner_ssin).filter((x) => x !== ''))];
  const validPeriod = (): Period => {
    if (r() < 0.45) return { kind: 'year', year: REF_YEAR - 1 - Math.floor(r() * 4) };
    const toIdx = REF_YEAR * 12 - Math.floor(r() * 40); // up to the reference month
    const len = 1 + Math.floor(r() * 24);
    const fromIdx = toIdx - len + 1;
    return { kind: 'months', from: mm(Math.floor(fromIdx / 12), (fromIdx % 12) + 1), to: mm(Math.floor(toIdx / 12), (toIdx % 12) + 1) };
  };
  const badPeriod = (): Period => {
    switch (Math.floor(r() * 5)) {
      case 0:
        return { kind: 'months', from: '2025-06', to: '2025-03' }; // reversed
      case 1:
        return { kind: 'months', from: '2023-01', to: '2025-01' }; // 25 months
      case 2:
        return { kind: 'months', from: '2025-12', to: '2026-02' }; // after the reference month
      case 3:
        return { kind: 'year', year: REF_YEAR }; // the year is not over
      default:
        return { kind: 'dates', from: '2025-01-01', to: '2025-03-31' }; // not a period of this service
    }
  };
  const unknown = (): string => {
    for (;;) {
      const body = `${String(40 + Math.floor(r() * 50))}${mm(0, 1 + Math.floor(r() * 12)).slice(2)}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}${String(Math.floor(r() * 998)).padStart(3, '0')}`;
      const s = body + String(97 - (+body % 97)).padStart(2, '0');
      if (!f.persons.has(s)) return s;
    }
  };
  const lines: Line[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const x = r();
    let line: Omit<Line, 'seq'>;
    if (x < 0.5) line = { ssin: pick(beneficiaries), role: 'BENEFICIARY', period: validPeriod() };
    else if (x < 0.62) line = { ssin: pick(partners), role: 'PARTNER', period: validPeriod() };
    else if (x < 0.7) line = { ssin: pick(current), role: r() < 0.8 ? 'BENEFICIARY' : 'PARTNER', period: validPeriod() };
    else if (x < 0.75) line = { ssin: pick(replaced), role: 'BENEFICIARY', period: validPeriod() };
    else if (x < 0.8) line = { ssin: unknown(), role: 'BENEFICIARY', period: validPeriod() };
    else if (x < 0.85) {
      const s = pick(current);
      let bad = s;
      for (let k = 1; ssinOk(bad); k++) bad = s.slice(0, 9) + String((+s.slice(9) + k) % 100).padStart(2, '0');
      line = { ssin: bad, role: 'BENEFICIARY', period: validPeriod() };
    } else if (x < 0.93) line = { ssin: pick(beneficiaries), role: 'BENEFICIARY', period: badPeriod() };
    else line = { ssin: pick(beneficiaries), role: 'BENEFICIARY', period: { kind: 'months', from: '2025-02', to: REF_MONTH } }; // up to the visibility edge
    lines.push({ seq, ...line, role: line.period.kind === 'dates' ? undefined : line.role });
  }
  return lines;
}

function requestXml(lines: Line[], sender: Sender): string {
  const period = (p: Period): string =>
    p.kind === 'year'
      ? `<Year>${p.year}</Year>`
      : p.kind === 'months'
        ? `<Months><From>${p.from}</From><To>${p.to}</To></Months>`
        : `<Dates><From>${p.from}</From><To>${p.to}</To></Dates>`;
  const body = lines
    .map((l) => `    <Request seq="${l.seq}"><Ssin>${l.ssin}</Ssin>${l.role ? `<Role>${l.role}</Role>` : ''}<Period>${period(l.period)}</Period></Request>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<BatchRequest xmlns="urn:ldm-batch:v1">
  <Header>
    <FileId>DIFF-${SEED}-${sender.clientId}</FileId>
    <Sender><CbeNumber>${sender.cbe}</CbeNumber></Sender>
    <Service>LivingWagesWithAmount</Service>
    <LegalContext>${sender.legalContext}</LegalContext>
    <Environment>PROD</Environment>
    <CreatedAt>${REF}T03:00:00Z</CreatedAt>
  </Header>
  <Requests>
${body}
  </Requests>
  <Trailer><RecordCount>${lines.length}</RecordCount></Trailer>
</BatchRequest>
`;
}

// ------------------------------------------------------------------ the run

let inst: Instance;
let facts: Facts;
const lines = new Map<string, Line[]>();
const got = new Map<string, Map<number, string>>();
const gotOnDisk = new Map<string, Map<number, string>>();
const imports: Record<string, { inserted: number; updated: number; unchanged: number; rows: number }> = {};

beforeAll(async () => {
  inst = await makeInstance();
  const gen = join(inst.dir, 'gen');
  const g = await run(process.execPath, [BIN, 'generate', '--out', gen, '--persons', '1500', '--seed', String(SEED), '--reference-date', REF]);
  expect(g.code, g.stderr).toBe(0);
  for (const kind of ['clients', 'persons', 'repertory', 'amounts']) {
    const r = await inst.cli(['import', kind, join(gen, `${kind}.csv`), '--json']);
    expect(r.code, r.stderr).toBe(0);
    imports[kind] = JSON.parse(r.stdout) as (typeof imports)[string];
  }
  facts = {
    persons: new Map(parseCsv(await readFile(join(gen, 'persons.csv'), 'utf8')).map((p) => [p.ssin, p.replaced_by])),
    repertory: parseCsv(await readFile(join(gen, 'repertory.csv'), 'utf8')),
    amounts: parseCsv(await readFile(join(gen, 'amounts.csv'), 'utf8')),
  };
  for (const [k, sender] of SENDERS.entries()) {
    const list = makeLines(facts, sender.lines, SEED + k);
    lines.set(sender.clientId, list);
    const request = join(inst.dir, `diff-${sender.clientId}.xml`);
    await writeFile(request, requestXml(list, sender));
    const out = join(inst.dir, `diff-${sender.clientId}.response.xml`);
    const p = await inst.cli(['process', request, '-o', out, '--as-of', REF]);
    expect(p.code, p.stderr).toBe(0);
    got.set(sender.clientId, answered(await readFile(out, 'utf8')));
    // Again with the amount records left on disk (as at national scale) and read ahead per group
    // of lines (services/amounts/resolve.ts STAGE_LINES): the same answers.
    const onDisk = join(inst.dir, `diff-${sender.clientId}.on-disk.response.xml`);
    const d = await inst.cli(['process', request, '-o', onDisk, '--as-of', REF], { env: { LDM_BATCH_READMODEL_MEMORY_MB: '0' } });
    expect(d.code, d.stderr).toBe(0);
    gotOnDisk.set(sender.clientId, answered(await readFile(onDisk, 'utf8')));
  }
}, 300_000);

afterAll(async () => {
  await inst?.cleanup();
});

describe('LivingWagesWithAmount: `process` vs an independent implementation of §4–§5', () => {
  it('imports every generated row: no row is merged with another', () => {
    for (const [kind, r] of Object.entries(imports)) expect(r.inserted, kind).toBe(r.rows);
    expect(imports.amounts.rows).toBe(facts.amounts.length);
  });

  it('the same amounts file imported again changes nothing (human output names the counts)', async () => {
    const r = await inst.cli(['import', 'amounts', join(inst.dir, 'gen', 'amounts.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`imported ${facts.amounts.length} amounts row(s) from ${join(inst.dir, 'gen', 'amounts.csv')}: 0 inserted, 0 updated, ${facts.amounts.length} unchanged`);
  });

  it.each(SENDERS)('answers the $lines lines of $clientId (sector $sector) exactly as the independent implementation', (sender) => {
    const tally = new Map<string, number>();
    const codes = new Map<string, number>();
    const diffs: string[] = [];
    const mine = lines.get(sender.clientId) ?? [];
    const answers = got.get(sender.clientId) ?? new Map<number, string>();
    for (const l of mine) {
      const want = expected(l, facts, sender, tally);
      const code = want.split(/[ \n]/)[1];
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const have = answers.get(l.seq);
      if (have !== want) diffs.push(`line ${l.seq} (${JSON.stringify(l)}):\n want ${want}\n got  ${have}`);
    }
    console.log(`amounts differential (${sender.clientId}): ${mine.length} lines, ${diffs.length} disagreements;`, Object.fromEntries([...codes].sort()), Object.fromEntries(tally));
    expect(answers.size).toBe(sender.lines);
    expect(gotOnDisk.get(sender.clientId), 'the answers with the amount records on disk').toEqual(answers);
    expect(diffs.slice(0, 3)).toEqual([]);
    expect(diffs.length).toBe(0);
    // Every code of the service, and the cases this test is about, are really exercised.
    const least = sender.lines / 240;
    for (const code of ['MSG00000', 'MSG00100', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012']) expect(codes.get(code) ?? 0, code).toBeGreaterThan(least);
    expect(tally.get('allowed through sector-level integrations only') ?? 0).toBeGreaterThan(5 * least);
    expect(tally.get('groups with rows sharing the old key (a correction with its payment, equal rows)') ?? 0).toBeGreaterThan(least);
    expect(tally.get('PARTNER lines with data') ?? 0).toBeGreaterThan(5 * least);
    if (sender.sector === 17) expect(tally.get('refused though another institution of the sector holds one') ?? 0).toBeGreaterThan(5);
  });
});
