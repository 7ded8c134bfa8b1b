// The import files of contract §8: columns, per-row checks, each row's key in the file, and how
// valid rows are stored (counting what was inserted, updated and left unchanged).
import type { Knex } from 'knex';
import { createHash } from 'node:crypto';
import { isValidSsin, maskSsin } from '../domain/ssin.js';
import { isValidCbe } from '../domain/cbe.js';
import { isValidDate, isValidMonth, monthOf } from '../domain/dates.js';
import { BENEFIT_TYPES, CATEGORIES, SERVICES } from '../interfaces.js';
import { AMOUNT_FIELDS } from '../services/amounts/profile.js';
import { NOTIFICATION_SERVICE } from '../notifications/subscriptions.js';
import { sectorQualityCodeProblem } from '../repertory/qualityCodes.js';
import { storedInstitution } from '../store/repertoryRows.js';
import { amountIdentity } from '../store/amountIdentity.js';
import { rights } from './rightsKind.js';
import { HANDISERVICE_KINDS } from './handiserviceKinds.js';
import { HANDISERVICE_FIELDS, HANDISERVICE_PROFILES } from '../services/handiservice/profile.js';
import { declarationOf } from '../services/declarations.js';

function fieldVocabulary(service: string): string {
  return service === 'Handiservice' ? [...Object.keys(HANDISERVICE_PROFILES), ...HANDISERVICE_FIELDS].join(' ') : AMOUNT_FIELDS.join(' ');
}

/** Thrown by a row check; becomes "line N: reason" in the import report. */
export class BadRow extends Error {}

export interface ImportContext {
  /** CBE numbers of the OCMW reference list (amounts must name one). */
  ocmws: Set<string>;
  /** The year SSIN check digits are judged against (contract §3): the import's year. */
  referenceYear: number;
  /** Stored clients: CBE number → client id (a CBE belongs to one client). */
  cbeOwners: Map<string, string>;
  /** Amounts: how many rows of this pass had each content so far (a row's rank among equal rows). */
  ranks: Map<string, number>;
  /** Whether check() ranks amounts rows: only the pass that stores them needs it (the checking pass does not). */
  ranking: boolean;
}

/** What writing a chunk did, per row (contract §8: every import reports these per kind). */
export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface ImportKind {
  name: string;
  columns: readonly string[];
  /** Columns that may follow `columns` in the header. */
  optionalColumns?: readonly string[];
  /** Checks a row and returns what to store; throws BadRow. Called once per row in each pass, in file order. */
  check(v: Record<string, string | null>, ctx: ImportContext): Record<string, unknown>;
  /**
   * The row's key among the rows of the file (contract §8): a key given twice with other content
   * is a bad row; an identical repeat changes nothing. Undefined: the row has no such key.
   */
  fileKey(row: Record<string, unknown>): string | undefined;
  /** What the key names, for an operator (an SSIN masked, as everywhere in messages). */
  describeKey(row: Record<string, unknown>): string;
  /** Rows per write() call (default 2000); write() keeps each statement under SQLite's variable limit. */
  chunkRows?: number;
  /** Stores a chunk of checked rows (no key twice) inside the import transaction. */
  write(trx: Knex.Transaction, rows: Record<string, unknown>[]): Promise<WriteCounts>;
}

// ---------------------------------------------------------------- field checks

