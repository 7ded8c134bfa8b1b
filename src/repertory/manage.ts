// The repertory as a managed register (ManageAccess-like): an institution registers the people
// it has a file on, with the quality code that says why, and unregisters them when the file
// closes. Unregistering ends an integration at a date; the row and its history stay.
import { bumpStoreVersion } from '../store/storeVersion.js';
import type { Knex } from 'knex';
import { LdmError } from '../errors.js';
import type { Integration } from '../interfaces.js';
import { currentYear, isValidSsin } from '../domain/ssin.js';
import { isValidCbe } from '../domain/cbe.js';
import { isValidDate } from '../domain/dates.js';
import { sectorDefaultEndDate, sectorQualityCodeProblem } from './qualityCodes.js';
import { REPERTORY_COLUMNS, storedInstitution, toIntegration, type RepertoryRow } from '../store/repertoryRows.js';

type Db = Knex | Knex.Transaction;

export interface RegisterInput {
  ssin: string;
  sector: number | string;
  /** null: a sector-level integration (the KSZ repertory of the sector, contract §5). */
  institutionCbe: string | null;
  qualityCode: number | string;
  startDate: string;
  /** Omitted: the quality code's default duration applies (open-ended for most codes). */
  endDate?: string | null;
}

export interface UnregisterInput {
  ssin: string;
  sector: number | string;
  /** null: the sector-level integration. */
  institutionCbe: string | null;
  qualityCode: number | string;
  /** Last day the integrations still cover. */
  endDate: string;
}

export interface UnregisterResult {
  /** Integrations whose end was moved back to endDate (they were open or ended later). */
  closed: number;
  /** Integrations of the same key that start after endDate; left as they are (see README). */
  startingLater: number;
}

const bad = (code: string, message: string): LdmError => new LdmError(code, message, { exitCode: 2 });

/** Sectors and quality codes are numbers: 17, '17' and '017' are the same (contract §8). */
function number(v: number | string, what: string): number {
  const s = typeof v === 'number' ? String(v) : v.trim();
  if (!/^\d{1,6}$/.test(s)) throw bad('INVALID_INPUT', `${what} must be a number, got "${String(v)}"`);
  return Number(s);
}

function checkSsin(ssin: string): void {
  if (!isValidSsin(ssin, currentYear())) throw bad('INVALID_SSIN', 'the SSIN is not a valid national or BIS number (check digits)');
}

function checkCbe(cbe: string | null): void {
  if (cbe !== null && !isValidCbe(cbe)) throw bad('INVALID_INPUT', `institution "${cbe}" is not a valid 10-digit CBE number`);
}

function checkDate(d: string, what: string): void {
  if (!isValidDate(d)) throw bad('INVALID_INPUT', `${what} must be a date YYYY-MM-DD, got "${d}"`);
}


/**
 * Registers (or re-registers) an integration. Idempotent on (ssin, sector, institution,
 * quality code, start date): the same call twice leaves one row; a later call with another end
 * date replaces it (the latest registration wins). Returns the stored integration.
 */
export async function registerIntegration(db: Db, input: RegisterInput): Promise<Integration> {
  checkSsin(input.ssin);
  const qualityCode = number(input.qualityCode, 'quality code');
  const sector = number(input.sector, 'sector');
  // The same check as repertory.csv (import/kinds.ts): one rule for both ways in.
  const problem = sectorQualityCodeProblem(sector, qualityCode);
  if (problem !== null) throw bad('UNKNOWN_QUALITY_CODE', problem);
  checkCbe(input.institutionCbe);
  checkDate(input.startDate, 'start date');
  let endDate: string | null;
  if (input.endDate === undefined || input.endDate === null) {
    endDate = sectorDefaultEndDate(sector, qualityCode, input.startDate);
  } else {
    checkDate(input.endDate, 'end date');
    endDate = input.endDate;
  }
  if (endDate !== null && endDate < input.startDate) {
    throw bad('INVALID_PERIOD', `end date ${endDate} is before start date ${input.startDate}`);
  }
  const row = {
    ssin: input.ssin,
    sector,
    institution_cbe: storedInstitution(input.institutionCbe),
    quality_code: qualityCode,
    start_date: input.startDate,
    end_date: endDate,
  };
  await db.transaction(async (trx) => {
    await trx('repertory')
      .insert(row)
      .onConflict(['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date'])
      .merge(['end_date']);
    await bumpStoreVersion(trx);
  });
  return toIntegration(row);
}

/**
 * Ends the integrations of (ssin, sector, institution, quality code) that are open or end after
 * `endDate` and have started by then: their end becomes `endDate`. Nothing is deleted.
 * Integrations that start after `endDate` are not touched (an end before the start would be
 * meaningless) and are counted in `startingLater` so the operator can see them.
 * Any numeric quality code is accepted, so imported integrations with retired codes can be closed.
 */
export async function unregisterIntegration(db: Db, input: UnregisterInput): Promise<UnregisterResult> {
  checkSsin(input.ssin);
  const qualityCode = number(input.qualityCode, 'quality code');
  const sector = number(input.sector, 'sector');
  checkCbe(input.institutionCbe);
  checkDate(input.endDate, 'end date');
  const key = { ssin: input.ssin, sector, institution_cbe: storedInstitution(input.institutionCbe), quality_code: qualityCode };
  return db.transaction(async (trx) => {
    const closed: number = await trx('repertory')
      .where(key)
      .andWhere('start_date', '<=', input.endDate)
      .andWhere((q) => {
        q.whereNull('end_date').orWhere('end_date', '>', input.endDate);
      })
      .update({ end_date: input.endDate });
    const [later] = await trx('repertory').where(key).andWhere('start_date', '>', input.endDate).count({ n: '*' });
    if (Number(closed) > 0) await bumpStoreVersion(trx);
    return { closed: Number(closed), startingLater: Number(later?.n ?? 0) };
  });
}

/** The integrations of one person at one institution (null: at sector level), for display after a change. */
export async function integrationsOf(db: Db, ssin: string, institutionCbe: string | null): Promise<Integration[]> {
  const rows: RepertoryRow[] = await db('repertory')
    .where({ ssin, institution_cbe: storedInstitution(institutionCbe) })
    .select(...REPERTORY_COLUMNS)
    .orderBy([{ column: 'start_date' }, { column: 'quality_code' }, { column: 'sector' }]);
  return rows.map(toIntegration);
}
