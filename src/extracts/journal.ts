// The extract journal (contract §6d: "written exactly once, across crashes and instances").
//
// An extract is a batch without a request: one `batches` row holds its lease, reference date,
// ProcessedAt and store version exactly as for a request file (so `batches list|show`, the audit
// query — which counts batches in state DONE — and read model pruning see it like any batch), and
// one `extracts` row (migration 011) carries the unique key (client, year) and the facts fixed at
// the claim that a batch row has no column for: the client's CBE and sector and the
// authorization it runs under. Both rows are inserted in one transaction; of two instances
// claiming the same (client, year), the unique key lets exactly one commit.
//
// While CLAIMED the batch row has no client_id and its claim_name is `extract:<client>:<year>`:
// the spool's recovery (which takes over expired CLAIMED rows of a client that have a claim
// name, to re-run their request file) and the sweep of abandoned `process` runs (rows without a
// claim name) therefore never touch it. The client id is set when it completes.
//
// An extract given up after its attempts (run.ts, the request batches' retry policy) ends with
// its batch FAILED, the fault's code and the attempts run, and gets its client id; nothing
// retries it until an operator re-opens it (reopenExtract): CLAIMED again, holder-less, for the
// next run, which writes the same bytes.
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import type { Authorization } from '../interfaces.js';
import { dbInstant } from '../journal/dbClock.js';
import { redact } from '../log/logger.js';
import { DEFAULT_LEASE_SECONDS, toRecord, type BatchRecord, type BatchRow } from '../journal/record.js';
import { leaseLost } from '../journal/leaseLost.js';

export const EXTRACTS_TABLE = 'extracts';

/** `EXTRACT-<client_id>-<YYYY>`: the ExtractId in the header, and the file name without `.xml`. */
export function extractId(clientId: string, year: number): string {
  return `EXTRACT-${clientId}-${String(year).padStart(4, '0')}`;
}

export function extractFileName(clientId: string, year: number): string {
  return `${extractId(clientId, year)}.xml`;
}

/** The claim marker of an extract's batch row (never a request claim name: those end in .xml.ldm-processing…). */
export const EXTRACT_CLAIM_PREFIX = 'extract:';

export function extractClaimName(clientId: string, year: number): string {
  return `${EXTRACT_CLAIM_PREFIX}${clientId}:${year}`;
}

/** What an extract was claimed with: everything a re-run needs to write the same bytes. */
export interface ExtractRecord {
  id: number;
  clientId: string;
  year: number;
  extractId: string;
  cbeNumber: string;
  sector: number;
  authorization: Authorization;
  createdAt: string;
  batch: BatchRecord;
}

interface ExtractRow {
  id: number | string;
  client_id: string;
  year: number | string;
  extract_id: string;
  batch_id: number | string;
  cbe_number: string;
  sector: number | string;
  legal_context: string;
  deliberation: string | null;
  quality_codes: string;
  fields: string;
  created_at: string;
}

const list = (s: string): string[] => s.split(/\s+/).filter((x) => x.length > 0);

async function toExtract(db: Db, r: ExtractRow): Promise<ExtractRecord> {
  const b: BatchRow | undefined = await db('batches').where({ id: Number(r.batch_id) }).first();
  if (b === undefined) throw new Error(`extract ${r.extract_id}: its batch ${r.batch_id} is missing from the journal`);
  return {
    id: Number(r.id),
    clientId: r.client_id,
    year: Number(r.year),
    extractId: r.extract_id,
    cbeNumber: r.cbe_number,
    sector: Number(r.sector),
    authorization: {
      service: 'LivingWagesWithAmount',
      legalContext: r.legal_context,
      deliberation: r.deliberation,
      qualityCodes: list(r.quality_codes).map(Number),
      fields: list(r.fields),
    },
    createdAt: r.created_at,
    batch: toRecord(b),
  };
}

/** The extract of a client and year, if it was ever claimed. */
export async function findExtract(db: Db, clientId: string, year: number): Promise<ExtractRecord | undefined> {
  const r: ExtractRow | undefined = await db(EXTRACTS_TABLE).where({ client_id: clientId, year }).first();
  return r === undefined ? undefined : toExtract(db, r);
}

/** Every extract, newest first (for `extract list`). */
export async function listExtracts(db: Db, limit = 100): Promise<ExtractRecord[]> {
  const rows: ExtractRow[] = await db(EXTRACTS_TABLE).orderBy('id', 'desc').limit(limit);
  const out: ExtractRecord[] = [];
  for (const r of rows) out.push(await toExtract(db, r));
  return out;
}

export interface ExtractClaim {
  clientId: string;
  year: number;
  cbeNumber: string;
  sector: number;
  authorization: Authorization;
  referenceDate: string;
  processedAt: string;
  /** The store version the extract reads (the read model it was checked against). */
  storeVersion: number;
  instanceId: string;
  leaseSeconds?: number;
}

/** Raised inside the claim transaction when another claim of the same (client, year) committed first. */
class ClaimTaken extends Error {}

/**
 * Claims (client, year): inserts the batch row and the extract row in one transaction. Undefined
 * when the extract was already claimed (by another instance, or earlier): nothing is inserted.
 */