function required(v: Record<string, string | null>, col: string): string {
  const s = v[col];
  if (s === null || s === undefined) throw new BadRow(`${col} is required`);
  return s;
}
function ssin(v: Record<string, string | null>, col: string, year: number, optional = false): string | null {
  const s = optional ? v[col] : required(v, col);
  if (s === null || s === undefined) return null;
  if (!/^\d{11}$/.test(s)) throw new BadRow(`${col} must be 11 digits`);
  if (!isValidSsin(s, year)) throw new BadRow(`${col} has wrong check digits (not a valid national or BIS number)`);
  return s;
}
function cbe(v: Record<string, string | null>, col: string): string {
  const s = required(v, col);
  if (!/^\d{10}$/.test(s) || !isValidCbe(s)) throw new BadRow(`${col} is not a valid 10-digit CBE number`);
  return s;
}
/** Quality codes and sectors are numbers: 1, 01 and 001 are the same code. */
export function code(s: string, col: string): number {
  if (!/^\d{1,6}$/.test(s)) throw new BadRow(`${col} must be a number, found "${s}"`);
  return Number(s);
}
function date(v: Record<string, string | null>, col: string, optional = false): string | null {
  const s = optional ? v[col] : required(v, col);
  if (s === null || s === undefined) return null;
  if (!isValidDate(s)) throw new BadRow(`${col} must be a date YYYY-MM-DD, found "${s}"`);
  return s;
}
function oneOf<T extends string>(v: Record<string, string | null>, col: string, allowed: readonly T[]): T {
  const s = required(v, col);
  if (!(allowed as readonly string[]).includes(s)) throw new BadRow(`${col} must be one of ${allowed.join(', ')}, found "${s}"`);
  return s as T;
}

/** Stored values come back as numbers or strings depending on the engine (PostgreSQL bigint: string). */
const same = (a: unknown, b: unknown): boolean => String(a ?? '') === String(b ?? '');
const keyOf = (row: Record<string, unknown>, key: readonly string[]): string => key.map((k) => String(row[k] ?? '')).join('\u0000');

/**
 * Inserts the rows whose key is new, updates those stored with other content and leaves the
 * rest; returns how many of each. The chunk holds each key at most once (importCsv sees to it).
 */
export async function writeCounted(trx: Knex.Transaction, table: string, key: readonly string[], rows: Record<string, unknown>[]): Promise<WriteCounts> {
  const counts: WriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  if (rows.length === 0) return counts;
  const columns = Object.keys(rows[0]);
  // Statements stay under SQLite's bound-variable limit (999 on old builds).
  const byKey = new Map<string, Record<string, unknown>>();
  const keysPerSelect = Math.max(1, Math.floor(900 / key.length));
  for (let i = 0; i < rows.length; i += keysPerSelect) {
    const part = rows.slice(i, i + keysPerSelect);
    const stored: Record<string, unknown>[] =
      key.length === 1
        ? await trx(table).select(columns).whereIn(key[0], part.map((r) => r[key[0]] as string))
        : await trx(table).select(columns).whereIn([...key], part.map((r) => key.map((k) => r[k] as string)));
    for (const s of stored) byKey.set(keyOf(s, key), s);
  }
  const fresh: Record<string, unknown>[] = [];
  for (const r of rows) {
    const old = byKey.get(keyOf(r, key));
    if (old === undefined) fresh.push(r);
    else if (columns.every((c) => same(old[c], r[c]))) counts.unchanged++;
    else {
      const where = Object.fromEntries(key.map((k) => [k, r[k]]));
      const rest = Object.fromEntries(columns.filter((c) => !key.includes(c)).map((c) => [c, r[c]]));
      await trx(table).where(where).update(rest);
      counts.updated++;
    }
  }
  const rowsPerInsert = Math.max(1, Math.floor(900 / columns.length));
  for (let i = 0; i < fresh.length; i += rowsPerInsert) await trx(table).insert(fresh.slice(i, i + rowsPerInsert));
  counts.inserted = fresh.length;
  return counts;
}

// ---------------------------------------------------------------- kinds

export const ocmws: ImportKind = {
  name: 'ocmws',
  columns: ['cbe_number', 'name', 'municipality'],
  check: (v) => ({ cbe_number: cbe(v, 'cbe_number'), name: required(v, 'name'), municipality: required(v, 'municipality') }),
  fileKey: (r) => String(r.cbe_number),
  describeKey: (r) => `OCMW ${String(r.cbe_number)}`,
  write: (trx, rows) => writeCounted(trx, 'ocmws', ['cbe_number'], rows),
};

