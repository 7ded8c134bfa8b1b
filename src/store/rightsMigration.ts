// Rights history (contract §8 rights.csv) and the notification outbox (§6b).
import type { Knex } from 'knex';

export const RIGHTS_TABLE = 'rights';
export const SUBSCRIPTIONS_TABLE = 'notification_subscriptions';
export const OUTBOX_TABLE = 'notification_outbox';
export const NOTIFICATION_FILES_TABLE = 'notification_files';
export const NOTIFY_LOCK_TABLE = 'notification_lock';

export const rightsMigration = {
  name: '005_rights_notifications',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable(RIGHTS_TABLE, (t) => {
      t.increments('id');
      t.string('right_id', 64).notNullable();
      t.integer('version').notNullable();
      t.string('ssin', 11).notNullable();
      t.string('ocmw_cbe', 10).notNullable();
      t.string('right_type', 32).notNullable();
      t.string('start_date', 10).notNullable();
      t.string('end_date', 10).nullable();
      t.string('event', 16).notNullable();
      t.string('decided_on', 10).notNullable();
      // 0 until the notifier has decided who is told about this version (once, see notifications/).
      t.integer('planned').notNullable().defaultTo(0);
      // Every version is kept: the highest one of a right_id is current.
      t.unique(['right_id', 'version']);
      t.index(['ssin']);
      t.index(['planned']);
    });
    // A client subscribed to LivingWagesNotifications. quality_codes '' = those of its LivingWages
    // authorizations. (An authorizations row with service LivingWagesNotifications also counts.)
    await knex.schema.createTable(SUBSCRIPTIONS_TABLE, (t) => {
      t.string('client_id', 64).primary().references('clients.client_id');
      t.string('quality_codes', 512).notNullable().defaultTo('');
      t.string('created_at', 30).notNullable();
    });
    // One row per (institution, event): the key that makes "notified once" hold across re-runs.
    // PENDING -> FILED (in a notification file whose name is fixed) -> SENT (file published).
    await knex.schema.createTable(OUTBOX_TABLE, (t) => {
      t.increments('id');
      t.string('client_id', 64).notNullable();
      t.string('right_id', 64).notNullable();
      t.integer('version').notNullable();
      t.string('ssin', 11).notNullable();
      t.string('event', 16).notNullable();
      t.string('event_date', 10).notNullable();
      t.string('state', 16).notNullable();
      // The file it went into; its seq there is its rank by id within the file (fixed set).
      t.integer('file_id').nullable();
      t.string('created_at', 30).notNullable();
      t.string('sent_at', 30).nullable();
      t.unique(['client_id', 'right_id', 'version']);
      t.index(['client_id', 'state']);
      t.index(['file_id']);
    });
    await knex.schema.createTable(NOTIFICATION_FILES_TABLE, (t) => {
      t.increments('id');
      t.string('client_id', 64).notNullable();
      t.string('recipient_cbe', 10).notNullable();
      t.string('notification_id', 64).nullable().unique();
      t.string('file_name', 255).nullable();
      t.string('state', 16).notNullable(); // WRITING -> PUBLISHED
      t.integer('record_count').notNullable();
      // The CreatedAt written in the file, fixed with the name so a re-write is byte-identical.
      t.string('created_at', 30).notNullable();
      t.string('published_at', 30).nullable();
      t.string('sha256', 64).nullable();
      t.index(['state']);
    });
    // One notify run at a time per store (cron and an operator may both start one).
    await knex.schema.createTable(NOTIFY_LOCK_TABLE, (t) => {
      t.string('name', 32).primary();
      t.string('holder', 200).nullable();
      t.string('lease_until', 30).nullable();
    });
  },
  async down(knex: Knex): Promise<void> {
    for (const t of [NOTIFY_LOCK_TABLE, NOTIFICATION_FILES_TABLE, OUTBOX_TABLE, SUBSCRIPTIONS_TABLE, RIGHTS_TABLE]) await knex.schema.dropTableIfExists(t);
  },
};
