import { redact } from '../log/logger.js';
import type { Db } from '../store/db.js';
import { dbInstant } from './dbClock.js';
import { leaseLost } from './leaseLost.js';

export interface Failure {
  errorCode: string;
  error: string;
  archiveName: string | null;
  /** The INTERNAL_ERROR rejection delivered to the client, when one was. */
  responseSha256?: string | null;
  /** Set for a batch recorded before its bytes were known (`process`). */
  sha256?: string;
  size?: number;
  /** The attempts actually run, when the journal counted one more (a takeover that gave up instead of running). */
  attempts?: number;
}

/** Marks a batch this instance holds FAILED; LEASE_LOST when it no longer holds it (nothing is changed then). */
export async function failBatch(db: Db, id: number, instanceId: string, f: Failure): Promise<void> {
  const n = await db('batches')
    .where({ id, state: 'CLAIMED', instance_id: instanceId })
    .update({
      state: 'FAILED',
      error_code: f.errorCode,
      error: redact(f.error),
      archive_name: f.archiveName,
      ...(f.responseSha256 !== undefined ? { response_sha256: f.responseSha256 } : {}),
      ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.attempts !== undefined ? { attempts: f.attempts } : {}),
      lease_until: null,
      updated_at: dbInstant(db),
    });
  if (n !== 1) throw leaseLost(id, instanceId, 'recording its failure');
}
