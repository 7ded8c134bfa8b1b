// Logging principle (KSZ/BCSS): every consultation of a person's data is recorded — who asked,
// when, under which legal context and deliberation, and which integration made it lawful —
// so the person can be told, and the register can be audited.
import type { Knex } from 'knex';
import { AUDIT_BATCHES, AUDIT_PERSONS, AUDIT_RETENTION_RUNS, packLine, unpackLines } from './packed.js';
import { rowsOf, upsertPersons, type BatchRow } from './write.js';

/** The table of migration 004 (one row per line); 009 moves its rows to the packed tables and drops it. */
export const AUDIT_TABLE = 'audit_log';

export const auditMigration = {
  name: '004_audit',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable(AUDIT_TABLE, (t) => {
      t.increments('id');
      // No foreign key to batches: audit retention is purged on its own schedule and must never
      // block (or be cascaded by) journal housekeeping.
      t.integer('batch_id').notNullable();
      // The request line; with batch_id it makes a re-run of a crashed batch write each entry once.
      t.integer('seq').notNullable();
      t.string('client_id', 64).notNullable();
      t.string('service', 64).notNullable();
      t.string('legal_context', 128).notNullable();
      t.string('deliberation', 128).nullable();
      t.string('ssin', 11).notNullable();
      // The quality code of the integration that allowed the line; null when none did.
      t.integer('quality_code').nullable();
      t.string('status_code', 8).notNullable();
      t.string('consulted_at', 30).notNullable(); // ISO instant, compares lexically
      // "Who consulted this person since …" — the citizen's question.
      t.index(['ssin', 'consulted_at'], 'audit_log_ssin_consulted_at');
      // Also serves lookups by batch_id alone (leading column).
      t.unique(['batch_id', 'seq'], { indexName: 'audit_log_batch_line_unique' });
    });
  },
  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTableIfExists(AUDIT_TABLE);
  },
};

/**
 * 009: the packed audit (audit/packed.ts). `audit_log` (one row per line, two indexes) becomes
 * `audit_batches` (one row per batch: client with its name and CBE as they were, service, legal
 * context, deliberation, ProcessedAt) and `audit_persons` (one row per SSIN and batch, the lines
 * in a blob); `audit_retention_runs` journals every retention run (daemon or operator).
 * Existing rows are moved over batch by batch, in pages, and `audit_log` is dropped.
 */
export const packedAuditMigration = {
  name: '009_packed_audit',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable(AUDIT_BATCHES, (t) => {
      t.integer('batch_id').primary(); // no foreign key: retention runs on its own schedule
      t.string('client_id', 64).notNullable();
      t.string('client_name', 200).nullable(); // as it was at the consultation (null: unknown client)
      t.string('client_cbe', 10).nullable();
      t.string('service', 64).notNullable();
      t.string('legal_context', 128).notNullable();
      t.string('deliberation', 128).nullable();
      t.string('consulted_at', 30).notNullable(); // ISO instant (the batch's ProcessedAt)
      t.index(['consulted_at'], 'audit_batches_consulted_at');
    });
    await knex.schema.createTable(AUDIT_PERSONS, (t) => {
      t.string('ssin', 11).notNullable();
      t.integer('batch_id').notNullable();
      t.binary('lines').notNullable();
      t.primary(['ssin', 'batch_id']);
      t.index(['batch_id'], 'audit_persons_batch');
    });
    await knex.schema.createTable(AUDIT_RETENTION_RUNS, (t) => {
      t.increments('id');
      t.string('ran_at', 30).notNullable();
      t.string('instance_id', 64).nullable();
      t.string('trigger', 16).notNullable(); // daemon | operator
      t.string('purged_before', 30).notNullable();
      t.integer('batches').notNullable();
      t.integer('persons').notNullable();
      t.string('outcome', 16).notNullable(); // OK | FAILED
      t.text('error').nullable();
    });
    if (await knex.schema.hasTable(AUDIT_TABLE)) {
      await moveLegacyRows(knex);
      await knex.schema.dropTable(AUDIT_TABLE);
    }
  },
  async down(knex: Knex): Promise<void> {
    await auditMigration.up(knex);
    await expandPackedRows(knex);
    await knex.schema.dropTable(AUDIT_RETENTION_RUNS);
    await knex.schema.dropTable(AUDIT_PERSONS);
    await knex.schema.dropTable(AUDIT_BATCHES);
  },
};

