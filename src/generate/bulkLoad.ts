// A faster load of a generated data set into an SQLite store, for the benchmark (millions of
// rows; `ldm-batch import` takes about a minute per 1.5 million amount rows).
//
// It goes through the same tables and the same row checks as `import` (the import kinds'
// `check`, so every row is validated and converted exactly as there), and the same upsert on
// identity key; what differs is the write: rows travel as one JSON parameter per 20,000
// (INSERT … SELECT FROM json_each) in a single transaction, instead of 90-row INSERTs, and the
// file is read once instead of twice (a bad row throws: generated data has none).
import type { Db } from '../store/db.js';
import { isSqlite } from '../store/db.js';
import { readCsvRows } from '../import/csvRows.js';
import { IMPORT_KINDS, type ImportContext } from '../import/kinds.js';
import { currentYear } from '../domain/ssin.js';
import { bumpStoreVersion } from '../store/storeVersion.js';

const ROWS_PER_STATEMENT = 20_000;

const NATURAL_KEYS: Record<string, string[]> = {
  persons: ['ssin'],
  repertory: ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date'],
  amounts: ['identity'],
};

function upsertSql(table: string, columns: readonly string[]): string {
  const key = NATURAL_KEYS[table];
  const extract = columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(', ');
  const rest = columns.filter((c) => !key.includes(c));
  const update = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${extract} FROM json_each(?) WHERE true ON CONFLICT (${key.join(', ')}) ${update}`;
}

/** Loads persons, repertory and amounts CSV files (the OCMW list and clients must be in the store). */
export async function bulkLoad(db: Db, files: { persons: string; repertory: string; amounts: string }, onProgress?: (kind: string, rows: number) => void): Promise<Record<string, number>> {
  if (!isSqlite(db)) throw new Error('bulkLoad is for the embedded SQLite store; use `ldm-batch import` elsewhere');
  const ocmwRows: { cbe_number: string }[] = await db('ocmws').select('cbe_number');
  const ctx: ImportContext = { ocmws: new Set(ocmwRows.map((r) => r.cbe_number)), referenceYear: currentYear(), cbeOwners: new Map(), ranks: new Map(), ranking: true };
  const counts: Record<string, number> = {};
  await db.transaction(async (trx) => {
    for (const kindName of ['persons', 'repertory', 'amounts'] as const) {
      const kind = IMPORT_KINDS[kindName];
      // The stored columns: what check() returns (amounts add payment_id and identity to the CSV's).
      const stored = kindName === 'amounts' ? [...kind.columns, 'payment_id', 'identity'] : kind.columns;
      const sql = upsertSql(kindName, stored);
      let batch: unknown[][] = [];
      let n = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await trx.raw(sql, [JSON.stringify(batch)]);
        n += batch.length;
        batch = [];
        onProgress?.(kindName, n);
      };
      for await (const r of readCsvRows(files[kindName], kind.columns, kind.optionalColumns)) {
        if ('__columns' in r.values) throw new Error(`${files[kindName]}: line ${r.line}: wrong number of columns`);
        let row: Record<string, unknown>;
        try {
          row = kind.check(r.values, ctx);
        } catch (err) {
          throw new Error(`${files[kindName]}: line ${r.line}: ${(err as Error).message}`);
        }
        batch.push(stored.map((c) => row[c] ?? null));
        if (batch.length >= ROWS_PER_STATEMENT) await flush();
      }
      await flush();
      counts[kindName] = n;
    }
    await bumpStoreVersion(trx);
  });
  return counts;
}
