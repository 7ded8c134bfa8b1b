// The packed audit's statements, shared by the writers (record.ts), the migration and retention.
import type { Knex } from 'knex';
import { AUDIT_BATCHES, AUDIT_PERSONS } from './packed.js';
import { isSqlite } from '../store/db.js';

/** One row of audit_batches as the database returns it. */
export interface BatchRow {
  batch_id: number | string;
  client_id: string;
  client_name: string | null;
  client_cbe: string | null;
  service: string;
  legal_context: string;
  deliberation: string | null;
  consulted_at: string;
}

/** What every line of one batch shares (one audit_batches row). */
export interface BatchFacts {
  batchId: number;
  clientId: string;
  service: string;
  legalContext: string;
  deliberation: string | null;
  consultedAt: string;
}

/** The rows of a knex.raw result, on SQLite (an array) and PostgreSQL ({ rows }). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Rows of audit_persons per statement (they travel as one JSON parameter, the blobs as hex). */
export const PERSONS_PER_STATEMENT = 20_000;

/**
 * Writes the batch row unless it is there. The institution's name and CBE are copied from
 * `clients` as they are now, so the register still names it after the client is gone.
 */
export async function insertBatchRow(db: Knex | Knex.Transaction, f: BatchFacts): Promise<void> {
  await db.raw(
    `INSERT INTO ${AUDIT_BATCHES} (batch_id, client_id, client_name, client_cbe, service, legal_context, deliberation, consulted_at) ` +
      `SELECT CAST(? AS INTEGER), ?, (SELECT name FROM clients WHERE client_id = ?), (SELECT cbe_number FROM clients WHERE client_id = ?), ?, ?, ?, ? ` +
      `WHERE true ON CONFLICT (batch_id) DO NOTHING`,
    [f.batchId, f.clientId, f.clientId, f.clientId, f.service, f.legalContext, f.deliberation, f.consultedAt],
  );
}

/**
 * Person rows to write: SSIN and blob per row. The audit sink gives them packed (one buffer of
 * blobs, no object per person: a write holds tens of thousands of persons); others pass tuples.
 */
export interface PersonBlobs {
  readonly length: number;
  /** 11 digits. */
  ssinAt(i: number): string;
  /** The blob. */
  blobAt(i: number): Uint8Array;
  /**
   * The same rows as arrays, when the rows hold them so (the audit sink): SSINs as numbers (written
   * without a string), and the blobs back to back in `blobs`, row i's ending at `ends[i]` — read
   * in place, no view and no boxed number per row.
   */
  readonly packed?: { readonly keys: Float64Array; readonly ends: Uint32Array; readonly blobs: Uint8Array };
}

