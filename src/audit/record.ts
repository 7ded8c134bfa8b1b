// Writes audit entries (logging principle): one per answered request line, stored packed
// (audit/packed.ts): one row per batch, one row per (SSIN, batch) with that person's lines.
import type { Knex } from 'knex';
import type { ServiceName, StatusCode } from '../interfaces.js';
import { AUDIT_PERSONS, MAX_LINE_BYTES, STATUS_CODES, packLine, unpackLines, mergeBlobs, writeLine } from './packed.js';
import { deleteBatch, insertBatchRow, upsertPersons, type BatchFacts, type PersonBlobs } from './write.js';
import { isSqlite, siblingConnection } from '../store/db.js';
import { LdmError } from '../errors.js';
import { crashPoint } from '../pipeline/crashPoint.js';
import { ssinText } from '../domain/ssin.js';

/**
 * Run first in every audit transaction of a journal batch: throws (LEASE_LOST) when this instance
 * no longer holds the batch. Without it a holder frozen past its lease would, on waking, write its
 * entries next to the new holder's (doubled) or remove them. The fence's update of the batch row
 * also holds that row until the transaction ends, so a take-over cannot land in the middle of a write.
 */
export type AuditFence = (trx: Knex.Transaction) => Promise<void>;

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

/** SSINs read back per statement when merging (recordAudit). */
const SSINS_PER_READ = 500;

function sameFacts(a: BatchFacts, e: AuditEntry): boolean {
  return a.clientId === e.clientId && a.service === e.service && a.legalContext === e.legalContext && a.deliberation === e.deliberation && a.consultedAt === e.consultedAt;
}

/**
 * Stores entries in one transaction (a savepoint when `db` already is one), so they are written
 * completely or not at all. Entries already present for the same (batchId, seq) are left as they
 * are (a re-run of a crashed batch); every entry of a batch must share client, service, legal
 * context, deliberation and time (they are stored once per batch).
 */
export async function recordAudit(db: Knex | Knex.Transaction, entries: AuditEntry[], fence?: AuditFence): Promise<void> {
  if (entries.length === 0) return;
  const byBatch = new Map<number, AuditEntry[]>();
  for (const e of entries) {
    const list = byBatch.get(e.batchId);
    if (list) list.push(e);
    else byBatch.set(e.batchId, [e]);
  }
  await db.transaction(async (trx) => {
    await fence?.(trx);
    for (const [batchId, list] of byBatch) {
      const facts: BatchFacts = { batchId, clientId: list[0].clientId, service: list[0].service, legalContext: list[0].legalContext, deliberation: list[0].deliberation, consultedAt: list[0].consultedAt };
      const odd = list.find((e) => !sameFacts(facts, e));
      if (odd) throw new LdmError('AUDIT_MIXED_BATCH', `audit entries of batch ${batchId} differ in client, service, legal context, deliberation or time; a batch is audited under one of each`);
      await insertBatchRow(trx, facts);
      const persons = new Map<string, number[]>();
      for (const e of list) {
        let bytes = persons.get(e.ssin);
        if (bytes === undefined) persons.set(e.ssin, (bytes = []));
        packLine(bytes, e.seq, e.qualityCode, e.statusCode);
      }
      const ssins = [...persons.keys()];
      const existing = new Map<string, Buffer>();
      for (let i = 0; i < ssins.length; i += SSINS_PER_READ) {
        const rows = (await trx(AUDIT_PERSONS).where('batch_id', batchId).whereIn('ssin', ssins.slice(i, i + SSINS_PER_READ)).select('ssin', 'lines')) as { ssin: string; lines: Buffer }[];
        for (const r of rows) existing.set(r.ssin, r.lines);
      }
      const rows: [string, Buffer][] = ssins.map((s) => {
        const added = Buffer.from(persons.get(s) as number[]);
        const kept = existing.get(s);
        // Within this call a seq given twice keeps its first entry, like a repeat across calls.
        return [s, kept === undefined ? dedupe(added) : mergeBlobs(kept, added)];
      });
      await upsertPersons(trx, batchId, rows, 'replace');
    }
  });
}

