// An independent oracle for the per-line decision of LivingWagesWithAmount (contract §4, §5):
// which code a line must get before any amounts are looked at, and which integrations allow it.
// Written from the contract, sharing no code with src/domain: its own SSIN check (BigInt mod 97),
// its own calendar (Date.UTC day numbers), its own overlap rule (max start ≤ min end).
// Also exports a seeded generator of adversarial cases, reused by the end-to-end run.
import type { Integration, Person, RequestPeriod } from '../../src/interfaces.js';

export type OracleCode = 'MSG00011' | 'MSG00005' | 'MSG00006' | 'MSG00008' | 'MSG00012' | 'ALLOWED';

export interface OracleSender {
  cbe: string;
  sector: number;
  allowedQualityCodes: number[];
}

export interface OracleCase {
  ssin: string;
  period: RequestPeriod;
  referenceDate: string;
  person: Person | undefined;
  /** The repertory rows for this SSIN (any institution). */
  integrations: Integration[];
  sender: OracleSender;
}

export interface OracleVerdict {
  code: OracleCode;
  /** ALLOWED only: every integration that allows the line. */
  allowing: Integration[];
}

// ------------------------------------------------------------------ own SSIN rule

/** Contract §3: the 2000+ variant only for a birth year 2000 + YY not after the reference year. */
function ssinOk(s: string, referenceYear: number): boolean {
  if (!/^[0-9]{11}$/.test(s)) return false;
  const mm = parseInt(s.substring(2, 4), 10);
  const dd = parseInt(s.substring(4, 6), 10);
  const monthOk = mm <= 12 || (mm >= 20 && mm <= 32) || (mm >= 40 && mm <= 52);
  if (!monthOk || dd > 31) return false;
  const check = BigInt(s.substring(9));
  const body = BigInt(s.substring(0, 9));
  const before2000 = 97n - (body % 97n);
  const from2000 = 97n - ((2_000_000_000n + body) % 97n);
  return check === before2000 || (2000 + parseInt(s.substring(0, 2), 10) <= referenceYear && check === from2000);
}

// ------------------------------------------------------------------ own calendar (years ≥ 1000 only)

const DAY_MS = 86_400_000;

