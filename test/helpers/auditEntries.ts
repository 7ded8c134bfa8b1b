// The audit register read back as one flat entry per stored line (doubled lines show twice), for
// tests that count or compare what was audited. Reads the packed tables of migration 009.
import type { Knex } from 'knex';
import { AUDIT_BATCHES, AUDIT_PERSONS, unpackRaw } from '../../src/audit/packed.js';

export interface AuditEntryRow {
  batch_id: number;
  seq: number;
  ssin: string;
  client_id: string;
  service: string;
  legal_context: string;
  deliberation: string | null;
  consulted_at: string;
  quality_code: number | null;
  status_code: string;
}

export async function auditEntries(db: Knex, where: { batchId?: number; clientId?: string } = {}): Promise<AuditEntryRow[]> {
  let q = db(`${AUDIT_PERSONS} as p`).join(`${AUDIT_BATCHES} as b`, 'b.batch_id', 'p.batch_id');
  if (where.batchId !== undefined) q = q.where('p.batch_id', where.batchId);
  if (where.clientId !== undefined) q = q.where('b.client_id', where.clientId);
  const rows: { batch_id: number; ssin: string; lines: Uint8Array; client_id: string; service: string; legal_context: string; deliberation: string | null; consulted_at: string }[] = await q.select(
    'p.batch_id',
    'p.ssin',
    'p.lines',
    'b.client_id',
    'b.service',
    'b.legal_context',
    'b.deliberation',
    'b.consulted_at',
  );
  const out: AuditEntryRow[] = [];
  for (const r of rows) {
    for (const l of unpackRaw(r.lines)) {
      out.push({ batch_id: Number(r.batch_id), seq: l.seq, ssin: r.ssin, client_id: r.client_id, service: r.service, legal_context: r.legal_context, deliberation: r.deliberation, consulted_at: r.consulted_at, quality_code: l.qualityCode, status_code: l.statusCode });
    }
  }
  return out.sort((a, b) => a.batch_id - b.batch_id || a.seq - b.seq);
}