function dedupe(blob: Buffer): Buffer {
  const out: number[] = [];
  for (const l of unpackLines(blob)) packLine(out, l.seq, l.qualityCode, l.statusCode);
  return Buffer.from(out);
}

/** What every entry of one batch and service shares. */
export type AuditBatchFields = Pick<AuditEntry, 'batchId' | 'clientId' | 'service' | 'legalContext' | 'deliberation' | 'consultedAt'>;

/**
 * Lines per write (the persons of that many lines become one statement per 20,000 persons). A
 * person's lines are spread over a batch, so each write updates the rows of persons met before and
 * rewrites most of the batch's pages (its checkpoint too): fewer, bigger writes do less of that.
 * 262,144 rather than 65,536 (alternating million-line runs): 0.3–0.4 s less system time (fewer
 * checkpoints) and the answer waits ~0.1 s less for the audit, for ~15 MB more peak RSS (237 MB on
 * the national store; README "Benchmark").
 */
const LINES_PER_FLUSH = 262_144;
/**
 * An early write (AuditSink.ahead) takes at least this many lines: below it, a write's fixed cost
 * (transaction, checkpoint) outweighs what it saves at the end.
 */
const EARLY_MIN_LINES = 16_384;
/** Page cache of the audit writer's own SQLite connection: the (ssin, batch) index is written at random places. */
const WRITER_CACHE_KIB = 4 * 1024;

/**
 * The lines of one write, in typed arrays (about 21 bytes a line, no object per line): the SSIN as
 * a number (11 digits fit a double exactly), seq, status (index in the packed table, 255 = see
 * `other`), quality code (-1 = none).
 */
class LineBuffer {
  readonly ssin: Float64Array;
  readonly seq: Float64Array;
  readonly status: Uint8Array;
  readonly quality: Int32Array;
  readonly other = new Map<number, string>();
  length = 0;
  constructor(capacity: number) {
    this.ssin = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.status = new Uint8Array(capacity);
    this.quality = new Int32Array(capacity);
  }
}

const STATUS_BYTE = new Map(STATUS_CODES.map((c, i) => [c, i]));

/** Digits of the radix sort in groupBySsin: 3 passes of 13 bits cover SSIN numbers below 2^39 (11 digits). */
const RADIX_BITS = 13;
const RADIX = 1 << RADIX_BITS;
const RADIX_PASSES = 3;
/** Bytes kept free in a write's blob buffer before each entry: the longest, with an escaped status, is 79 (seq 8 + 2 + code 64 + quality 5). */
const ENTRY_ROOM = MAX_LINE_BYTES + 66;

/**
 * Line indexes [0, n) ordered by SSIN, lines of one SSIN in index order: a least-significant-digit
 * radix sort (three stable counting passes: half the time of a native sort of the SSINs and a
 * binary search per line, 0.20 → 0.10 s per million lines). SSINs are numbers of 11 digits at most (AuditSink.add).
 */
export function groupBySsin(ssin: Float64Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  const digit = new Uint16Array(n);
  const start = new Uint32Array(RADIX);
  for (let i = 0; i < n; i++) {
    const v = ssin[i];
    if (!(v >= 0 && v < 2 ** (RADIX_BITS * RADIX_PASSES) && Number.isInteger(v))) throw new RangeError('an audited SSIN is a number of 11 digits at most');
    order[i] = i;
  }
  for (let pass = 0, scale = 1; pass < RADIX_PASSES; pass++, scale *= RADIX) {
    start.fill(0);
    for (let i = 0; i < n; i++) {
      const d = Math.floor(ssin[i] / scale) % RADIX;
      digit[i] = d;
      start[d]++;
    }
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = start[d];
      start[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k];
      next[start[digit[i]]++] = i;
    }
    const t = order;
    order = next;
    next = t;
  }
  return order;
}

