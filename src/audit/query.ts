// The citizen's question: who consulted my data, when and why?
import type { Knex } from 'knex';
import type { StatusCode } from '../interfaces.js';
import { AUDIT_TABLE } from './migration.js';

/** One consultation as shown to the citizen. Carries no SSIN: the caller already knows whose it is. */
export interface AuditRow {
  consultedAt: string;
  clientId: string;
  /** The institution's name; null when the client is no longer in the store. */
  clientName: string | null;
  service: string;
  legalContext: string;
  deliberation: string | null;
  qualityCode: number | null;
  statusCode: StatusCode;
}

interface Row {
  consulted_at: string;
  client_id: string;
  client_name: string | null;
  service: string;
  legal_context: string;
  deliberation: string | null;
  quality_code: number | string | null;
  status_code: string;
}

/**
 * Consultations of `ssin` at or after `sinceIso` (a date or an ISO instant), newest first.
 * Only batches in state DONE count: a rejected or failed batch disclosed nothing.
 */
export async function auditForSsin(db: Knex | Knex.Transaction, ssin: string, sinceIso: string): Promise<AuditRow[]> {
  const rows: Row[] = await db(`${AUDIT_TABLE} as a`)
    .join('batches as b', 'b.id', 'a.batch_id')
    .leftJoin('clients as c', 'c.client_id', 'a.client_id')
    .where('a.ssin', ssin)
    .andWhere('a.consulted_at', '>=', sinceIso)
    .andWhere('b.state', 'DONE')
    .select(
      'a.consulted_at',
      'a.client_id',
      'c.name as client_name',
      'a.service',
      'a.legal_context',
      'a.deliberation',
      'a.quality_code',
      'a.status_code',
    )
    .orderBy([
      { column: 'a.consulted_at', order: 'desc' },
      { column: 'a.id', order: 'desc' },
    ]);
  return rows.map((r) => ({
    consultedAt: r.consulted_at,
    clientId: r.client_id,
    clientName: r.client_name,
    service: r.service,
    legalContext: r.legal_context,
    deliberation: r.deliberation,
    // PostgreSQL may hand integers back as strings.
    qualityCode: r.quality_code === null ? null : Number(r.quality_code),
    statusCode: r.status_code as StatusCode,
  }));
}
