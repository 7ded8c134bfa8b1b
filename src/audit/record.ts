// Writes audit entries (logging principle). One entry per answered request line.
import type { Knex } from 'knex';
import type { ServiceName, StatusCode } from '../interfaces.js';
import { AUDIT_TABLE } from './migration.js';
import { isSqlite, siblingConnection } from '../store/db.js';

export interface AuditEntry {
  batchId: number;
  /** The request line's seq: (batchId, seq) identifies an entry, so re-runs do not double it. */
  seq: number;
  clientId: string;
  service: ServiceName;
  legalContext: string;
  deliberation: string | null;
  ssin: string;
  /** Quality code of the integration that allowed the line (findIntegration); null when none. */
  qualityCode: number | null;
  statusCode: StatusCode;
  /** ISO instant; use the batch's ProcessedAt so a re-run writes the same entry. */
  consultedAt: string;
}

const COLUMNS = 10;
/** SQLite's historical default is 999 bound variables per statement; stay below it with margin. */
const MAX_VARIABLES = 990;
export const AUDIT_ROWS_PER_INSERT = Math.floor(MAX_VARIABLES / COLUMNS);

function toRow(e: AuditEntry): Record<string, string | number | null> {
  return {
    batch_id: e.batchId,
    seq: e.seq,
    client_id: e.clientId,
    service: e.service,
    legal_context: e.legalContext,
    deliberation: e.deliberation,
    ssin: e.ssin,
    quality_code: e.qualityCode,
    status_code: e.statusCode,
    consulted_at: e.consultedAt,
  };
}

/**
 * Multi-row inserts in chunks, all in one transaction (a savepoint when `db` already is one), so
 * a batch's audit trail is written completely or not at all. Entries already present for the
 * same (batchId, seq) are left as they are.
 */
export async function recordAudit(db: Knex | Knex.Transaction, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.transaction(async (trx) => {
    for (let i = 0; i < entries.length; i += AUDIT_ROWS_PER_INSERT) {
      const rows = entries.slice(i, i + AUDIT_ROWS_PER_INSERT).map(toRow);
      await trx(AUDIT_TABLE).insert(rows).onConflict(['batch_id', 'seq']).ignore();
    }
  });
}

/** What every entry of one batch and service shares. */
export type AuditBatchFields = Pick<AuditEntry, 'batchId' | 'clientId' | 'service' | 'legalContext' | 'deliberation' | 'consultedAt'>;

/** Rows per statement on SQLite (they travel as one JSON parameter; ≈ 40 bytes a row). */
const SQLITE_ROWS_PER_FLUSH = 65_536;

const INSERT_SQLITE =
  `INSERT INTO ${AUDIT_TABLE} (batch_id, seq, client_id, service, legal_context, deliberation, ssin, quality_code, status_code, consulted_at) ` +
  `SELECT ?, json_extract(value, '$[0]'), ?, ?, ?, ?, json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), ? ` +
  `FROM json_each(?) WHERE true ORDER BY json_extract(value, '$[1]') ON CONFLICT (batch_id, seq) DO NOTHING`;

type SinkRow = [seq: number, ssin: string, qualityCode: number | null, statusCode: string];

/**
 * The audit entries of one batch, written in big batches while the lines go on being resolved.
 *
 * Guarantee (logging principle): every entry added is stored once `close()` has resolved; the
 * resolver awaits it before its last line reaches the writer, so a response is never signed,
 * let alone published, before its log. A re-run writes the same (batchId, seq) entries, which
 * are then left as they are.
 *
 * On SQLite: one INSERT … SELECT FROM json_each per 64 Ki entries (one statement, so one
 * implicit transaction), sorted by SSIN (the (ssin, consulted_at) index is then filled in
 * order rather than at random), on a second connection so the inserts run in their own thread
 * beside the lookups; the entries wait as JSON text, not as objects. Elsewhere: recordAudit.
 *
 * At most one flush runs at a time; `add` returns a promise to await when the next one is due
 * while one still runs (backpressure: memory stays bounded by two flushes' rows).
 */
