// Logging principle (KSZ/BCSS): every consultation of a person's data is recorded — who asked,
// when, under which legal context and deliberation, and which integration made it lawful —
// so the person can be told, and the register can be audited.
import type { Knex } from 'knex';

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