/** Day number of y-m-d, or null when that day does not exist. */
function dayNo(y: number, m: number, d: number): number | null {
  if (!Number.isInteger(y) || y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return null;
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  return back.getUTCMonth() === m - 1 && back.getUTCDate() === d ? t / DAY_MS : null;
}

function isoDay(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m ? dayNo(+m[1], +m[2], +m[3]) : null;
}

/** Months since year 0 of 'YYYY-MM', or null. */
function monthIndex(s: string): number | null {
  const m = /^(\d{4})-(\d{2})$/.exec(s);
  if (!m || +m[2] < 1 || +m[2] > 12) return null;
  return +m[1] * 12 + (+m[2] - 1);
}

function lastDayOfMonthIndex(i: number): number {
  // Day 0 of the next month is the last day of this one.
  return Date.UTC(Math.floor(i / 12), (i % 12) + 1, 0) / DAY_MS;
}

function firstDayOfMonthIndex(i: number): number {
  return Date.UTC(Math.floor(i / 12), i % 12, 1) / DAY_MS;
}

/** [first day, last day] of a valid period for this service, or null → MSG00008. */
function periodDays(p: RequestPeriod, referenceDate: string): [number, number] | null {
  const ref = /^(\d{4})-(\d{2})/.exec(referenceDate);
  if (!ref) throw new Error(`bad reference date ${referenceDate}`);
  const refMonth = +ref[1] * 12 + (+ref[2] - 1);
  let fromM: number;
  let toM: number;
  if (p.kind === 'year') {
    if (!Number.isInteger(p.year) || p.year < 1000 || p.year > 9999) return null;
    fromM = p.year * 12;
    toM = p.year * 12 + 11;
  } else if (p.kind === 'months') {
    const f = monthIndex(p.from);
    const t = monthIndex(p.to);
    if (f === null || t === null) return null;
    fromM = f;
    toM = t;
  } else {
    return null; // LivingWagesWithAmount takes no date ranges
  }
  if (fromM > toM) return null;
  if (toM - fromM + 1 > 24) return null;
  if (toM > refMonth) return null;
  return [firstDayOfMonthIndex(fromM), lastDayOfMonthIndex(toM)];
}

function allows(i: Integration, s: OracleSender, from: number, to: number): boolean {
  // Two levels (§5): no institution = the sector's own repertory, for every client of the sector.
  if ((i.institutionCbe !== null && i.institutionCbe !== s.cbe) || i.sector !== s.sector || !s.allowedQualityCodes.includes(i.qualityCode)) return false;
  const start = isoDay(i.startDate);
  const end = i.endDate === null ? Number.POSITIVE_INFINITY : isoDay(i.endDate);
  if (start === null || end === null) throw new Error(`bad integration dates ${i.startDate}..${i.endDate}`);
  return Math.max(start, from) <= Math.min(end, to);
}

export function oracle(c: OracleCase): OracleVerdict {
  const no = (code: OracleCode): OracleVerdict => ({ code, allowing: [] });
  if (!ssinOk(c.ssin, parseInt(c.referenceDate.substring(0, 4), 10))) return no('MSG00011');
  if (c.person === undefined) return no('MSG00005');
  if (c.person.replacedBy) return no('MSG00006');
  const days = periodDays(c.period, c.referenceDate);
  if (days === null) return no('MSG00008');
  const allowing = c.integrations.filter((i) => allows(i, c.sender, days[0], days[1]));
  return allowing.length === 0 ? no('MSG00012') : { code: 'ALLOWED', allowing };
}

/** The response codes a pipeline may give for this verdict (ALLOWED: data or none found). */
export function acceptableStatuses(v: OracleVerdict): string[] {
  return v.code === 'ALLOWED' ? ['MSG00000', 'MSG00100'] : [v.code];
}

// ------------------------------------------------------------------ seeded generator

/** mulberry32: small, fast, good enough for test data; same seed, same cases. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const p2 = (n: number): string => String(n).padStart(2, '0');

function fmtDay(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** A syntactically plausible SSIN; its own check digits, independent of src/domain. */
function ssinFor(r: Rng): string {
  const year = int(r, 1940, 2015);
  const bis = r() < 0.2;
  const mm = (bis ? pick(r, [20, 40]) : 0) + int(r, r() < 0.05 ? 0 : 1, 12);
  const body = `${p2(year % 100)}${p2(mm)}${p2(int(r, 0, 28))}${String(int(r, 1, 997)).padStart(3, '0')}`;
  const n = BigInt(body) + (year >= 2000 ? 2_000_000_000n : 0n);
  const check = 97n - (n % 97n);
  let s = `${body}${p2(Number(check))}`;
  if (r() < 0.06) s = `${body}${p2((Number(check) + int(r, 1, 96)) % 100)}`; // wrong check digits
  if (r() < 0.01) s = `${s.slice(0, 2)}${p2(int(r, 13, 19))}${s.slice(4)}`; // impossible month field
  return s;
}

export const SENDERS: readonly OracleSender[] = [
  { cbe: '0308357159', sector: 17, allowedQualityCodes: [1, 2] },
  { cbe: '0411702543', sector: 26, allowedQualityCodes: [3] },
  { cbe: '0316381039', sector: 41, allowedQualityCodes: [1, 4, 7] },
];
const OTHER_CBE = '0212000032';

function randomPeriod(r: Rng, refMonth: number): RequestPeriod {
  const x = r();
  const mk = (i: number): string => `${Math.floor(i / 12)}-${p2((i % 12) + 1)}`;
  if (x < 0.4) return { kind: 'year', year: Math.floor(refMonth / 12) - int(r, 0, 3) + (r() < 0.05 ? 1 : 0) };
  if (x < 0.9) {
    const to = refMonth - int(r, 0, 30) + (r() < 0.05 ? int(r, 1, 3) : 0);
    const len = r() < 0.05 ? int(r, 25, 30) : int(r, 1, 24);
    const from = to - len + 1;
    return r() < 0.04 ? { kind: 'months', from: mk(to), to: mk(from) } : { kind: 'months', from: mk(from), to: mk(to) };
  }
  if (x < 0.95) return { kind: 'months', from: `${Math.floor(refMonth / 12) - 1}-13`, to: mk(refMonth) };
  return { kind: 'dates', from: `${Math.floor(refMonth / 12) - 1}-01-01`, to: `${Math.floor(refMonth / 12) - 1}-03-31` };
}

/** Day bounds of a period the generator made valid enough to aim integrations at; else a nearby window. */
function aim(p: RequestPeriod, refMonth: number): [number, number] {
  if (p.kind === 'year') return [Date.UTC(p.year, 0, 1) / DAY_MS, Date.UTC(p.year, 11, 31) / DAY_MS];
  const f = p.kind === 'months' ? monthIndex(p.from) : null;
  const t = p.kind === 'months' ? monthIndex(p.to) : null;
  if (f !== null && t !== null && f <= t) return [firstDayOfMonthIndex(f), lastDayOfMonthIndex(t)];
  return [firstDayOfMonthIndex(refMonth - 12), lastDayOfMonthIndex(refMonth)];
}

function randomIntegration(r: Rng, ssin: string, s: OracleSender, from: number, to: number): Integration {
  const base: Integration = {
    ssin,
    sector: s.sector,
    institutionCbe: s.cbe,
    qualityCode: pick(r, s.allowedQualityCodes),
    startDate: fmtDay(from - int(r, 0, 400)),
    endDate: fmtDay(to + int(r, 0, 400)),
  };
  switch (int(r, 0, 13)) {
    case 0:
      return { ...base, sector: s.sector + int(r, 1, 5) }; // wrong sector
    case 1:
      return { ...base, qualityCode: pick(r, [5, 6, 30].filter((q) => !s.allowedQualityCodes.includes(q))) }; // wrong quality code
    case 2:
      return { ...base, endDate: fmtDay(from - 1) }; // ends the day before the period
    case 3:
      return { ...base, startDate: fmtDay(to + 1), endDate: r() < 0.5 ? null : fmtDay(to + int(r, 1, 500)) }; // starts the day after
    case 4:
      return { ...base, endDate: null }; // open-ended
    case 5:
      return { ...base, institutionCbe: pick(r, [OTHER_CBE, ...SENDERS.map((x) => x.cbe).filter((c) => c !== s.cbe)]) }; // other institution
    case 6:
      return { ...base, endDate: fmtDay(from) }; // ends on the first day
    case 7:
      return { ...base, startDate: fmtDay(to), endDate: r() < 0.5 ? null : fmtDay(to + int(r, 0, 100)) }; // starts on the last day
    case 8: {
      const a = from + int(r, 0, Math.max(0, to - from)); // inside the period
      return { ...base, startDate: fmtDay(a), endDate: fmtDay(a + int(r, 0, 60)) };
    }
    case 9: {
      const a = from - int(r, 2, 800); // entirely before
      return { ...base, startDate: fmtDay(a - int(r, 0, 300)), endDate: fmtDay(Math.min(a, from - 1)) };
    }
    case 10:
      return { ...base, institutionCbe: null }; // sector level: counts for every client of the sector
    case 11:
      return { ...base, institutionCbe: null, sector: s.sector + int(r, 1, 5) }; // another sector's repertory
    default:
      return base;
  }
}

export interface GenerateOptions {
  /** One reference date for every case (an end-to-end batch has one); default: random per case. */
  referenceDate?: string;
  /** One sender for every case (an end-to-end batch has one); default: random per case. */
  sender?: OracleSender;
}

/**
 * `n` cases from `seed`: a mix of every reason a line may be refused, and allowed lines.
 * SSINs are unique across the cases, so the persons and repertory rows of all cases can be
 * loaded into one store without one case changing another's answer.
 */
export function generateCases(seed: number, n: number, opts: GenerateOptions = {}): OracleCase[] {
  const r = mulberry32(seed);
  const out: OracleCase[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) {
    const referenceDate = opts.referenceDate ?? fmtDay(Date.UTC(2024, 0, 1) / DAY_MS + int(r, 0, 900));
    const refMonth = +referenceDate.slice(0, 4) * 12 + (+referenceDate.slice(5, 7) - 1);
    let ssin = ssinFor(r);
    while (seen.has(ssin)) ssin = ssinFor(r);
    seen.add(ssin);
    const sender = opts.sender ?? pick(r, SENDERS);
    const x = r();
    const person: Person | undefined = x < 0.04 ? undefined : x < 0.08 ? { ssin, replacedBy: ssinFor(r) } : { ssin, replacedBy: null };
    const period = randomPeriod(r, refMonth);
    const [from, to] = aim(period, refMonth);
    const integrations = Array.from({ length: int(r, 0, 3) }, () => randomIntegration(r, ssin, sender, from, to));
    out.push({ ssin, period, referenceDate, person, integrations, sender });
  }
  return out;
}
