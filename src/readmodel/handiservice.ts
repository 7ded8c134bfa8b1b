// The Handiservice part of the read model (layout.ts, format 2): the four kinds of DG PMH data
// (contract §6c, §8), so a Handiservice batch is answered as of the store version fixed at its
// claim, like a LivingWagesWithAmount batch.
//
// Per kind three sections:
//   <kind>Key    float64[K]   the SSINs that have rows of the kind, ascending
//   <kind>Start  uint32[K+1]  their rows are [start[k], start[k+1])
//   <kind>Rows   UTF-8 JSON array of the rows as arrays of the kind's columns (the SSIN left out),
//                a person's rows ordered by the table's key (code-unit order); numbers as numbers,
//                texts as texts, null as null — the store's values unchanged, so the store's own
//                row converters (store/handiservice/lookup.ts) give the same objects as its lookups.
// The data are small next to the amounts (a few rows per person with a handicap dossier): the JSON
// is parsed once per kind, on the first line that needs it.
import type { Knex } from 'knex';
import type { HandicapRecords } from '../interfaces.js';
import { LdmError } from '../errors.js';
import { HANDICAP_PAYMENTS_TABLE, HANDICAP_RIGHTS_TABLE, RECOGNITIONS_TABLE, SOCIAL_CARDS_TABLE } from '../store/handiservice/migration.js';
import { toHandicapPayment, toHandicapRight, toRecognition, toSocialCard } from '../store/handiservice/lookup.js';
import { findKey, ssinKey, type SectionName } from './layout.js';

type Cell = string | number | null;
type Row = Record<string, Cell>;

/** A column and how its value is kept: 'n' a number (bigint columns come back as text from PostgreSQL), 's' a text. */
type Column = readonly [name: string, type: 'n' | 's'];

interface KindSpec {
  /** The section name prefix. */
  prefix: 'hsRecognition' | 'hsRight' | 'hsPayment' | 'hsCard';
  table: string;
  /** The table's primary key (paging order in the store). */
  primaryKey: readonly string[];
  /** A person's rows are ordered by these columns (code-unit order). */
  order: readonly string[];
  /** Every column but ssin. */
  columns: readonly Column[];
}

export const HANDISERVICE_KINDS = [
  {
    prefix: 'hsRecognition',
    table: RECOGNITIONS_TABLE,
    primaryKey: ['recognition_id'],
    order: ['recognition_id'],
    columns: [
      ['recognition_id', 's'],
      ['legislation', 's'],
      ['request_date', 's'],
      ['status', 's'],
      ['decision_date', 's'],
      ['start_date', 's'],
      ['end_date', 's'],
      ['points', 'n'],
      ['earning_capacity_reduced', 's'],
      ['lower_limbs_50', 's'],
      ['full_blindness', 's'],
      ['upper_limbs_amputated', 's'],
      ['upper_limbs_paralysed', 's'],
    ],
  },
  {
    prefix: 'hsRight',
    table: HANDICAP_RIGHTS_TABLE,
    primaryKey: ['right_id'],
    order: ['right_id'],
    columns: [
      ['right_id', 's'],
      ['legislation', 's'],
      ['category', 's'],
      ['start_date', 's'],
      ['end_date', 's'],
      ['monthly_amount_cents', 'n'],
      ['partner_income', 's'],
    ],
  },
  {
    prefix: 'hsPayment',
    table: HANDICAP_PAYMENTS_TABLE,
    primaryKey: ['ssin', 'month', 'legislation'],
    order: ['month', 'legislation'],
    columns: [
      ['month', 's'],
      ['legislation', 's'],
      ['amount_cents', 'n'],
      ['suspended_cents', 'n'],
    ],
  },
  {
    prefix: 'hsCard',
    table: SOCIAL_CARDS_TABLE,
    primaryKey: ['card_number'],
    order: ['card_number'],
    columns: [
      ['card_number', 's'],
      ['type', 's'],
      ['delivered_on', 's'],
      ['end_date', 's'],
    ],
  },
] as const satisfies readonly KindSpec[];

type Prefix = (typeof HANDISERVICE_KINDS)[number]['prefix'];

const PAGE_ROWS = 10_000;

/** Every row of a kind, as [ssin key, ...columns], in the table's primary-key order (keyset pages). */
async function readKind(trx: Knex.Transaction, spec: KindSpec, page: number): Promise<{ key: number; cells: Cell[] }[]> {
  const out: { key: number; cells: Cell[] }[] = [];
  const names = spec.columns.map(([n]) => n);
  let after: Cell[] | undefined;
  for (;;) {
    const q = trx(spec.table)
      .select('ssin', ...names)
      .orderBy(spec.primaryKey.map((c) => ({ column: c })))
      .limit(page);
    if (after !== undefined) q.whereRaw(`(${spec.primaryKey.join(', ')}) > (${spec.primaryKey.map(() => '?').join(', ')})`, after as (string | number)[]);
    const rows = (await q) as Row[];
    for (const r of rows) {
      const k = typeof r.ssin === 'string' ? ssinKey(r.ssin) : undefined;
      if (k === undefined) throw new LdmError('READ_MODEL_BUILD', `the store holds a ${spec.table} SSIN that is not 11 digits; the read model cannot be built`);
      out.push({ key: k, cells: spec.columns.map(([n, t]) => (r[n] === null || r[n] === undefined ? null : t === 'n' ? Number(r[n]) : String(r[n]))) });
    }
    if (rows.length < page) return out;
    const last = rows[rows.length - 1];
    after = spec.primaryKey.map((c) => last[c]);
  }
}

