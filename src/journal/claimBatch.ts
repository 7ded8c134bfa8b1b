import type { Db } from '../store/db.js';
import { storeVersion } from '../store/storeVersion.js';
import { DEFAULT_LEASE_SECONDS, toRecord, type BatchRecord, type BatchRow } from './record.js';
import { dbInstant } from './dbClock.js';

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
  /** Already finished when recorded (`process`, `reprocess`): no lease. */
  archiveName?: string | null;
}

/** Records a claimed file; its reference date and processing time are fixed from here on. */
export async function claimBatch(db: Db, input: ClaimInput): Promise<BatchRecord> {
  // The store state is fixed at claim (contract §5): the batch reads this version, also on a re-run.
  const version = await storeVersion(db);
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
      store_version: version,
      lease_until: dbInstant(db, input.leaseSeconds ?? DEFAULT_LEASE_SECONDS),
      created_at: dbInstant(db),
      updated_at: dbInstant(db),
    })
    .returning('*');
  return toRecord(row as BatchRow);
}
