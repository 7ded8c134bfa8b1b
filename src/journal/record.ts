// The batch journal's row shape: one row per request file seen (or per `process`/`reprocess` run).
import type { StatusCode } from '../interfaces.js';

/** Every journal state, for the type and for validating `batches list --state`. */
export const BATCH_STATES = ['CLAIMED', 'DONE', 'REJECTED', 'FAILED'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

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
  /** On a CLAIMED row: the transient fault of its last attempt (it is waiting for a retry). */
  errorCode: string | null;
  error: string | null;
  instanceId: string | null;
  leaseUntil: string | null;
  claimName: string | null;
  deliveredAt: string | null;
  /** Runs started on this batch (the claim is the first; every takeover or retry adds one). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** The store version fixed at claim (store/storeVersion.ts): the read model the batch reads; null before migration 008. */
  storeVersion: number | null;
}

export interface BatchRow {
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
  store_version?: number | string | null;
}

export function toRecord(r: BatchRow): BatchRecord {
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
    storeVersion: r.store_version === null || r.store_version === undefined ? null : Number(r.store_version),
  };
}

/** How long a claim stays valid without a heartbeat; a dead instance's batch is taken over after it. */
export const DEFAULT_LEASE_SECONDS = 120;
