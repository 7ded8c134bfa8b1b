// The quality codes (hoedanigheidscodes) of the OCMW sector: why an institution has a person in
// its file. A few codes are temporary by nature and get a default duration when registered
// without an end date; the others stay open until unregistered.
//
// Codes 001, 007 and 030 and their durations are the ones this product is specified with.
// The other labels are SYNTHETIC, for development: replace them with the KSZ/BCSS list of the
// sector before production use.
import { addDays, addMonths, daysInMonth, isValidDate, lastDayOfMonth, monthOf } from '../domain/dates.js';
import { normalizeCode } from '../domain/finality.js';

export interface QualityCodeInfo {
  code: number;
  label: string;
  /** Default validity when registered without an end date; undefined = open-ended. */
  defaultDuration?: { months: number };
  /** True when the label is a development placeholder, not the official wording. */
  synthetic: boolean;
}

export const OCMW_QUALITY_CODES: readonly QualityCodeInfo[] = [
  { code: 1, label: 'dossier under investigation', defaultDuration: { months: 2 }, synthetic: false },
  { code: 2, label: 'beneficiary of social integration (leefloon)', synthetic: true },
  { code: 3, label: 'beneficiary of equivalent leefloon', synthetic: true },
  { code: 4, label: 'person receiving medical aid', synthetic: true },
  { code: 5, label: 'person under debt mediation by the OCMW', synthetic: true },
  { code: 6, label: 'person receiving an advance on child benefit', synthetic: true },
  { code: 7, label: 'collective debt mediation', defaultDuration: { months: 60 }, synthetic: false },
  { code: 30, label: 'maintenance-debtor investigation', defaultDuration: { months: 12 }, synthetic: false },
];

const BY_CODE = new Map(OCMW_QUALITY_CODES.map((q) => [q.code, q]));

/** '1', '01', '001' and 1 are the same code (contract §8); anything else is no code. */
function toCode(code: number | string): number | undefined {
  if (typeof code === 'number') return Number.isSafeInteger(code) && code >= 0 ? code : undefined;
  try {
    return normalizeCode(code.trim());
  } catch {
    return undefined;
  }
}

export function qualityCodeInfo(code: number | string): QualityCodeInfo | undefined {
  const n = toCode(code);
  return n === undefined ? undefined : BY_CODE.get(n);
}

export function isKnownQualityCode(code: number | string): boolean {
  return qualityCodeInfo(code) !== undefined;
}

/** '007' style, as operators and KSZ documents write them. */
export function formatQualityCode(code: number): string {
  return String(code).padStart(3, '0');
}

/**
 * End date of an integration registered on `startDate` without one: start + duration − 1 day,
 * null for an open-ended code. "Start + n months" is the same day n months later; when that day
 * does not exist (31 → February, 29 February → a common year) the integration runs to the end
 * of that month, so a month-based duration never loses a day:
 *   2025-01-01 + 2m → 2025-02-28;  2024-02-29 + 1y → 2025-02-28;  2023-12-31 + 2m → 2024-02-29.
 * Throws RangeError for an unknown code or an invalid date.
 */
export function defaultEndDate(code: number | string, startDate: string): string | null {
  const info = qualityCodeInfo(code);
  if (info === undefined) throw new RangeError(`unknown quality code: ${String(code)}`);
  if (!isValidDate(startDate)) throw new RangeError(`not a date YYYY-MM-DD: "${startDate}"`);
  if (info.defaultDuration === undefined) return null;
  const targetMonth = addMonths(monthOf(startDate), info.defaultDuration.months);
  const day = Number(startDate.slice(8, 10));
  if (day > daysInMonth(targetMonth)) return lastDayOfMonth(targetMonth);
  // The same day n months later is the first day no longer covered.
  return addDays(`${targetMonth}-${startDate.slice(8, 10)}`, -1);
}

/** The OCMW sector, whose register of quality codes is above. */
export const OCMW_SECTOR = 17;
/** The DG Personen met een handicap (contract §6c). */
export const DG_PMH_SECTOR = 16;

/**
 * Quality codes of the DG PMH sector: the ones §6c names for the provider check. SYNTHETIC
 * labels, for development: replace them with the KSZ/BCSS list of the sector before production use.
 */
export const DG_PMH_QUALITY_CODES: readonly QualityCodeInfo[] = [
  { code: 1, label: 'person with a recognised handicap', synthetic: true },
  { code: 2, label: 'beneficiary of an income replacement allowance', synthetic: true },
  { code: 3, label: 'beneficiary of an integration allowance', synthetic: true },
  { code: 5, label: 'beneficiary of an allowance for assistance to the elderly', synthetic: true },
  { code: 7, label: 'holder of a parking or social card', synthetic: true },
];

const SECTOR_LISTS = new Map<number, ReadonlyMap<number, QualityCodeInfo>>([
  [OCMW_SECTOR, BY_CODE],
  [DG_PMH_SECTOR, new Map(DG_PMH_QUALITY_CODES.map((q) => [q.code, q]))],
]);

/**
 * One rule for the CSV import and `repertory register`: for a sector whose list the project
 * ships (16, 17) the code must be on it; other sectors keep their own lists, any number goes.
 * Returns why the code is refused, or null.
 */
export function sectorQualityCodeProblem(sector: number, code: number): string | null {
  const list = SECTOR_LISTS.get(sector);
  if (list === undefined || list.has(code)) return null;
  return `quality code ${formatQualityCode(code)} is not in the register of quality codes of sector ${sector} (${[...list.keys()].map(formatQualityCode).join(', ')})`;
}

/** The default end of a registration without one: the code's duration in sector 17, else open. */
export function sectorDefaultEndDate(sector: number, code: number, startDate: string): string | null {
  return sector === OCMW_SECTOR ? defaultEndDate(code, startDate) : null;
}
