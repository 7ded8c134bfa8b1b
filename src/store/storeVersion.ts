// The store's version: a number that grows with every change to the data the read model holds
// (persons, repertory, amounts). Every write to those tables bumps it inside its own transaction,
// so a version names exactly one state of them; a batch records the version current at its claim
// (contract §5: the store state is fixed at claim) and the read model of that version answers it.
// On PostgreSQL the row is shared, so every instance builds the same version from the same state.
import type { Knex } from 'knex';

const TABLE = 'store_state';

/** The current version (0 for a store that never changed since migration 008). */
export async function storeVersion(db: Knex): Promise<number> {
  const row = (await db(TABLE).where({ id: 1 }).first('version')) as { version: number | string } | undefined;
  return row === undefined ? 0 : Number(row.version);
}

/**
 * Bumps the version inside the transaction that changes the tables (an UPDATE takes the row lock
 * on PostgreSQL, so two imports are ordered; SQLite serializes writers anyway). Returns the new one.
 */
export async function bumpStoreVersion(trx: Knex | Knex.Transaction): Promise<number> {
  await trx(TABLE).where({ id: 1 }).update({ version: trx.raw('version + 1') });
  return storeVersion(trx);
}