/**
 * The audit entries of one batch, written packed in big batches while the lines go on being resolved.
 *
 * Guarantee (logging principle): every entry added is stored once `close()` has resolved; the
 * resolver awaits it before its last line reaches the writer, so a response is never signed,
 * let alone published, before its log.
 *
 * A run starts over: its first write removes what an earlier run of the same batch (a crash, a
 * take-over) left and writes the batch row, in one transaction; later writes append each
 * person's new lines to their row (a person met in several writes keeps one row). Lines wait in
 * typed arrays and are grouped by SSIN (sorted) when written. On SQLite the writes go through a
 * second connection (SQLite runs it in its own thread) and the WAL is restarted after each one.
 *
 * At most one write runs at a time; `add` returns a promise to await when the next one is due
 * while one still runs (backpressure: memory stays bounded by two writes' lines).
 */
export class AuditSink {
  private buffer: LineBuffer;
  private started = false;
  /** The last write queued (chained after the one before it). */
  private running: Promise<void> | undefined;
  /** Writes queued and not yet done. */
  private queued = 0;
  private failure: unknown;
  private readonly perFlush: number;
  private readonly sqlite: boolean;
  private writer: { db: Knex; release: () => Promise<void> } | undefined;
  private readonly fence: AuditFence | undefined;

  constructor(
    private readonly db: Knex,
    private readonly fields: AuditBatchFields,
    opts: { rowsPerFlush?: number; fence?: AuditFence } = {},
  ) {
    this.sqlite = isSqlite(db);
    this.fence = opts.fence;
    this.perFlush = opts.rowsPerFlush ?? LINES_PER_FLUSH;
    this.buffer = new LineBuffer(Math.min(this.perFlush, 4096));
  }

  /** Adds one entry; when a write is due, returns a promise that resolves once it may proceed. */
  add(seq: number, ssin: string, qualityCode: number | null, statusCode: StatusCode): Promise<void> | undefined {
    // Only lines with a valid SSIN are audited: 11 digits.
    if (!/^\d{11}$/.test(ssin)) throw new RangeError('an audited SSIN has 11 digits');
    return this.addKey(seq, Number(ssin), qualityCode, statusCode);
  }

