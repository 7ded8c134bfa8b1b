// Migration 010: the DG PMH data of Handiservice (contract §6c, §8), one table per import kind.
// Booleans are stored as the text 'true'/'false' (null = empty): the same on SQLite and
// PostgreSQL, and what the CSV and the response say. Every table is looked up by SSIN per chunk.
import type { Knex } from 'knex';

export const RECOGNITIONS_TABLE = 'handicap_recognitions';
export const HANDICAP_RIGHTS_TABLE = 'handicap_rights';
export const HANDICAP_PAYMENTS_TABLE = 'handicap_payments';
export const SOCIAL_CARDS_TABLE = 'social_cards';

export const handiserviceMigration = {
  name: '010_handiservice',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable(RECOGNITIONS_TABLE, (t) => {
      t.string('recognition_id', 64).primary();
      t.string('ssin', 11).notNullable();
      t.string('legislation', 8).notNullable();
      t.string('request_date', 10).notNullable();
      t.string('status', 16).notNullable();
      t.string('decision_date', 10).nullable();
      t.string('start_date', 10).nullable(); // null: pending, starts on request_date
      t.string('end_date', 10).nullable();
      t.integer('points').nullable();
      t.string('earning_capacity_reduced', 5).nullable();
      t.string('lower_limbs_50', 5).nullable();
      t.string('full_blindness', 5).nullable();
      t.string('upper_limbs_amputated', 5).nullable();
      t.string('upper_limbs_paralysed', 5).nullable();
      t.index(['ssin']);
    });
    await knex.schema.createTable(HANDICAP_RIGHTS_TABLE, (t) => {
      t.string('right_id', 64).primary();
      t.string('ssin', 11).notNullable();
      t.string('legislation', 8).notNullable();
      t.string('category', 32).notNullable();
      t.string('start_date', 10).notNullable();
      t.string('end_date', 10).nullable();
      t.bigInteger('monthly_amount_cents').nullable();
      t.string('partner_income', 5).nullable();
      t.index(['ssin']);
    });
    await knex.schema.createTable(HANDICAP_PAYMENTS_TABLE, (t) => {
      t.string('ssin', 11).notNullable();
      t.string('month', 7).notNullable();
      t.string('legislation', 8).notNullable();
      t.bigInteger('amount_cents').notNullable();
      t.bigInteger('suspended_cents').nullable();
      t.primary(['ssin', 'month', 'legislation']);
    });
    await knex.schema.createTable(SOCIAL_CARDS_TABLE, (t) => {
      t.string('card_number', 64).primary();
      t.string('ssin', 11).notNullable();
      t.string('type', 32).notNullable();
      t.string('delivered_on', 10).notNullable();
      t.string('end_date', 10).nullable();
      t.index(['ssin']);
    });
  },
  async down(knex: Knex): Promise<void> {
    for (const t of [SOCIAL_CARDS_TABLE, HANDICAP_PAYMENTS_TABLE, HANDICAP_RIGHTS_TABLE, RECOGNITIONS_TABLE]) await knex.schema.dropTableIfExists(t);
  },
};