export async function claimExtract(db: Db, c: ExtractClaim): Promise<ExtractRecord | undefined> {
  const id = extractId(c.clientId, c.year);
  try {
    await db.transaction(async (trx: Knex.Transaction) => {
      const [row] = await trx('batches')
        .insert({
          client_id: null,
          file_name: id,
          size: 0,
          sha256: '',
          service: 'LivingWagesWithAmount',
          state: 'CLAIMED',
          reference_date: c.referenceDate,
          processed_at: c.processedAt,
          response_name: `${id}.xml`,
          instance_id: c.instanceId,
          claim_name: extractClaimName(c.clientId, c.year),
          store_version: c.storeVersion,
          lease_until: dbInstant(db, c.leaseSeconds ?? DEFAULT_LEASE_SECONDS),
          created_at: dbInstant(db),
          updated_at: dbInstant(db),
        })
        .returning('id');
      const batchId = Number(typeof row === 'object' && row !== null ? (row as { id: number | string }).id : row);
      const inserted = await trx(EXTRACTS_TABLE)
        .insert({
          client_id: c.clientId,
          year: c.year,
          extract_id: id,
          batch_id: batchId,
          cbe_number: c.cbeNumber,
          sector: c.sector,
          legal_context: c.authorization.legalContext,
          deliberation: c.authorization.deliberation,
          quality_codes: c.authorization.qualityCodes.join(' '),
          fields: c.authorization.fields.join(' '),
          created_at: dbInstant(db),
        })
        .onConflict(['client_id', 'year'])
        .ignore()
        .returning('id');
      if (inserted.length === 0) throw new ClaimTaken(); // rolls the batch row back too
    });
  } catch (err) {
    if (err instanceof ClaimTaken) return undefined;
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
  return findExtract(db, c.clientId, c.year);
}

/** A concurrent claim can also surface as the unique key's error (e.g. SQLite without the conflict clause's effect). */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || (typeof e.message === 'string' && /UNIQUE constraint failed: extracts\./.test(e.message));
}

/**
 * Gives an extract up (its attempts are used up, or its fault is one no retry will change): the
 * batch ends FAILED with the fault's code, what happened and the attempts actually run, as a
 * request batch given up does (journal/failBatch.ts), and gets its client id (so `batches list
 * --client` shows it; recovery and the abandoned-run sweep only look at CLAIMED rows). Nothing
 * retries a FAILED extract: the resume only takes CLAIMED ones, and a run of the same client and
 * year refuses it (EXTRACT_GIVEN_UP) until an operator re-opens it (reopenExtract). LEASE_LOST
 * when this instance no longer holds it (nothing is changed then).
 */
export async function giveUpExtract(db: Db, batchId: number, instanceId: string, f: { clientId: string; errorCode: string; error: string; attempts: number }): Promise<void> {
  const n = await db('batches')
    .where({ id: batchId, state: 'CLAIMED', instance_id: instanceId })
    .update({
      state: 'FAILED',
      client_id: f.clientId,
      error_code: f.errorCode.slice(0, 32),
      error: redact(f.error),
      attempts: f.attempts,
      lease_until: null,
      updated_at: dbInstant(db),
    });
  if (n !== 1) throw leaseLost(batchId, instanceId, 'recording that its extract was given up');
}

/**
 * An operator's re-opening of a given-up extract (once the cause is fixed): the batch is CLAIMED
 * again with no holder, no client id (see the head of this file) and no attempt, so the next run
 * — a daemon's poll tick or `extract run` — takes it over and writes the same bytes from what the
 * claim fixed (reference date, ProcessedAt, store version, authorization). The attempt limit and
 * `retry.maxSeconds` count afresh from now. The last fault stays in `error`. False when it was not
 * FAILED (re-opened or finished meanwhile).
 */
export async function reopenExtract(db: Db, batchId: number): Promise<boolean> {
  const n = await db('batches')
    .where({ id: batchId, state: 'FAILED' })
    .whereLike('claim_name', 'extract:%')
    .update({ state: 'CLAIMED', client_id: null, instance_id: null, lease_until: null, attempts: 0, error_code: null, created_at: dbInstant(db), updated_at: dbInstant(db) });
  return n === 1;
}

/** Per client: extracts waiting for a retry after a fault (CLAIMED with a fault recorded) and extracts given up (FAILED), for the metrics. */
export async function extractBacklog(db: Db): Promise<Map<string, { inRetry: number; givenUp: number }>> {
  const rows: { client_id: string; state: string; n: number | string }[] = await db('extracts as e')
    .join('batches as b', 'b.id', 'e.batch_id')
    .where((q) => q.where('b.state', 'FAILED').orWhere((q2) => q2.where('b.state', 'CLAIMED').whereNotNull('b.error_code')))
    .groupBy('e.client_id', 'b.state')
    .select('e.client_id', 'b.state', db.raw('count(*) as n'));
  const out = new Map<string, { inRetry: number; givenUp: number }>();
  for (const r of rows) {
    const c = out.get(r.client_id) ?? { inRetry: 0, givenUp: 0 };
    if (r.state === 'FAILED') c.givenUp += Number(r.n);
    else c.inRetry += Number(r.n);
    out.set(r.client_id, c);
  }
  return out;
}