function tuples(rows: readonly [ssin: string, lines: Buffer][]): PersonBlobs {
  return { length: rows.length, ssinAt: (i) => rows[i][0], blobAt: (i) => rows[i][1] };
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const JSON_PARTS = {
  sqlite: { open: ascii('['), mid: ascii(',"'), close: ascii('"]') },
  postgres: { open: ascii('{"s":'), mid: ascii(',"h":"'), close: ascii('"}') },
};

/**
 * The JSON parameter of rows [from, to): SSINs as strings (anything but 11 digits quoted by
 * JSON.stringify), blobs in hex. Written as bytes in one buffer: a string or two per person cost
 * about as much as the database's own work on them. SQLite takes the bytes as they are (a blob,
 * cast to text in the statement); PostgreSQL's driver needs a string.
 */
function personsJson(rows: PersonBlobs, from: number, to: number, sqlite: boolean): Buffer | string {
  const parts = sqlite ? JSON_PARTS.sqlite : JSON_PARTS.postgres;
  let out = Buffer.allocUnsafe(64 * (to - from) + 2);
  let u = 0;
  const room = (n: number): void => {
    if (u + n <= out.length) return;
    const bigger = Buffer.allocUnsafe(2 * (u + n));
    out.copy(bigger, 0, 0, u);
    out = bigger;
  };
  const put = (b: Uint8Array): void => {
    for (let k = 0; k < b.length; k++) out[u++] = b[k];
  };
  room(1);
  out[u++] = 0x5b; // [
  const packed = rows.packed;
  if (packed !== undefined) {
    // Room for all at once: the rows' sizes are known (13 bytes a quoted SSIN, 2 a blob byte).
    const { ends } = packed;
    const blobBytes = (to === 0 ? 0 : ends[to - 1]) - (from === 0 ? 0 : ends[from - 1]);
    room(64 + (to - from) * (16 + parts.open.length + parts.mid.length + parts.close.length) + 2 * blobBytes);
  }
  for (let i = from; i < to; i++) {
    const key = packed === undefined ? -1 : packed.keys[i];
    const raw = key >= 0 ? '' : rows.ssinAt(i);
    const quoted = key >= 0 || /^\d{11}$/.test(raw) ? undefined : Buffer.from(JSON.stringify(raw), 'utf8');
    // the blob: in place in the packed rows (no view per row), else as given
    const blob = packed === undefined ? rows.blobAt(i) : packed.blobs;
    const blobFrom = packed === undefined ? 0 : i === 0 ? 0 : packed.ends[i - 1];
    const blobTo = packed === undefined ? blob.length : packed.ends[i];
    if (packed === undefined) room((quoted?.length ?? 13) + 2 * blob.length + 16);
    if (i > from) out[u++] = 0x2c; // ,
    put(parts.open);
    if (quoted !== undefined) put(quoted);
    else if (key >= 0) {
      // the 11 digits of the number, last first: two halves that stay small integers
      out[u] = out[u + 12] = 0x22;
      let lo = key % 1_000_000;
      let hi = (key - lo) / 1_000_000;
      for (let k = 11; k > 5; k--, lo = (lo - (lo % 10)) / 10) out[u + k] = 0x30 + (lo % 10);
      for (let k = 5; k > 0; k--, hi = (hi - (hi % 10)) / 10) out[u + k] = 0x30 + (hi % 10);
      u += 13;
    } else {
      out[u++] = 0x22;
      for (let k = 0; k < 11; k++) out[u++] = raw.charCodeAt(k);
      out[u++] = 0x22;
    }
    put(parts.mid);
    for (let k = blobFrom; k < blobTo; k++) {
      out[u++] = HEX[blob[k] >> 4];
      out[u++] = HEX[blob[k] & 15];
    }
    put(parts.close);
  }
  room(1);
  out[u++] = 0x5d; // ]
  return sqlite ? out.subarray(0, u) : out.toString('utf8', 0, u);
}

/**
 * Upserts person rows of one batch. `append`: a row already there gets the new blob appended (the
 * caller guarantees the lines are new: the sink after forgetting the batch, the migration in seq
 * order); `replace`: the row becomes the given blob (the caller merged it with what was there).
 * Every SSIN at most once per call.
 */
export async function upsertPersons(db: Knex | Knex.Transaction, batchId: number, given: readonly [ssin: string, lines: Buffer][] | PersonBlobs, mode: 'append' | 'replace' = 'append'): Promise<void> {
  const rows = Array.isArray(given) ? tuples(given) : (given as PersonBlobs);
  const sqlite = isSqlite(db as Knex);
  const merged = mode === 'replace' ? 'excluded.lines' : sqlite ? `CAST(${AUDIT_PERSONS}.lines || excluded.lines AS BLOB)` : `${AUDIT_PERSONS}.lines || excluded.lines`;
  const sql = sqlite
    ? `INSERT INTO ${AUDIT_PERSONS} (ssin, batch_id, lines) SELECT json_extract(value, '$[0]'), CAST(? AS INTEGER), unhex(json_extract(value, '$[1]')) FROM json_each(CAST(? AS TEXT)) WHERE true ` +
      `ORDER BY 1 ON CONFLICT (ssin, batch_id) DO UPDATE SET lines = ${merged}`
    : `INSERT INTO ${AUDIT_PERSONS} (ssin, batch_id, lines) SELECT x.s, CAST(? AS INTEGER), decode(x.h, 'hex') FROM jsonb_to_recordset(?::jsonb) AS x(s text, h text) ` +
      `ON CONFLICT (ssin, batch_id) DO UPDATE SET lines = ${merged}`;
  for (let i = 0; i < rows.length; i += PERSONS_PER_STATEMENT) {
    await db.raw(sql, [batchId, personsJson(rows, i, Math.min(rows.length, i + PERSONS_PER_STATEMENT), sqlite)]);
  }
}

/** Removes every row of a batch, persons and batch row. */
export async function deleteBatch(db: Knex | Knex.Transaction, batchId: number): Promise<void> {
  await db(AUDIT_PERSONS).where('batch_id', batchId).delete();
  await db(AUDIT_BATCHES).where('batch_id', batchId).delete();
}
