// Writes audit entries (logging principle). One entry per answered request line.
import type { Knex } from 'knex';
import type { ServiceName, StatusCode } from '../interfaces.js';
import { AUDIT_TABLE } from './migration.js';

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
