// The citizen's question: who consulted my data, when and why? One index seek on the person's
// rows of audit_persons (primary key (ssin, batch_id)), joined to their batches: the cost grows
// with the number of batches that named this person, not with the size of the register.
import type { Knex } from 'knex';
import type { StatusCode } from '../interfaces.js';
import { AUDIT_BATCHES, AUDIT_PERSONS, unpackLines, unpackRaw, type PackedLine } from './packed.js';
import type { BatchRow } from './write.js';

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

/** One batch that named the person: the institution, why, and the person's lines in it. */
export interface Consultation {
  batchId: number;
  consultedAt: string;
  clientId: string;
  /** As recorded at the consultation, else as the client is now; null when unknown. */
  clientName: string | null;
  clientCbe: string | null;
  service: string;
  legalContext: string;
  deliberation: string | null;
  lines: PackedLine[];
}

/** An audit_batches row joined with one person's audit_persons blob. */
interface Row extends BatchRow {
  lines: Buffer;
}

/**
 * The batches that named `ssin` at or after `sinceIso` (a date or an ISO instant; `untilIso`
 * excluded when given), newest first. Only batches in state DONE count: a rejected or failed batch
 * disclosed nothing.
 */
export async function consultationsForSsin(db: Knex | Knex.Transaction, ssin: string, sinceIso: string, untilIso?: string): Promise<Consultation[]> {
  const q = db(`${AUDIT_PERSONS} as p`)
    .join(`${AUDIT_BATCHES} as a`, 'a.batch_id', 'p.batch_id')
    .join('batches as b', 'b.id', 'p.batch_id')
    .leftJoin('clients as c', 'c.client_id', 'a.client_id')
    .where('p.ssin', ssin)
    .andWhere('a.consulted_at', '>=', sinceIso)
    .andWhere('b.state', 'DONE')
    .select(
      'p.batch_id',
      'a.consulted_at',
      'a.client_id',
      db.raw('coalesce(a.client_name, c.name) as client_name'),
      db.raw('coalesce(a.client_cbe, c.cbe_number) as client_cbe'),
      'a.service',
      'a.legal_context',
      'a.deliberation',
      'p.lines',
    )
    .orderBy([
      { column: 'a.consulted_at', order: 'desc' },
      { column: 'p.batch_id', order: 'desc' },
    ]);
  if (untilIso !== undefined) q.andWhere('a.consulted_at', '<', untilIso);
  const rows = (await q) as Row[];
  return rows.map((r) => ({
    batchId: Number(r.batch_id),
    consultedAt: r.consulted_at,
    clientId: r.client_id,
    clientName: r.client_name,
    clientCbe: r.client_cbe,
    service: r.service,
    legalContext: r.legal_context,
    deliberation: r.deliberation,
    lines: unpackLines(r.lines),
  }));
}

/** Every line of every consultation of `ssin` since `sinceIso`, newest first (last line of a batch first). */
export async function auditForSsin(db: Knex | Knex.Transaction, ssin: string, sinceIso: string): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  for (const c of await consultationsForSsin(db, ssin, sinceIso)) {
    for (let i = c.lines.length - 1; i >= 0; i--) {
      const l = c.lines[i];
      out.push({
        consultedAt: c.consultedAt,
        clientId: c.clientId,
        clientName: c.clientName,
        service: c.service,
        legalContext: c.legalContext,
        deliberation: c.deliberation,
        qualityCode: l.qualityCode,
        statusCode: l.statusCode,
      });
    }
  }
  return out;
}

/**
 * The number of audit entries stored for one batch (or in the whole register), as stored: a line
 * written twice counts twice, so checks and the bench see a doubled entry.
 */
export async function countAuditLines(db: Knex | Knex.Transaction, batchId?: number): Promise<number> {
  let n = 0;
  let after: { ssin: string; batchId: number } = { ssin: '', batchId: -1 };
  // Paged in primary-key order so a large register is never held at once.
  for (;;) {
    const q = db(AUDIT_PERSONS)
      .whereRaw('(ssin, batch_id) > (?, ?)', [after.ssin, after.batchId]) // a row value: one index range on both engines
      .orderBy([{ column: 'ssin' }, { column: 'batch_id' }])
      .limit(20_000)
      .select('ssin', 'batch_id', 'lines');
    if (batchId !== undefined) q.andWhere('batch_id', batchId);
    const rows = (await q) as { ssin: string; batch_id: number | string; lines: Buffer }[];
    if (rows.length === 0) return n;
    for (const r of rows) n += unpackRaw(r.lines).length;
    const last = rows[rows.length - 1];
    after = { ssin: last.ssin, batchId: Number(last.batch_id) };
  }
}
