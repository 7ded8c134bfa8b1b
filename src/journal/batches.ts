// The batch journal: one row per request file seen. Every transition names the expected
// previous state and checks the row count, so a stale worker can never overwrite a result.
import type { Db } from '../store/db.js';
import { LdmError } from '../errors.js';
import { redact } from '../log/logger.js';
import type { RejectionCode, StatusCode } from '../interfaces.js';

export type BatchState = 'CLAIMED' | 'DONE' | 'REJECTED' | 'FAILED';

export interface BatchRecord {
  id: number;
  clientId: string | null;
  fileName: string;
  size: number;
  sha256: string;
  fileId: string | null;
  service: string | null;
  state: BatchState;
  referenceDate: string;
  processedAt: string;
  responseName: string | null;
  responseSha256: string | null;
  archiveName: string | null;
  responseCopy: string | null;
  recordCount: number | null;
  statusCounts: Partial<Record<StatusCode, number>>;
  errorCode: string | null;
  error: string | null;
  instanceId: string | null;
  leaseUntil: string | null;
  claimName: string | null;
  deliveredAt: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

interface BatchRow {
  id: number;
  client_id: string | null;
  file_name: string;
  size: number | string;
  sha256: string;
  file_id: string | null;
  service: string | null;
  state: BatchState;
  reference_date: string;
  processed_at: string;
  response_name: string | null;
  response_sha256: string | null;
  archive_name: string | null;
  response_copy: string | null;
  record_count: number | null;
  status_counts: string | null;
  error_code: string | null;
  error: string | null;
  instance_id: string | null;
  lease_until: string | null;
  claim_name: string | null;
  delivered_at: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

function toRecord(r: BatchRow): BatchRecord {
  return {
    id: Number(r.id),
    clientId: r.client_id,
    fileName: r.file_name,
    size: Number(r.size),
    sha256: r.sha256,
    fileId: r.file_id,
    service: r.service,
    state: r.state,
    referenceDate: r.reference_date,
    processedAt: r.processed_at,
    responseName: r.response_name,
    responseSha256: r.response_sha256,
    archiveName: r.archive_name,
    responseCopy: r.response_copy,
    recordCount: r.record_count === null ? null : Number(r.record_count),
    statusCounts: r.status_counts ? (JSON.parse(r.status_counts) as Partial<Record<StatusCode, number>>) : {},
    errorCode: r.error_code,
    error: r.error,
    instanceId: r.instance_id,
    leaseUntil: r.lease_until,
    claimName: r.claim_name,
    deliveredAt: r.delivered_at,
    attempts: Number(r.attempts),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const now = (): string => new Date().toISOString();
const leaseFrom = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString();

/** How long a claim stays valid without a heartbeat; a dead instance's batch is taken over after it. */
export const DEFAULT_LEASE_SECONDS = 120;

export interface ClaimInput {
  clientId: string | null;
  fileName: string;
  size: number;
  sha256: string;
  referenceDate: string;
  processedAt: string;
  responseName: string;
  instanceId: string;
  claimName?: string;
  leaseSeconds?: number;
}

/** Records a claimed file; its reference date and processing time are fixed from here on. */
export async function claimBatch(db: Db, input: ClaimInput): Promise<BatchRecord> {
  const t = now();
  const [row] = await db('batches')
    .insert({
      client_id: input.clientId,
      file_name: input.fileName,
      size: input.size,
      sha256: input.sha256,
      state: 'CLAIMED',
      reference_date: input.referenceDate,
      processed_at: input.processedAt,
      response_name: input.responseName,
      instance_id: input.instanceId,
      claim_name: input.claimName ?? null,
      lease_until: leaseFrom(input.leaseSeconds ?? DEFAULT_LEASE_SECONDS),
      created_at: t,
      updated_at: t,
    })
    .returning('*');
  return toRecord(row as BatchRow);
}

export interface Completion {
  state: 'DONE' | 'REJECTED';
  /** Set when the batch was recorded before its owner or bytes were known (`process`). */
  clientId?: string | null;
  size?: number;
  sha256?: string;
  fileId: string | null;
  service: string | null;
  recordCount: number;
  statusCounts: Partial<Record<StatusCode, number>>;
  errorCode?: RejectionCode | 'REDELIVERY';
  error?: string;
  responseSha256: string;
  archiveName: string | null;
  responseCopy: string | null;
}

/** Extends the lease of a batch this instance holds; false when it lost it. */
export async function heartbeat(db: Db, id: number, instanceId: string, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<boolean> {
  const n = await db('batches').where({ id, state: 'CLAIMED', instance_id: instanceId }).update({ lease_until: leaseFrom(leaseSeconds), updated_at: now() });
  return n === 1;
}

/** Takes over a CLAIMED batch whose lease expired (its holder died); exactly one contender wins. */
export async function takeOver(db: Db, id: number, instanceId: string, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<BatchRecord | undefined> {
  const t = now();
  const n = await db('batches')
    .where({ id, state: 'CLAIMED' })
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', t))
    .update({ instance_id: instanceId, lease_until: leaseFrom(leaseSeconds), attempts: db.raw('attempts + 1'), updated_at: t });
  return n === 1 ? getBatch(db, id) : undefined;
}

/** Records progress of a batch this instance holds (each step is then skipped on a re-run). */
export async function markBatch(
  db: Db,
  id: number,
  instanceId: string,
  step: { sha256?: string; size?: number; claimName?: string; archiveName?: string; deliveredAt?: string },
): Promise<void> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({
      ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}),
      ...(step.size !== undefined ? { size: step.size } : {}),
      ...(step.claimName !== undefined ? { claim_name: step.claimName } : {}),
      ...(step.archiveName !== undefined ? { archive_name: step.archiveName } : {}),
      ...(step.deliveredAt !== undefined ? { delivered_at: step.deliveredAt } : {}),
      updated_at: now(),
    });
  if (n !== 1) throw new LdmError('LEASE_LOST', `batch ${id} is no longer held by instance ${instanceId} (its lease expired and another instance took it over)`);
}

/**
 * Deletes a CLAIMED record of this instance whose claim file another instance's recovery took
 * first (this one stalled past the lease between its rename and its record): it never held the
 * file, did nothing, and must not show up as a second batch of that request.
 */
export async function withdrawClaim(db: Db, id: number, instanceId: string): Promise<boolean> {
  return (await db('batches').where({ id, state: 'CLAIMED', instance_id: instanceId }).del()) === 1;
}

/** Batches of a client still in flight (CLAIMED), for takeover after a crash. */
export async function claimedBatches(db: Db, clientId: string): Promise<BatchRecord[]> {
  const rows: BatchRow[] = await db('batches').where({ client_id: clientId, state: 'CLAIMED' }).orderBy('id');
  return rows.map(toRecord);
}

export async function completeBatch(db: Db, id: number, instanceId: string, c: Completion): Promise<void> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({
      ...(c.clientId !== undefined ? { client_id: c.clientId } : {}),
      ...(c.size !== undefined ? { size: c.size } : {}),
      ...(c.sha256 !== undefined ? { sha256: c.sha256 } : {}),
      state: c.state,
      file_id: c.fileId,
      service: c.service,
      record_count: c.recordCount,
      status_counts: JSON.stringify(c.statusCounts),
      error_code: c.errorCode ?? null,
      error: c.error == null ? null : redact(c.error), // libxml2 and others quote values: never a full SSIN in the journal
      response_sha256: c.responseSha256,
      archive_name: c.archiveName,
      response_copy: c.responseCopy,
      lease_until: null,
      updated_at: now(),
    });
  if (n !== 1) throw new LdmError('JOURNAL_CONFLICT', `batch ${id} is no longer claimed by instance ${instanceId}; its result was not recorded twice`);
}

/** Marks a batch this instance holds FAILED; false when it no longer holds it (nothing is changed then). */
export async function failBatch(db: Db, id: number, instanceId: string, errorCode: string, error: string, archiveName: string | null): Promise<boolean> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({ state: 'FAILED', error_code: errorCode, error: redact(error), archive_name: archiveName, lease_until: null, updated_at: now() });
  return n === 1;
}

/**
 * Earlier answered batches of this sender with this FileId (for re-delivery and FILEID_REUSED).
 * Only answered files reserve a FileId: a rejected file was not processed, so the sender may fix
 * it and send it again under the same FileId.
 */
export async function findAnsweredByFileId(db: Db, clientId: string, fileId: string): Promise<BatchRecord[]> {
  const rows: BatchRow[] = await db('batches').where({ client_id: clientId, file_id: fileId, state: 'DONE' }).orderBy('id');
  return rows.map(toRecord);
}

export async function getBatch(db: Db, id: number): Promise<BatchRecord | undefined> {
  const row: BatchRow | undefined = await db('batches').where({ id }).first();
  return row ? toRecord(row) : undefined;
}

/** A batch by numeric id, or the latest batch carrying that FileId. */
export async function findBatch(db: Db, idOrFileId: string): Promise<BatchRecord | undefined> {
  if (/^\d+$/.test(idOrFileId)) {
    const b = await getBatch(db, Number(idOrFileId));
    if (b) return b;
  }
  // A FileId names the latest real answer to it; re-deliveries and rejections only if there is none.
  const row: BatchRow | undefined =
    (await db('batches').where({ file_id: idOrFileId, state: 'DONE' }).whereNull('error_code').orderBy('id', 'desc').first()) ??
    (await db('batches').where({ file_id: idOrFileId }).orderBy('id', 'desc').first());
  return row ? toRecord(row) : undefined;
}

export async function listBatches(db: Db, opts: { limit?: number; clientId?: string; state?: string } = {}): Promise<BatchRecord[]> {
  let q = db('batches').select('*').orderBy('id', 'desc').limit(opts.limit ?? 50);
  if (opts.clientId) q = q.where('client_id', opts.clientId);
  if (opts.state) q = q.where('state', opts.state);
  const rows: BatchRow[] = await q;
  return rows.map(toRecord);
}