export const persons: ImportKind = {
  name: 'persons',
  columns: ['ssin', 'replaced_by'],
  check(v, ctx) {
    const row = { ssin: ssin(v, 'ssin', ctx.referenceYear), replaced_by: ssin(v, 'replaced_by', ctx.referenceYear, true) };
    if (row.replaced_by === row.ssin) throw new BadRow('replaced_by must differ from ssin');
    return row;
  },
  fileKey: (r) => String(r.ssin),
  describeKey: (r) => `person ${maskSsin(String(r.ssin))}`,
  write: (trx, rows) => writeCounted(trx, 'persons', ['ssin'], rows),
};

const REPERTORY_KEY = ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date'] as const;

export const repertory: ImportKind = {
  name: 'repertory',
  columns: ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date'],
  check(v, ctx) {
    const sector = code(required(v, 'sector'), 'sector');
    const qualityCode = code(required(v, 'quality_code'), 'quality_code');
    // Empty institution_cbe: a sector-level integration (contract §5), counting for every client of the sector.
    const institution = v.institution_cbe === null ? null : cbe(v, 'institution_cbe');
    const problem = sectorQualityCodeProblem(sector, qualityCode);
    if (problem !== null) throw new BadRow(problem);
    const row = {
      ssin: ssin(v, 'ssin', ctx.referenceYear),
      sector,
      institution_cbe: storedInstitution(institution),
      quality_code: qualityCode,
      start_date: date(v, 'start_date') as string,
      end_date: date(v, 'end_date', true),
    };
    if (row.end_date !== null && row.end_date < row.start_date) throw new BadRow('end_date is before start_date');
    return row;
  },
  fileKey: (r) => keyOf(r, REPERTORY_KEY),
  describeKey: (r) =>
    `the integration of ${maskSsin(String(r.ssin))} in sector ${String(r.sector)} at ${r.institution_cbe === '' ? 'sector level' : String(r.institution_cbe)}, quality code ${String(r.quality_code)}, from ${String(r.start_date)}`,
  write: (trx, rows) => writeCounted(trx, 'repertory', REPERTORY_KEY, rows),
};

