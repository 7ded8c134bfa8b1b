import { redact } from '../log/logger.js';
import type { Db } from '../store/db.js';
import type { RejectionCode, StatusCode } from '../interfaces.js';
import { dbInstant } from './dbClock.js';
import { leaseLost } from './leaseLost.js';

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

/** Records the answer of a batch this instance holds; LEASE_LOST when it no longer holds it (nothing is recorded twice). */
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
      updated_at: dbInstant(db),
    });
  if (n !== 1) throw leaseLost(id, instanceId, 'recording its result');
}