const PAGE = 50_000;
/** Distinct persons held before their blobs are written (a write merges with what is there). */
const PERSONS_PER_WRITE = 100_000;

async function moveLegacyRows(knex: Knex): Promise<void> {
  // Every entry of a batch was written with the same shared fields; anything else would lose facts.
  const [mixed] = await knex.raw(
    `SELECT count(*) AS n FROM (SELECT batch_id FROM ${AUDIT_TABLE} GROUP BY batch_id HAVING count(DISTINCT client_id || '|' || service || '|' || legal_context || '|' || coalesce(deliberation, '') || '|' || consulted_at) > 1) m`,
  ).then((r: unknown) => rowsOf<{ n: number | string }>(r));
  if (Number(mixed?.n ?? 0) > 0) {
    throw new Error(`009_packed_audit: ${Number(mixed.n)} batch(es) in audit_log have entries with different client, service, legal context, deliberation or time; the packed form keeps one per batch, so the migration stops rather than lose them (see README "Audit register")`);
  }
  await knex.raw(
    `INSERT INTO ${AUDIT_BATCHES} (batch_id, client_id, client_name, client_cbe, service, legal_context, deliberation, consulted_at) ` +
      `SELECT a.batch_id, a.client_id, c.name, c.cbe_number, a.service, a.legal_context, a.deliberation, a.consulted_at ` +
      `FROM ${AUDIT_TABLE} a JOIN (SELECT min(id) AS id FROM ${AUDIT_TABLE} GROUP BY batch_id) f ON f.id = a.id LEFT JOIN clients c ON c.client_id = a.client_id`,
  );
  const batches = (await knex(AUDIT_BATCHES).select('batch_id').orderBy('batch_id')) as { batch_id: number | string }[];
  for (const { batch_id } of batches) {
    const batchId = Number(batch_id);
    let after = -1;
    let persons = new Map<string, number[]>();
    for (;;) {
      const rows = (await knex(AUDIT_TABLE)
        .where('batch_id', batchId)
        .andWhere('seq', '>', after)
        .orderBy('seq')
        .limit(PAGE)
        .select('seq', 'ssin', 'quality_code', 'status_code')) as { seq: number | string; ssin: string; quality_code: number | string | null; status_code: string }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        let bytes = persons.get(r.ssin);
        if (bytes === undefined) persons.set(r.ssin, (bytes = []));
        packLine(bytes, Number(r.seq), r.quality_code === null ? null : Number(r.quality_code), r.status_code);
      }
      after = Number(rows[rows.length - 1].seq);
      if (persons.size >= PERSONS_PER_WRITE) {
        await writePersons(knex, batchId, persons);
        persons = new Map();
      }
    }
    await writePersons(knex, batchId, persons);
  }
}

async function writePersons(knex: Knex, batchId: number, persons: Map<string, number[]>): Promise<void> {
  const rows: [string, Buffer][] = [...persons].map(([ssin, bytes]) => [ssin, Buffer.from(bytes)]);
  await upsertPersons(knex, batchId, rows);
}

async function expandPackedRows(knex: Knex): Promise<void> {
  const batches = (await knex(AUDIT_BATCHES).select('*').orderBy('batch_id')) as BatchRow[];
  for (const b of batches) {
    let after = '';
    for (;;) {
      const rows = (await knex(AUDIT_PERSONS).where('batch_id', b.batch_id).andWhere('ssin', '>', after).orderBy('ssin').limit(2_000).select('ssin', 'lines')) as { ssin: string; lines: Buffer }[];
      if (rows.length === 0) break;
      const out = rows.flatMap((r) =>
        unpackLines(r.lines).map((l) => ({
          batch_id: Number(b.batch_id),
          seq: l.seq,
          client_id: b.client_id,
          service: b.service,
          legal_context: b.legal_context,
          deliberation: b.deliberation,
          ssin: r.ssin,
          quality_code: l.qualityCode,
          status_code: l.statusCode,
          consulted_at: b.consulted_at,
        })),
      );
      for (let i = 0; i < out.length; i += 90) await knex(AUDIT_TABLE).insert(out.slice(i, i + 90));
      after = rows[rows.length - 1].ssin;
    }
  }
}
