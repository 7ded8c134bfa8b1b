// Schema migrations, kept in code (not a directory scan) so the compiled binary and vitest
// load the same list, on SQLite and PostgreSQL alike.
import type { Knex } from 'knex';
import { auditMigration, packedAuditMigration } from '../audit/migration.js';
import { rightsMigration } from './rightsMigration.js';
import { handiserviceMigration } from './handiservice/migration.js';
import { AMOUNT_IDENTITY_RANK1_SQL } from './amountIdentity.js';

interface NamedMigration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const migrations: NamedMigration[] = [
  {
    name: '001_register',
    async up(knex) {
      await knex.schema.createTable('ocmws', (t) => {
        t.string('cbe_number', 10).primary();
        t.string('name', 200).notNullable();
        t.string('municipality', 200).notNullable();
      });
      await knex.schema.createTable('persons', (t) => {
        t.string('ssin', 11).primary();
        t.string('replaced_by', 11).nullable();
      });
      await knex.schema.createTable('repertory', (t) => {
        t.increments('id');
        t.string('ssin', 11).notNullable();
        t.integer('sector').notNullable();
        t.string('institution_cbe', 10).notNullable();
        t.integer('quality_code').notNullable();
        t.string('start_date', 10).notNullable();
        t.string('end_date', 10).nullable();
        t.unique(['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date']);
        // Lookups are "this sender's integrations for these SSINs".
        t.index(['institution_cbe', 'ssin']);
      });
      await knex.schema.createTable('amounts', (t) => {
        t.increments('id');
        t.string('ssin', 11).notNullable();
        t.string('partner_ssin', 11).nullable();
        t.string('ocmw_cbe', 10).notNullable();
        t.string('benefit_type', 32).notNullable();
        t.string('category', 16).notNullable();
        t.string('month', 7).notNullable();
        t.string('grant_from', 10).notNullable();
        t.string('grant_to', 10).notNullable();
        t.bigInteger('amount_cents').notNullable();
        t.string('paid_on', 10).notNullable();
        t.string('status', 16).notNullable();
        // Natural key: re-importing a file updates (e.g. PROVISIONAL -> DEFINITIVE), never doubles.
        t.unique(['ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'paid_on', 'grant_from']);
        t.index(['ssin', 'month']);
        t.index(['partner_ssin', 'month']);
      });
    },
    async down(knex) {
      for (const t of ['amounts', 'repertory', 'persons', 'ocmws']) await knex.schema.dropTableIfExists(t);
    },
  },
  {
    name: '002_clients',
    async up(knex) {
      await knex.schema.createTable('clients', (t) => {
        t.string('client_id', 64).primary();
        t.string('cbe_number', 10).notNullable().unique();
        t.integer('sector').notNullable();
        t.string('name', 200).notNullable();
      });
      await knex.schema.createTable('authorizations', (t) => {
        t.string('client_id', 64).notNullable().references('clients.client_id');
        t.string('service', 64).notNullable();
        t.string('legal_context', 128).notNullable();
        t.string('quality_codes', 512).notNullable(); // space-separated numbers
        t.string('deliberation', 128).nullable();
        t.string('fields', 1024).notNullable().defaultTo(''); // space-separated; '' = all
        t.primary(['client_id', 'service', 'legal_context']);
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('authorizations');
      await knex.schema.dropTableIfExists('clients');
    },
  },
  {
    name: '003_journal',
    async up(knex) {
      await knex.schema.createTable('batches', (t) => {
        t.increments('id');
        t.string('client_id', 64).nullable();
        t.string('file_name', 255).notNullable();
        t.bigInteger('size').notNullable();
        t.string('sha256', 64).notNullable();
        t.string('file_id', 64).nullable();
        t.string('service', 64).nullable();
        t.string('state', 16).notNullable(); // CLAIMED -> DONE | REJECTED | FAILED
        t.string('reference_date', 10).notNullable();
        t.string('processed_at', 20).notNullable();
        t.string('response_name', 300).nullable();
        t.string('archive_name', 300).nullable(); // where the request was moved (archive/ or error/)
        t.string('response_copy', 300).nullable(); // archive/ copy of the response, for re-delivery
        t.string('response_sha256', 64).nullable();
        t.integer('record_count').nullable();
        t.text('status_counts').nullable(); // JSON {code: n}
        t.string('error_code', 32).nullable();
        t.text('error').nullable();
        t.string('instance_id', 64).nullable();
        t.string('lease_until', 30).nullable(); // ISO instant; a CLAIMED batch past it may be taken over
        t.string('claim_name', 300).nullable(); // in/<name>.ldm-processing.<instance>.<epoch>
        t.string('delivered_at', 30).nullable(); // response published to out/
        t.integer('attempts').notNullable().defaultTo(1);
        t.string('created_at', 30).notNullable();
        t.string('updated_at', 30).notNullable();
        t.index(['client_id', 'file_id']);
        t.index(['client_id', 'sha256']);
        t.index(['state']);
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('batches');
    },
  },
  auditMigration,
  rightsMigration,
  {
    // Covering indexes for the batch lookups (store/lookupRegister.ts, lookupAmounts.ts): every
    // column a lookup reads is in the index, so a million-line batch does one index seek per key
    // and never a second seek into the table (measured on the bench store: repertory 3.2 -> 1.8 s,
    // amounts 6.3 -> 5.0 s of SQLite time per million lines). They replace the narrower indexes
    // they extend; the amounts one costs about the table's size again on disk.
    name: '006_covering_lookup_indexes',
    async up(knex) {
      await knex.schema.alterTable('repertory', (t) => {
        t.index(['institution_cbe', 'ssin', 'start_date', 'quality_code', 'sector', 'end_date'], 'repertory_lookup');
        t.dropIndex(['institution_cbe', 'ssin']);
      });
      await knex.schema.alterTable('amounts', (t) => {
        t.index(AMOUNTS_LOOKUP_COLUMNS, 'amounts_lookup');
        t.dropIndex(['ssin', 'month']);
      });
    },
    async down(knex) {
      await knex.schema.alterTable('repertory', (t) => {
        t.index(['institution_cbe', 'ssin']);
        t.dropIndex([], 'repertory_lookup');
      });
      await knex.schema.alterTable('amounts', (t) => {
        t.index(['ssin', 'month']);
        t.dropIndex([], 'amounts_lookup');
      });
    },
  },
  {
    // Contract §8: every amounts row is one payment or correction, never merged with another. The
    // old unique key (ssin, ocmw, type, category, month, paid_on, grant_from) made a correction
    // with its payment's key replace the payment. A row's identity is now its payment_id, else
    // its columns but status plus its rank among equal rows of its file (store/amountIdentity.ts).
    // Stored rows were unique on the old key, so rank 1 keeps every one of them apart.
    name: '007_amounts_identity',
    async up(knex) {
      await knex.schema.alterTable('amounts', (t) => {
        t.string('payment_id', 64).nullable();
        t.string('identity', 255).nullable(); // filled below and by every import; nullable only because SQLite cannot add a NOT NULL column without a default
      });
      await knex.raw(`UPDATE amounts SET identity = ${AMOUNT_IDENTITY_RANK1_SQL}`);
      await knex.schema.alterTable('amounts', (t) => {
        t.dropUnique(['ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'paid_on', 'grant_from']);
        t.unique(['identity'], { indexName: 'amounts_identity' });
      });
    },
    async down(knex) {
      // Going back merges rows the old key cannot tell apart: refuse rather than lose amounts.
      const [row] = await knex('amounts').select(knex.raw("count(*) - count(distinct ssin || '|' || ocmw_cbe || '|' || benefit_type || '|' || category || '|' || month || '|' || paid_on || '|' || grant_from) as n"));
      if (Number((row as { n: number | string }).n) > 0) throw new Error('007_amounts_identity: amounts rows share the old key; rolling back would lose them');
      await knex.schema.alterTable('amounts', (t) => {
        t.dropUnique([], 'amounts_identity');
        t.unique(['ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'paid_on', 'grant_from']);
        t.dropColumn('identity');
        t.dropColumn('payment_id');
      });
    },
  },
  {
    // The read model (src/readmodel): the store's version, bumped by every change to persons,
    // repertory or amounts (store/storeVersion.ts), and per batch the version fixed at its claim,
    // which the batch reads (also on a re-run after a crash or a re-delivery rebuild).
    name: '008_store_version',
    async up(knex) {
      await knex.schema.createTable('store_state', (t) => {
        t.integer('id').primary();
        t.bigInteger('version').notNullable();
      });
      await knex('store_state').insert({ id: 1, version: 0 });
      await knex.schema.alterTable('batches', (t) => {
        t.bigInteger('store_version').nullable(); // null: claimed before migration 008 (reads the current store)
      });
    },
    async down(knex) {
      await knex.schema.alterTable('batches', (t) => {
        t.dropColumn('store_version');
      });
      await knex.schema.dropTable('store_state');
    },
  },
  packedAuditMigration, // 009_packed_audit (audit/migration.ts)
  handiserviceMigration,
  {
    // Scheduled extracts (contract §6d, src/extracts): one row per (client, year), claimed once —
    // the unique key is what makes an extract exactly once across instances. The batch journal
    // row (batch_id) holds its lease, reference date, ProcessedAt and store version; this row
    // keeps what else a re-run needs to write the same bytes: the client's CBE and sector and
    // the authorization it ran under, as they were at the claim.
    name: '011_extracts',
    async up(knex) {
      await knex.schema.createTable('extracts', (t) => {
        t.increments('id');
        t.string('client_id', 64).notNullable();
        t.integer('year').notNullable();
        t.string('extract_id', 80).notNullable();
        t.integer('batch_id').notNullable();
        t.string('cbe_number', 10).notNullable();
        t.integer('sector').notNullable();
        t.string('legal_context', 128).notNullable();
        t.string('deliberation', 128).nullable();
        t.string('quality_codes', 512).notNullable(); // space-separated
        t.string('fields', 1024).notNullable(); // space-separated; '' = all
        t.string('created_at', 30).notNullable();
        t.unique(['client_id', 'year'], { indexName: 'extracts_client_year_unique' });
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('extracts');
    },
  },
];

const AMOUNTS_LOOKUP_COLUMNS = [
  'ssin',
  'month',
  'partner_ssin',
  'ocmw_cbe',
  'benefit_type',
  'category',
  'grant_from',
  'grant_to',
  'amount_cents',
  'paid_on',
  'status',
];

export const migrationSource: Knex.MigrationSource<NamedMigration> = {
  async getMigrations() {
    return migrations;
  },
  getMigrationName(m) {
    return m.name;
  },
  async getMigration(m) {
    return { up: m.up, down: m.down };
  },
};