/** The sections of one kind: SSIN keys, starts and the rows' JSON. */
export interface KindSections {
  key: Float64Array;
  start: Uint32Array;
  rows: Buffer;
  count: number;
}

/** Reads the four kinds from the build's snapshot; returns each kind's sections, by section name. */
export async function buildHandiservice(trx: Knex.Transaction, page = PAGE_ROWS): Promise<{ sections: [SectionName, Uint8Array][]; rows: number }> {
  const sections: [SectionName, Uint8Array][] = [];
  let total = 0;
  for (const spec of HANDISERVICE_KINDS as readonly KindSpec[]) {
    const rows = await readKind(trx, spec, page);
    const orderAt = spec.order.map((c) => spec.columns.findIndex(([n]) => n === c));
    const text = (v: Cell): string => (v === null ? '' : String(v));
    rows.sort((a, b) => {
      if (a.key !== b.key) return a.key - b.key;
      for (const i of orderAt) {
        const x = text(a.cells[i]);
        const y = text(b.cells[i]);
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    });
    const keys: number[] = [];
    const starts: number[] = [];
    rows.forEach((r, i) => {
      if (keys.length === 0 || keys[keys.length - 1] !== r.key) {
        keys.push(r.key);
        starts.push(i);
      }
    });
    starts.push(rows.length);
    const key = Float64Array.from(keys);
    const start = Uint32Array.from(starts);
    sections.push([`${spec.prefix}Key` as SectionName, new Uint8Array(key.buffer, key.byteOffset, key.byteLength)]);
    sections.push([`${spec.prefix}Start` as SectionName, new Uint8Array(start.buffer, start.byteOffset, start.byteLength)]);
    sections.push([`${spec.prefix}Rows` as SectionName, Buffer.from(JSON.stringify(rows.map((r) => r.cells)), 'utf8')]);
    total += rows.length;
  }
  return { sections, rows: total };
}

/** The rows of the four kinds in the store (for the header's counts when the file exists already). */
export async function handiserviceRowCount(trx: Knex.Transaction): Promise<number> {
  let n = 0;
  for (const spec of HANDISERVICE_KINDS) {
    const [row] = (await trx(spec.table).count({ n: '*' })) as { n: number | string }[];
    n += Number(row.n);
  }
  return n;
}

const CONVERT = {
  hsRecognition: toRecognition,
  hsRight: toHandicapRight,
  hsPayment: toHandicapPayment,
  hsCard: toSocialCard,
} as const;

interface KindTable {
  key: Float64Array;
  start: Uint32Array;
  json: Buffer;
  rows: Cell[][] | undefined;
  spec: KindSpec;
}

/** The Handiservice data of an open read model: key/start arrays; the rows parsed on first use. */
export class HandiserviceTables {
  private readonly kinds: Record<Prefix, KindTable>;

  constructor(section: (name: SectionName) => Buffer, f64: (name: SectionName) => Float64Array, u32: (name: SectionName) => Uint32Array) {
    const table = (spec: KindSpec): KindTable => ({
      key: f64(`${spec.prefix}Key` as SectionName),
      start: u32(`${spec.prefix}Start` as SectionName),
      json: section(`${spec.prefix}Rows` as SectionName),
      rows: undefined,
      spec,
    });
    const [recognitions, rights, payments, cards] = HANDISERVICE_KINDS;
    this.kinds = { hsRecognition: table(recognitions), hsRight: table(rights), hsPayment: table(payments), hsCard: table(cards) };
  }

  /** The person's rows of one kind, as the store's converters make them. */
  private of<P extends Prefix>(prefix: P, ssin: string, k: number): ReturnType<(typeof CONVERT)[P]>[] {
    const kind = this.kinds[prefix];
    const p = findKey(kind.key, k);
    if (p < 0) return [];
    if (kind.rows === undefined) kind.rows = JSON.parse(kind.json.toString('utf8')) as Cell[][];
    const convert = CONVERT[prefix] as (r: Row) => ReturnType<(typeof CONVERT)[P]>;
    const out: ReturnType<(typeof CONVERT)[P]>[] = [];
    for (let i = kind.start[p]; i < kind.start[p + 1]; i++) {
      const cells = kind.rows[i];
      const row: Row = { ssin };
      kind.spec.columns.forEach(([n], c) => (row[n] = cells[c]));
      out.push(convert(row));
    }
    return out;
  }

  /** Everything held for the SSIN; undefined when it has no row of any kind (as the store lookup leaves it out). */
  records(ssin: string): HandicapRecords | undefined {
    const k = ssinKey(ssin);
    if (k === undefined) return undefined;
    const r: HandicapRecords = { recognitions: this.of('hsRecognition', ssin, k), rights: this.of('hsRight', ssin, k), payments: this.of('hsPayment', ssin, k), cards: this.of('hsCard', ssin, k) };
    return r.recognitions.length + r.rights.length + r.payments.length + r.cards.length === 0 ? undefined : r;
  }
}
