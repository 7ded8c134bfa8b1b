// Writes request files (contract §3) from line descriptions, streaming, for demos, tests and benchmarks.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RequestHeader, RequestPeriod, Role } from '../interfaces.js';
import type { GeneratedDossier, GeneratedPerson } from './dataset.js';
import { isValidSsin, makeSsin } from '../domain/ssin.js';

export interface RequestSpec {
  ticket?: string;
  ssin: string;
  role?: Role;
  period: RequestPeriod;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function periodXml(p: RequestPeriod): string {
  if (p.kind === 'year') return `<Period><Year>${p.year}</Year></Period>`;
  if (p.kind === 'months') return `<Period><Months><From>${p.from}</From><To>${p.to}</To></Months></Period>`;
  return `<Period><Dates><From>${p.from}</From><To>${p.to}</To></Dates></Period>`;
}

export function requestLineXml(seq: number, l: RequestSpec): string {
  return (
    `    <Request seq="${seq}">` +
    (l.ticket ? `<Ticket>${esc(l.ticket)}</Ticket>` : '') +
    `<Ssin>${l.ssin}</Ssin>` +
    (l.role ? `<Role>${l.role}</Role>` : '') +
    periodXml(l.period) +
    `</Request>\n`
  );
}

export function requestHeaderXml(h: RequestHeader): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<BatchRequest xmlns="urn:ldm-batch:v1">\n  <Header>\n` +
    `    <FileId>${esc(h.fileId)}</FileId>\n    <Sender><CbeNumber>${h.senderCbe}</CbeNumber></Sender>\n` +
    `    <Service>${h.service}</Service>\n    <LegalContext>${esc(h.legalContext)}</LegalContext>\n` +
    `    <Environment>${h.environment}</Environment>\n    <CreatedAt>${h.createdAt}</CreatedAt>\n  </Header>\n  <Requests>\n`
  );
}

/** Writes a whole request file; `recordCount` defaults to the number of lines written. */
export async function writeRequestFile(path: string, header: RequestHeader, lines: Iterable<RequestSpec>, opts: { recordCount?: number } = {}): Promise<number> {
  const out = createWriteStream(path);
  let buf = requestHeaderXml(header);
  let n = 0;
  for (const l of lines) {
    buf += requestLineXml(++n, l);
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  buf += `  </Requests>\n  <Trailer><RecordCount>${opts.recordCount ?? n}</RecordCount></Trailer>\n</BatchRequest>\n`;
  out.end(buf);
  await once(out, 'finish');
  return n;
}

/**
 * A realistic mix of lines over the generated persons: yearly and monthly lines, some PARTNER
 * lines, plus a few wrong check digits and unknown numbers.
 */
export function* sampleLines(persons: readonly GeneratedPerson[], r: () => number, count: number, referenceYear: number): Generator<RequestSpec> {
  for (let i = 0; i < count; i++) {
    const p = persons[Math.floor(r() * persons.length)];
    const x = r();
    let ssin = p.ssin;
    if (x < 0.03) ssin = ssin.slice(0, 9) + String((Number(ssin.slice(9)) + 1) % 100).padStart(2, '0'); // wrong check digits
    const role: Role = p.partner && r() < 0.15 ? 'PARTNER' : 'BENEFICIARY';
    const year = referenceYear - 1 - Math.floor(r() * 3);
    const period: RequestPeriod =
      r() < 0.5 ? { kind: 'year', year } : { kind: 'months', from: `${year}-${String(1 + Math.floor(r() * 6)).padStart(2, '0')}`, to: `${year}-12` };
    yield { ticket: r() < 0.5 ? `ref-${i + 1}` : undefined, ssin, role, period };
  }
}

/** The status mix of a benchmark request (fractions; the rest of 1 is NO_DATA_FOUND). */
export interface LineMix {
  /** MSG00000 DATA_FOUND */
  dataFound: number;
  /** MSG00012: no integration of the sender covers the person and period */
  noIntegration: number;
  /** MSG00011: wrong check digits */
  badSsin: number;
  /** Share of the DATA_FOUND lines asked as PARTNER (about the person's partner's amounts). */
  partner: number;
  /** MSG00005: valid check digits, unknown to the register. */
  unknown?: number;
  /** MSG00006: a replaced SSIN. */
  replaced?: number;
  /** MSG00008: a period kind the service does not take (Dates). */
  wrongPeriod?: number;
  /** Every SSIN at most once in the request (as many lines as the pools allow). */
  distinct?: boolean;
}

export const BENCH_MIX: LineMix = { dataFound: 0.7, noIntegration: 0.05, badSsin: 0.05, partner: 0.1 };
/** Every status code of the service. */
export const ALL_CODES_MIX: LineMix = { dataFound: 0.6, noIntegration: 0.05, badSsin: 0.05, partner: 0.1, unknown: 0.05, replaced: 0.05, wrongPeriod: 0.05 };

export interface MixedLine {
  spec: RequestSpec;
  /** The status the line is built to get (MSG00000, MSG00100, MSG00012 or MSG00011). */
  expected: 'MSG00000' | 'MSG00100' | 'MSG00012' | 'MSG00011' | 'MSG00005' | 'MSG00006' | 'MSG00008';
}

const monthOfYear = (y: number, m: number): string => `${y}-${String(m).padStart(2, '0')}`;

/**
 * Lines with a chosen status mix over a generated data set (generateDataset with its dossiers
 * and visible months), for the benchmark: half yearly, half monthly lines; some PARTNER lines.
 * `clientIndex` is the sender (DEMO_CLIENTS); `qualityCodes` its allowed codes. Deterministic
 * for `r`. The expected status follows the contract's rules as the generator knows the data;
 * the benchmark compares it with the real answer line by line.
 */
export function* mixedLines(
  persons: readonly GeneratedPerson[],
  r: () => number,
  count: number,
  referenceDate: string,
  sender: { clientIndex: number; qualityCodes: readonly number[] },
  mix: LineMix = BENCH_MIX,
): Generator<MixedLine> {
  const refYear = Number(referenceDate.slice(0, 4));
  const refMonth = referenceDate.slice(0, 7);
  const byPerson = new Map(persons.map((p) => [p.ssin, p]));
  const dossierOk = (p: GeneratedPerson): GeneratedDossier | undefined => {
    const d = p.dossiers?.[sender.clientIndex];
    return d && sender.qualityCodes.includes(d.qualityCode) ? d : undefined;
  };
  const covers = (d: GeneratedDossier, from: string, to: string): boolean => d.start <= to && (d.end === null || from <= d.end);
  const current = persons.filter((p) => p.replacedBy === null);
  const withData = current.filter((p) => dossierOk(p) && (p.visibleMonths?.length ?? 0) > 0);
  // PARTNER lines ask for the rows that name the person as partner: their partner's amounts.
  const partnerData = current.filter((p) => {
    const partner = p.partner === null ? undefined : byPerson.get(p.partner);
    return dossierOk(p) && partner !== undefined && partner.partner === p.ssin && (partner.visibleMonths?.length ?? 0) > 0;
  });
  const withDossier = current.filter((p) => dossierOk(p));
  const withoutDossier = current.filter((p) => !dossierOk(p));
  if (withData.length === 0 || withDossier.length === 0 || withoutDossier.length === 0) throw new Error('the data set is too small for a mixed request');
  const used = new Set<string>();
  /** A random element; with `distinct`, one whose SSIN was not used yet (undefined: try again). */
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const fresh = (ssin: string): boolean => !mix.distinct || !used.has(ssin);
  const replacedPersons = persons.filter((p) => p.replacedBy !== null);
  const u = mix.unknown ?? 0;
  const rp = mix.replaced ?? 0;
  const wp = mix.wrongPeriod ?? 0;
  /** A period around `month` (a yearly or a monthly line, half each), never after the reference month. */
  const periodAround = (month: string, yearly: boolean): RequestPeriod | undefined => {
    const y = Number(month.slice(0, 4));
    const m = Number(month.slice(5, 7));
    if (yearly) return y <= refYear - 1 ? { kind: 'year', year: y } : undefined; // a year must be over
    const from = monthOfYear(y, 1 + Math.floor(r() * m));
    let to = monthOfYear(y, m + Math.floor(r() * (13 - m)));
    if (to > refMonth) to = refMonth;
    return to < month ? undefined : { kind: 'months', from, to };
  };
  const bounds = (p: RequestPeriod): [string, string] =>
    p.kind === 'year' ? [`${p.year}-01-01`, `${p.year}-12-31`] : [`${p.from}-01`, `${p.to}-31`];
  const randomPeriod = (yearly: boolean): RequestPeriod => {
    const y = refYear - 1 - Math.floor(r() * 4);
    if (yearly) return { kind: 'year', year: y };
    const a = 1 + Math.floor(r() * 12);
    return { kind: 'months', from: monthOfYear(y, a), to: monthOfYear(y, a + Math.floor(r() * (13 - a))) };
  };
  const hasDataIn = (months: readonly string[] | undefined, p: RequestPeriod): boolean => {
    if (!months) return false;
    return p.kind === 'year' ? months.some((m) => m.startsWith(`${p.year}-`)) : months.some((m) => m >= p.from && m <= p.to);
  };

  for (let i = 0; i < count; i++) {
    const x = r();
    const yearly = r() < 0.5;
    const ticket = r() < 0.5 ? `ref-${i + 1}` : undefined;
    let line: MixedLine | undefined;
    for (let attempt = 0; line === undefined || !fresh(line.spec.ssin); attempt++) {
      if (attempt > 1000) throw new Error('could not build a line of the requested kind');
      line = undefined;
      const y = x - mix.badSsin - mix.noIntegration - mix.dataFound; // the extra codes come after the base mix
      if (y >= 0 && y < u) {
        let ssin: string;
        do ssin = makeSsin({ year: 1930 + Math.floor(r() * 80), month: 1 + Math.floor(r() * 12), day: 1 + Math.floor(r() * 28) }, 1 + Math.floor(r() * 997));
        while (byPerson.has(ssin));
        line = { spec: { ticket, ssin, period: randomPeriod(yearly) }, expected: 'MSG00005' };
      } else if (y >= u && y < u + rp && replacedPersons.length > 0) {
        line = { spec: { ticket, ssin: pickOf(replacedPersons).ssin, period: randomPeriod(yearly) }, expected: 'MSG00006' };
      } else if (y >= u + rp && y < u + rp + wp) {
        const yy = refYear - 1;
        line = { spec: { ticket, ssin: pickOf(current).ssin, period: { kind: 'dates', from: `${yy}-01-01`, to: `${yy}-03-31` } }, expected: 'MSG00008' };
      } else if (x < mix.badSsin) {
        const p = pickOf(current);
        let ssin = p.ssin;
        for (let k = 1; isValidSsin(ssin, refYear); k++) ssin = ssin.slice(0, 9) + String((Number(p.ssin.slice(9)) + k) % 100).padStart(2, '0');
        line = { spec: { ticket, ssin, period: randomPeriod(yearly) }, expected: 'MSG00011' };
      } else if (x < mix.badSsin + mix.noIntegration) {
        const p = pickOf(withoutDossier);
        line = { spec: { ticket, ssin: p.ssin, period: randomPeriod(yearly) }, expected: 'MSG00012' };
      } else if (x < mix.badSsin + mix.noIntegration + mix.dataFound) {
        const asPartner = r() < mix.partner && partnerData.length > 0;
        const p = pickOf(asPartner ? partnerData : withData);
        const months = asPartner ? (byPerson.get(p.partner as string) as GeneratedPerson).visibleMonths : p.visibleMonths;
        const period = periodAround(pickOf(months as string[]), yearly);
        if (period === undefined) continue;
        const [from, to] = bounds(period);
        if (!covers(dossierOk(p) as GeneratedDossier, from, to)) continue;
        line = { spec: { ticket, ssin: p.ssin, role: asPartner ? 'PARTNER' : r() < 0.5 ? 'BENEFICIARY' : undefined, period }, expected: 'MSG00000' };
      } else {
        const p = pickOf(withDossier);
        const period = randomPeriod(yearly);
        const [from, to] = bounds(period);
        if (!covers(dossierOk(p) as GeneratedDossier, from, to) || hasDataIn(p.visibleMonths, period)) continue;
        line = { spec: { ticket, ssin: p.ssin, role: r() < 0.5 ? 'BENEFICIARY' : undefined, period }, expected: 'MSG00100' };
      }
    }
    used.add(line.spec.ssin);
    yield line;
  }
}
