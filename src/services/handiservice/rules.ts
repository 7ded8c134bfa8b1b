// Pure rules of the Handiservice service (contract §6c): the line's period, the two blocking
// integration checks (the asking OCMW's and the data provider's), and the data clipped to the
// requested period. No I/O here: the resolver looks data up per chunk and hands it to these.
import type { HandicapRecords, Integration, RequestPeriod, Role } from '../../interfaces.js';
import { isValidDate, monthOf } from '../../domain/dates.js';
import { overlaps } from '../../domain/period.js';

/** The OCMWs' sector, whose own register must hold the sender's dossier (sender check). */
export const SENDER_SECTOR = 17;
/** Quality codes of an OCMW dossier that the sender check accepts (1–9), before the authorization's own list. */
export const SENDER_QUALITY_CODES: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
/** The data provider's sector (DG Personen met een handicap). */
export const PROVIDER_SECTOR = 16;
/** Quality codes of the provider's integration that count (provider check). */
export const PROVIDER_QUALITY_CODES: readonly number[] = [1, 2, 3, 5, 7];

// ---------------------------------------------------------------- dates

/**
 * The same day `years` years later (negative: earlier); a 29 February that does not exist in the
 * target year becomes 1 March (contract §6c: "for 29 February, 1 March").
 */