  /**
   * `add` with the SSIN as its 11-digit number (the read model's key, ssinKey), for a resolver that
   * has it already: no second parse of the text per line.
   */
  addKey(seq: number, ssinKey: number, qualityCode: number | null, statusCode: StatusCode): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (!(Number.isInteger(ssinKey) && ssinKey >= 0 && ssinKey < 1e11)) throw new RangeError('an audited SSIN has 11 digits');
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`audit seq must be a non-negative integer, got ${seq}`);
    if (qualityCode !== null && (!Number.isInteger(qualityCode) || qualityCode < 0 || qualityCode > 0x7fffffff)) throw new RangeError(`audit quality code must be a non-negative integer, got ${qualityCode}`);
    let b = this.buffer;
    if (b.length === b.ssin.length) b = this.grow();
    const i = b.length++;
    b.ssin[i] = ssinKey;
    b.seq[i] = seq;
    const s = STATUS_BYTE.get(statusCode);
    b.status[i] = s ?? 255;
    if (s === undefined) b.other.set(i, statusCode);
    b.quality[i] = qualityCode ?? -1;
    return b.length >= this.perFlush ? this.flush() : undefined;
  }

  /**
   * Told, as lines go on being added, how many may still come: when no write is under way and
   * those waiting are at least twice that many, they are written now, while the last lines are
   * answered. The answer then waits at the end for a smaller last write than one of up to
   * LINES_PER_FLUSH lines: the early one is done before the end when an audit line is written in
   * under half the time a line takes to answer (on the bench machine it took ~0.55, so the early
   * write often ended just after the last line; README "Benchmark"). Never waits.
   */
  ahead(remaining: number): void {
    if (this.queued > 0 || this.failure !== undefined) return;
    const waiting = this.buffer.length;
    if (waiting < EARLY_MIN_LINES || waiting < 2 * remaining) return;
    this.flush().catch(() => undefined); // a failure is kept in `failure`: the next add or close throws it
  }

  private grow(): LineBuffer {
    const old = this.buffer;
    const b = new LineBuffer(Math.min(this.perFlush, 2 * old.ssin.length));
    b.ssin.set(old.ssin);
    b.seq.set(old.seq);
    b.status.set(old.status);
    b.quality.set(old.quality);
    for (const [k, v] of old.other) b.other.set(k, v);
    b.length = old.length;
    this.buffer = b;
    return b;
  }

  /**
   * One row per SSIN: the blob of its lines, in the order they were added (seq order). Packed: the
   * SSINs in a typed array and the blobs in one buffer (a write holds up to LINES_PER_FLUSH lines;
   * a tuple and a Buffer per person made tens of MB of heap).
   */
  private static rows(b: LineBuffer): PersonBlobs {
    const order = groupBySsin(b.ssin, b.length);
    const ssins = new Float64Array(b.length);
    const ends = new Uint32Array(b.length);
    let blobs = Buffer.allocUnsafe(4 * b.length + 64);
    let used = 0;
    let persons = 0;
    const escaped: number[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (used + ENTRY_ROOM > blobs.length) {
        const bigger = Buffer.allocUnsafe(2 * (used + ENTRY_ROOM));
        blobs.copy(bigger, 0, 0, used);
        blobs = bigger;
      }
      const st = b.status[i];
      const q = b.quality[i];
      if (st !== 255) used = writeLine(blobs, used, b.seq[i], st, q < 0 ? 0 : q + 1);
      else {
        // a status outside the table: packLine's escape
        packLine(escaped, b.seq[i], q < 0 ? null : q, b.other.get(i) as string);
        for (let j = 0; j < escaped.length; j++) blobs[used++] = escaped[j];
        escaped.length = 0;
      }
      if (k + 1 === order.length || b.ssin[order[k + 1]] !== b.ssin[i]) {
        ssins[persons] = b.ssin[i];
        ends[persons++] = used;
      }
    }
    const packed = blobs;
    return {
      length: persons,
      ssinAt: (p) => ssinText(ssins[p]),
      blobAt: (p) => packed.subarray(p === 0 ? 0 : ends[p - 1], ends[p]),
      packed: { keys: ssins, ends, blobs: packed },
    };
  }

  /**
   * Queues a write of what was added by the time the write under way ends; resolves once it has
   * started (throws the first write error). Queued at once, so a flush asked for meanwhile (by
   * `ahead`, then by `add`) comes after it: one write at a time, in order.
   */
  private flush(): Promise<void> {
    const previous = this.running;
    this.queued++;
    let started: () => void = () => undefined;
    const start = new Promise<void>((resolve) => (started = resolve));
    this.running = (async (): Promise<void> => {
      try {
        if (previous) await previous;
        if (this.failure !== undefined) return;
        const b = this.buffer;
        if (b.length === 0) return;
        this.buffer = new LineBuffer(b.ssin.length);
        const rows = AuditSink.rows(b);
        started();
        await this.write(rows);
      } catch (err) {
        this.failure ??= err;
      } finally {
        this.queued--;
        started();
      }
    })();
    return start.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
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

  private async write(rows: PersonBlobs): Promise<void> {
    const f = this.fields;
    let db: Knex = this.db;
    if (this.sqlite && this.writer === undefined) {
      this.writer = siblingConnection(this.db);
      if (this.writer.db !== this.db) await this.writer.db.raw(`PRAGMA cache_size=-${WRITER_CACHE_KIB}`);
    }
    if (this.sqlite) db = (this.writer as { db: Knex }).db;
    crashPoint('audit-write');
    await db.transaction(async (trx) => {
      await this.fence?.(trx);
      if (!this.started) {
        await deleteBatch(trx, f.batchId);
        await insertBatchRow(trx, f);
      }
      crashPoint('audit-writing');
      await upsertPersons(trx, f.batchId, rows, 'append');
    });
    this.started = true;
    if (this.sqlite) {
      // SQLite's automatic checkpoints copy the WAL back but can only start it over at a moment
      // when no reader uses it, and the lookups read all the time: without this the WAL grew with
      // the batch. The entries are stored already: a checkpoint that cannot run now (busy) must
      // not fail the batch.
      await db.raw('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
    }
  }
}

/** Removes every entry of a batch (one that turned out not to be answered: nothing was disclosed). */
export async function forgetAudit(db: Knex | Knex.Transaction, batchId: number, fence?: AuditFence): Promise<void> {
  await db.transaction(async (trx) => {
    await fence?.(trx);
    await deleteBatch(trx, batchId);
  });
}
