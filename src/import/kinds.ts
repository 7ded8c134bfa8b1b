// The import files of contract §8: columns, per-row checks and how valid rows are stored.
import type { Knex } from 'knex';
import { isValidSsin } from '../domain/ssin.js';
import { isValidCbe } from '../domain/cbe.js';
import { isValidDate, isValidMonth, monthOf } from '../domain/dates.js';
import { BENEFIT_TYPES, CATEGORIES, SERVICES } from '../interfaces.js';
import { AMOUNT_FIELDS, unknownAmountFields } from '../services/amounts/profile.js';
import { NOTIFICATION_SERVICE } from '../notifications/subscriptions.js';
import { rights } from './rightsKind.js';

/** Thrown by a row check; becomes "line N: reason" in the import report. */
export class BadRow extends Error {}

export interface ImportContext {
  /** CBE numbers of the OCMW reference list (amounts must name one). */
  ocmws: Set<string>;
}

export interface ImportKind {
  name: string;
  columns: readonly string[];
  /** Checks a row and returns what to store; throws BadRow. */
  check(v: Record<string, string | null>, ctx: ImportContext): Record<string, unknown>;
  /** Stores a chunk of checked rows inside the import transaction. */
  write(trx: Knex.Transaction, rows: Record<string, unknown>[]): Promise<void>;
}

// ---------------------------------------------------------------- field checks

function required(v: Record<string, string | null>, col: string): string {
  const s = v[col];
  if (s === null || s === undefined) throw new BadRow(`${col} is required`);
  return s;
}
function ssin(v: Record<string, string | null>, col: string, optional = false): string | null {
  const s = optional ? v[col] : required(v, col);
  if (s === null || s === undefined) return null;
  if (!/^\d{11}$/.test(s)) throw new BadRow(`${col} must be 11 digits`);
  if (!isValidSsin(s)) throw new BadRow(`${col} has wrong check digits (not a valid national or BIS number)`);
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

async function upsert(trx: Knex.Transaction, table: string, rows: Record<string, unknown>[], key: string[]): Promise<void> {
  if (rows.length > 0) await trx(table).insert(rows).onConflict(key).merge();
}

// ---------------------------------------------------------------- kinds

export const ocmws: ImportKind = {
  name: 'ocmws',
  columns: ['cbe_number', 'name', 'municipality'],
  check: (v) => ({ cbe_number: cbe(v, 'cbe_number'), name: required(v, 'name'), municipality: required(v, 'municipality') }),
  write: (trx, rows) => upsert(trx, 'ocmws', rows, ['cbe_number']),
};

export const persons: ImportKind = {
  name: 'persons',
  columns: ['ssin', 'replaced_by'],
  check(v) {
    const row = { ssin: ssin(v, 'ssin'), replaced_by: ssin(v, 'replaced_by', true) };
    if (row.replaced_by === row.ssin) throw new BadRow('replaced_by must differ from ssin');
    return row;
  },
  write: (trx, rows) => upsert(trx, 'persons', rows, ['ssin']),
};

export const repertory: ImportKind = {
  name: 'repertory',
  columns: ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date'],
  check(v) {
    const row = {
      ssin: ssin(v, 'ssin'),
      sector: code(required(v, 'sector'), 'sector'),
      institution_cbe: cbe(v, 'institution_cbe'),
      quality_code: code(required(v, 'quality_code'), 'quality_code'),
      start_date: date(v, 'start_date') as string,
      end_date: date(v, 'end_date', true),
    };
    if (row.end_date !== null && row.end_date < row.start_date) throw new BadRow('end_date is before start_date');
    return row;
  },
  write: (trx, rows) => upsert(trx, 'repertory', rows, ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date']),
};

export const amounts: ImportKind = {
  name: 'amounts',
  columns: ['ssin', 'partner_ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'grant_from', 'grant_to', 'amount_cents', 'paid_on', 'status'],
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
    const row = {
      ssin: ssin(v, 'ssin'),
      partner_ssin: ssin(v, 'partner_ssin', true),
      ocmw_cbe: ocmw,
      benefit_type: oneOf(v, 'benefit_type', BENEFIT_TYPES),
      category: oneOf(v, 'category', CATEGORIES),
      month,
      grant_from: grantFrom,
      grant_to: grantTo,
      amount_cents: Number(cents),
      paid_on: date(v, 'paid_on') as string,
      status: oneOf(v, 'status', ['PROVISIONAL', 'DEFINITIVE'] as const),
    };
    if (row.partner_ssin === row.ssin) throw new BadRow('partner_ssin must differ from ssin');
    return row;
  },
  write: (trx, rows) => upsert(trx, 'amounts', rows, ['ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'paid_on', 'grant_from']),
};

/** One row per authorization (client × service × legal context); client columns must agree across rows. */
export const clients: ImportKind = {
  name: 'clients',
  columns: ['client_id', 'cbe_number', 'sector', 'name', 'service', 'legal_context', 'quality_codes', 'deliberation', 'fields'],
  check(v) {
    const clientId = required(v, 'client_id');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId)) throw new BadRow('client_id must be 1-64 of A-Z a-z 0-9 . _ - (it names the spool folder)');
    const fields = (v.fields ?? '').split(/\s+/).filter(Boolean);
    const unknown = v.service === 'LivingWagesWithAmount' ? unknownAmountFields(fields) : [];
    if (unknown.length > 0) throw new BadRow(`fields has unknown name(s) ${unknown.join(', ')}; use: ${AMOUNT_FIELDS.join(' ')}`);
    const qc = required(v, 'quality_codes').split(/\s+/).filter(Boolean).map((c) => code(c, 'quality_codes'));
    return {
      client_id: clientId,
      cbe_number: cbe(v, 'cbe_number'),
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
  async write(trx, rows) {
    for (const r of rows) {
      await trx('clients')
        .insert({ client_id: r.client_id, cbe_number: r.cbe_number, sector: r.sector, name: r.name })
        .onConflict('client_id')
        .merge();
      await trx('authorizations')
        .insert({
          client_id: r.client_id,
          service: r.service,
          legal_context: r.legal_context,
          quality_codes: r.quality_codes,
          deliberation: r.deliberation,
          fields: r.fields,
        })
        .onConflict(['client_id', 'service', 'legal_context'])
        .merge();
    }
  },
};

export const IMPORT_KINDS: Record<string, ImportKind> = { clients, ocmws, persons, repertory, amounts, rights };