export function sameDayYearsLater(date: string, years: number): string {
  const y = Number(date.slice(0, 4)) + years;
  const md = date.slice(5);
  const yy = String(y).padStart(4, '0');
  if (md === '02-29' && !isLeap(y)) return `${yy}-03-01`;
  return `${yy}-${md}`;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** The sender check's window: [reference − 1 year, reference] (a nonexistent 29 February: 1 March). */
export function senderWindow(referenceDate: string): { from: string; to: string } {
  return { from: sameDayYearsLater(referenceDate, -1), to: referenceDate };
}

// ---------------------------------------------------------------- the line (MSG00008)

/**
 * Why a Handiservice line is invalid data (MSG00008), or null: a period kind other than Dates, a
 * Role, a date that does not exist, From after To, more than one year (To must be earlier than
 * the same day one year after From), or To after the reference date's month.
 */
export function handiserviceLineProblem(line: { period: RequestPeriod; role?: Role }, referenceDate: string): string | null {
  const p = line.period;
  if (p.kind !== 'dates') return `Handiservice does not take a ${p.kind} period (use Dates)`;
  if (line.role !== undefined) return `a Handiservice request carries no Role (found ${line.role})`;
  if (!isValidDate(p.from)) return `date ${p.from} does not exist`;
  if (!isValidDate(p.to)) return `date ${p.to} does not exist`;
  if (p.from > p.to) return 'period From is after To';
  const limit = sameDayYearsLater(p.from, 1);
  if (p.to >= limit) return `period is longer than one year: To must be before ${limit}`;
  const referenceMonth = monthOf(referenceDate);
  if (monthOf(p.to) > referenceMonth) return `period ends after the reference month ${referenceMonth}`;
  return null;
}

// ---------------------------------------------------------------- the two integration checks

/** Earliest (startDate, qualityCode, institution), so the audited quality code is deterministic. */
function earliest(a: Integration | undefined, b: Integration): Integration {
  if (a === undefined) return b;
  if (b.startDate !== a.startDate) return b.startDate < a.startDate ? b : a;
  if (b.qualityCode !== a.qualityCode) return b.qualityCode < a.qualityCode ? b : a;
  return (b.institutionCbe ?? '') < (a.institutionCbe ?? '') ? b : a;
}

/**
 * Sender check (MSG00012): the sender's own institution-level integration in sector 17 (a
 * sector-level one does not count: the OCMW itself must manage the dossier), with a quality code
 * 1–9 that its authorization allows, overlapping both the year before the reference date and the
 * requested period. Returns the integration that allows the line, or undefined.
 */
export function senderIntegration(
  integrations: readonly Integration[],
  sender: { cbeNumber: string; allowedQualityCodes: readonly number[] },
  period: { from: string; to: string },
  referenceDate: string,
): Integration | undefined {
  const window = senderWindow(referenceDate);
  let best: Integration | undefined;
  for (const i of integrations) {
    if (i.sector !== SENDER_SECTOR || i.institutionCbe !== sender.cbeNumber) continue;
    if (!SENDER_QUALITY_CODES.includes(i.qualityCode) || !sender.allowedQualityCodes.includes(i.qualityCode)) continue;
    if (!overlaps(i.startDate, i.endDate, window.from, window.to)) continue;
    if (!overlaps(i.startDate, i.endDate, period.from, period.to)) continue;
    best = earliest(best, i);
  }
  return best;
}

/**
 * Provider check (MSG00021): the person is integrated at the data provider — a sector-16
 * integration, at sector or at institution level, with quality code 1, 2, 3, 5 or 7,
 * overlapping the requested period.
 */
export function providerIntegration(integrations: readonly Integration[], period: { from: string; to: string }): Integration | undefined {
  let best: Integration | undefined;
  for (const i of integrations) {
    if (i.sector !== PROVIDER_SECTOR || !PROVIDER_QUALITY_CODES.includes(i.qualityCode)) continue;
    if (!overlaps(i.startDate, i.endDate, period.from, period.to)) continue;
    best = earliest(best, i);
  }
  return best;
}

// ---------------------------------------------------------------- the data

/** One kind's entries before profiling, as XML attribute name → value (null = empty, left out). */
export type Entry = Record<string, string | number | boolean | null>;

export interface HandicapData {
  recognitions: Entry[];
  rights: Entry[];
  payments: Entry[];
  cards: Entry[];
}

function clip(from: string, to: string | null, range: { from: string; to: string }): { from: string; to: string } | undefined {
  if (!overlaps(from, to, range.from, range.to)) return undefined;
  return { from: from > range.from ? from : range.from, to: to !== null && to < range.to ? to : range.to };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The person's data that overlap the period, each kind ordered as contract §6c says: `from`/`to`
 * clipped to the period (an open end becomes the period's end), ordered by clipped `from` then id
 * (cards: number); payments of the period's months, by month then legislation. A recognition
 * without start_date (pending) starts on its request date. Other dates are not clipped.
 */
export function handicapData(records: HandicapRecords, range: { from: string; to: string }): HandicapData {
  const recognitions = records.recognitions
    .map((r) => ({ r, c: clip(r.startDate ?? r.requestDate, r.endDate, range) }))
    .filter((x): x is { r: (typeof x)['r']; c: { from: string; to: string } } => x.c !== undefined)
    .sort((a, b) => cmp(a.c.from, b.c.from) || cmp(a.r.recognitionId, b.r.recognitionId))
    .map(({ r, c }) => ({
      id: r.recognitionId,
      legislation: r.legislation,
      requestDate: r.requestDate,
      status: r.status,
      decisionDate: r.decisionDate,
      from: c.from,
      to: c.to,
      points: r.points,
      earningCapacityReduced: r.earningCapacityReduced,
      lowerLimbs50: r.lowerLimbs50,
      fullBlindness: r.fullBlindness,
      upperLimbsAmputated: r.upperLimbsAmputated,
      upperLimbsParalysed: r.upperLimbsParalysed,
    }));
  const rights = records.rights
    .map((r) => ({ r, c: clip(r.startDate, r.endDate, range) }))
    .filter((x): x is { r: (typeof x)['r']; c: { from: string; to: string } } => x.c !== undefined)
    .sort((a, b) => cmp(a.c.from, b.c.from) || cmp(a.r.rightId, b.r.rightId))
    .map(({ r, c }) => ({
      id: r.rightId,
      legislation: r.legislation,
      category: r.category,
      from: c.from,
      to: c.to,
      monthlyAmountCents: r.monthlyAmountCents,
      partnerIncome: r.partnerIncome,
    }));
  const first = monthOf(range.from);
  const last = monthOf(range.to);
  const payments = records.payments
    .filter((p) => p.month >= first && p.month <= last)
    .sort((a, b) => cmp(a.month, b.month) || cmp(a.legislation, b.legislation))
    .map((p) => ({ month: p.month, legislation: p.legislation, amountCents: p.amountCents, suspendedCents: p.suspendedCents }));
  const cards = records.cards
    .map((s) => ({ s, c: clip(s.deliveredOn, s.endDate, range) }))
    .filter((x): x is { s: (typeof x)['s']; c: { from: string; to: string } } => x.c !== undefined)
    .sort((a, b) => cmp(a.c.from, b.c.from) || cmp(a.s.cardNumber, b.s.cardNumber))
    .map(({ s, c }) => ({ number: s.cardNumber, type: s.type, from: c.from, to: c.to }));
  return { recognitions, rights, payments, cards };
}

// ---------------------------------------------------------------- the line's code

export type HandiserviceDecision =
  | { code: 'MSG00011' | 'MSG00005' | 'MSG00006' | 'MSG00008' | 'MSG00012'; newSsin?: string; reason: string }
  /** Both checks passed except the provider's: `sender` is the integration that allowed the consultation. */
  | { code: 'MSG00021'; sender: Integration; reason: string }
  | { code: 'CONTINUE'; sender: Integration; range: { from: string; to: string } };

/**
 * The §6c order, first failure wins: MSG00011 → MSG00005 → MSG00006 → MSG00008 → MSG00012 →
 * MSG00021; CONTINUE means the data decide between MSG00100 and MSG00000. `ssinValid` is the
 * check-digit test (domain/ssin.ts) of the line's SSIN against the reference date's year.
 */
export function decideHandiserviceLine(input: {
  ssinValid: boolean;
  person: { replacedBy: string | null } | undefined;
  line: { period: RequestPeriod; role?: Role };
  referenceDate: string;
  sender: { cbeNumber: string; allowedQualityCodes: readonly number[] };
  /** The sender's integrations for the SSIN (own institution and its sector's). */
  senderIntegrations: readonly Integration[];
  /** The SSIN's sector-16 integrations. */
  providerIntegrations: readonly Integration[];
}): HandiserviceDecision {
  if (!input.ssinValid) return { code: 'MSG00011', reason: 'SSIN check digits are wrong' };
  if (input.person === undefined) return { code: 'MSG00005', reason: 'SSIN unknown to the register' };
  const replacedBy = input.person.replacedBy;
  if (replacedBy !== null && replacedBy !== '') return { code: 'MSG00006', newSsin: replacedBy, reason: 'SSIN was replaced' };
  const problem = handiserviceLineProblem(input.line, input.referenceDate);
  if (problem !== null) return { code: 'MSG00008', reason: problem };
  // handiserviceLineProblem passed: the period is a valid Dates range.
  const p = input.line.period as { kind: 'dates'; from: string; to: string };
  const range = { from: p.from, to: p.to };
  const sender = senderIntegration(input.senderIntegrations, input.sender, range, input.referenceDate);
  if (sender === undefined) return { code: 'MSG00012', reason: 'the sender manages no dossier (sector 17, quality code 1-9) for this SSIN in the last year and the period' };
  if (providerIntegration(input.providerIntegrations, range) === undefined) return { code: 'MSG00021', sender, reason: 'the SSIN is not integrated at the provider for this period' };
  return { code: 'CONTINUE', sender, range };
}