export class AuditSink {
  /** SQLite: the pending entries as the inside of a JSON array, in bytes (no JS objects to keep alive). */
  private bytes: Buffer = Buffer.alloc(0);
  private length = 0;
  /** Entries not yet copied into `bytes` (copied in batches: one native call per batch). */
  private text = '';
  private rows: SinkRow[] = [];
  private pending = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;
  private readonly perFlush: number;
  private readonly sqlite: boolean;
  private writer: { db: Knex; release: () => Promise<void> } | undefined;

  constructor(
    private readonly db: Knex,
    private readonly fields: AuditBatchFields,
    opts: { rowsPerFlush?: number } = {},
  ) {
    this.sqlite = isSqlite(db);
    this.perFlush = opts.rowsPerFlush ?? (this.sqlite ? SQLITE_ROWS_PER_FLUSH : 4 * AUDIT_ROWS_PER_INSERT);
  }

  /** Adds one entry; when a flush is due, returns a promise that resolves once it may proceed. */
  add(seq: number, ssin: string, qualityCode: number | null, statusCode: StatusCode): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (this.sqlite) {
      // seq and quality code are numbers, the status a fixed code; an SSIN is digits (quoted anyway otherwise)
      const s = /^[0-9]+$/.test(ssin) ? `"${ssin}"` : JSON.stringify(ssin);
      this.text += `${this.pending === 0 ? '' : ','}[${seq},${s},${qualityCode === null ? 'null' : qualityCode},"${statusCode}"]`;
      if (this.text.length >= 8192) this.keepText();
    } else {
      this.rows.push([seq, ssin, qualityCode, statusCode]);
    }
    this.pending++;
    return this.pending >= this.perFlush ? this.flush() : undefined;
  }

  private keepText(): void {
    const need = this.length + Buffer.byteLength(this.text, 'utf8');
    if (need > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, 2 * this.bytes.length, 1 << 16));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    this.length += this.bytes.write(this.text, this.length, 'utf8');
    this.text = '';
  }

  /** Starts writing what was added (after the running flush); resolves when that one is done. */
  private async flush(): Promise<void> {
    const previous = this.running;
    if (previous) await previous;
    if (this.failure !== undefined) throw this.failure;
    if (this.pending === 0) return;
    this.keepText();
    const json = this.bytes.toString('utf8', 0, this.length);
    const rows = this.rows;
    this.length = 0;
    this.rows = [];
    this.pending = 0;
    const run = this.write(json, rows).catch((err: unknown) => {
      this.failure ??= err;
    });
    this.running = run;
  }

  /** Writes the rest and waits for every write; throws the first write error. */
  async close(): Promise<void> {
    try {
      await this.flush();
      await this.running;
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await this.release();
    }
  }

  /** Waits for the write in progress, if any, without writing the rest (when the batch stops early). */
  async settle(): Promise<void> {
    await this.running;
    await this.release();
  }

  private async release(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    if (w) await w.release();
  }

  private async write(json: string, rows: SinkRow[]): Promise<void> {
    const f = this.fields;
    if (this.sqlite) {
      this.writer ??= siblingConnection(this.db);
      await this.writer.db.raw(INSERT_SQLITE, [f.batchId, f.clientId, f.service, f.legalContext, f.deliberation, f.consultedAt, `[${json}]`]);
      // SQLite's automatic checkpoints copy the WAL back but can only start it over at a moment
      // when no reader uses it, and the lookups read all the time: without this the WAL grew with
      // the batch (476 MB after 90 s of a 5M-line batch). A restart waits only for readers that
      // started before the copy finished (a lookup statement: milliseconds). The entries are
      // stored already: a checkpoint that cannot run now (busy) must not fail the batch.
      await this.writer.db.raw('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
      return;
    }
    await recordAudit(
      this.db,
      rows.map(([seq, ssin, qualityCode, statusCode]) => ({ ...f, seq, ssin, qualityCode, statusCode: statusCode as StatusCode })),
    );
  }
}

/** Removes every entry of a batch (one that turned out not to be answered: nothing was disclosed). */
export async function forgetAudit(db: Knex | Knex.Transaction, batchId: number): Promise<void> {
  await db(AUDIT_TABLE).where({ batch_id: batchId }).delete();
}