export const amounts: ImportKind = {
  name: 'amounts',
  columns: ['ssin', 'partner_ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'grant_from', 'grant_to', 'amount_cents', 'paid_on', 'status'],
  optionalColumns: ['payment_id'],
  check(v, ctx) {
    const month = required(v, 'month');
    if (!isValidMonth(month)) throw new BadRow(`month must be YYYY-MM, found "${month}"`);
    const ocmw = cbe(v, 'ocmw_cbe');
    if (!ctx.ocmws.has(ocmw)) throw new BadRow(`ocmw_cbe ${ocmw} is not on the OCMW list (import ocmws first)`);
    const grantFrom = date(v, 'grant_from') as string;
    const grantTo = date(v, 'grant_to') as string;
    if (monthOf(grantFrom) !== month || monthOf(grantTo) !== month) throw new BadRow(`grant_from and grant_to must lie in month ${month}`);
    if (grantTo < grantFrom) throw new BadRow('grant_to is before grant_from');
    const cents = required(v, 'amount_cents');
    if (!/^-?\d{1,12}$/.test(cents)) throw new BadRow(`amount_cents must be a whole number of cents, found "${cents}"`);
    const paymentId = v.payment_id ?? null;
    if (paymentId !== null && !/^[!-~]{1,64}$/.test(paymentId)) throw new BadRow('payment_id must be 1-64 printable ASCII characters without spaces');
    const row = {
      ssin: ssin(v, 'ssin', ctx.referenceYear) as string,
      partner_ssin: ssin(v, 'partner_ssin', ctx.referenceYear, true),
      ocmw_cbe: ocmw,
      benefit_type: oneOf(v, 'benefit_type', BENEFIT_TYPES),
      category: oneOf(v, 'category', CATEGORIES),
      month,
      grant_from: grantFrom,
      grant_to: grantTo,
      amount_cents: Number(cents),
      paid_on: date(v, 'paid_on') as string,
      status: oneOf(v, 'status', ['PROVISIONAL', 'DEFINITIVE'] as const),
      payment_id: paymentId,
    };
    if (row.partner_ssin === row.ssin) throw new BadRow('partner_ssin must differ from ssin');
    // Contract §8: without payment_id a row is told apart by its columns but status and its rank
    // among the rows of the file equal in those; two rows are never merged.
    let rank = 1;
    if (paymentId === null && ctx.ranking) {
      // 128 bits of SHA-256 as a 16-character one-byte string: the rank map holds one per distinct row.
      const content = createHash('sha256').update(amountIdentity(row, 0)).digest().subarray(0, 16).toString('latin1');
      rank = (ctx.ranks.get(content) ?? 0) + 1;
      ctx.ranks.set(content, rank);
    }
    return { ...row, identity: amountIdentity(row, rank) };
  },
  // Rows without payment_id have a rank: they never repeat a key.
  fileKey: (r) => (r.payment_id === null ? undefined : `payment ${String(r.payment_id)}`),
  describeKey: (r) => `payment_id ${String(r.payment_id)}`,
  write: (trx, rows) => writeCounted(trx, 'amounts', ['identity'], rows),
};

/** One row per authorization (client × service × legal context); client columns must agree across rows. */
export const clients: ImportKind = {
  name: 'clients',
  columns: ['client_id', 'cbe_number', 'sector', 'name', 'service', 'legal_context', 'quality_codes', 'deliberation', 'fields'],
  check(v, ctx) {
    const clientId = required(v, 'client_id');
    // It names the spool folder <spoolRoot>/<client_id>/: '.' and '..' would be the root or its parent.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId) || clientId === '.' || clientId === '..') {
      throw new BadRow('client_id must be 1-64 of A-Z a-z 0-9 . _ - and not "." or ".." (it names the spool folder)');
    }
    const fields = (v.fields ?? '').split(/\s+/).filter(Boolean);
    const unknown = declarationOf(v.service ?? '')?.unknownFields(fields) ?? [];
    if (unknown.length > 0) throw new BadRow(`fields has unknown name(s) ${unknown.join(', ')}; use: ${fieldVocabulary(v.service ?? '')}`);
    const qc = required(v, 'quality_codes').split(/\s+/).filter(Boolean).map((c) => code(c, 'quality_codes'));
    const cbeNumber = cbe(v, 'cbe_number');
    const owner = ctx.cbeOwners.get(cbeNumber);
    if (owner !== undefined && owner !== clientId) throw new BadRow(`cbe_number ${cbeNumber} already belongs to client ${owner} in the store (a CBE number belongs to one client)`);
    return {
      client_id: clientId,
      cbe_number: cbeNumber,
      sector: code(required(v, 'sector'), 'sector'),
      name: required(v, 'name'),
      // LivingWagesNotifications rows subscribe the client to rights change notifications.
      service: oneOf(v, 'service', [...SERVICES, NOTIFICATION_SERVICE]),
      legal_context: required(v, 'legal_context'),
      quality_codes: [...new Set(qc)].join(' '),
      deliberation: v.deliberation ?? null,
      fields: fields.join(' '),
    };
  },
  fileKey: (r) => keyOf(r, ['client_id', 'service', 'legal_context']),
  describeKey: (r) => `the authorization of ${String(r.client_id)} for ${String(r.service)}, ${String(r.legal_context)}`,
  async write(trx, rows) {
    const counts: WriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
    for (const r of rows) {
      const client = await writeCounted(trx, 'clients', ['client_id'], [{ client_id: r.client_id, cbe_number: r.cbe_number, sector: r.sector, name: r.name }]);
      const auth = await writeCounted(trx, 'authorizations', ['client_id', 'service', 'legal_context'], [
        { client_id: r.client_id, service: r.service, legal_context: r.legal_context, quality_codes: r.quality_codes, deliberation: r.deliberation, fields: r.fields },
      ]);
      // Counted per authorization row: new when the authorization is, changed when it or its client is.
      if (auth.inserted > 0) counts.inserted++;
      else if (auth.updated > 0 || client.updated > 0) counts.updated++;
      else counts.unchanged++;
    }
    return counts;
  },
};

export const IMPORT_KINDS: Record<string, ImportKind> = { clients, ocmws, persons, repertory, amounts, rights, ...HANDISERVICE_KINDS };
