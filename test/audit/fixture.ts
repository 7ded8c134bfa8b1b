// A real store for the audit tests (SQLite file, or a fresh PostgreSQL database), fully migrated.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import type { AuditEntry } from '../../src/audit/record.js';
import type { BatchState } from '../../src/journal/batches.js';
import { createTempDatabase } from '../helpers/postgres.js';

export interface TestStore {
  db: Db;
  dir: string;
  close(): Promise<void>;
}

export const CLIENT_ROWS = [
  { client_id: 'fin', cbe_number: '0308357159', sector: 17, name: 'FOD Financiën' },
  { client_id: 'mut', cbe_number: '0411702543', sector: 26, name: 'Landsbond der Mutualiteiten' },
  { client_id: 'ocmw', cbe_number: '0212345668', sector: 11, name: 'OCMW Gent' },
];

export async function openTestStore(prefix: string, kind: 'sqlite' | 'postgres' = 'sqlite'): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const pg = kind === 'postgres' ? await createTempDatabase() : undefined;
  const db = pg ? await openDatabase({ client: 'postgres', url: pg.url }) : await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  await db('clients').insert(CLIENT_ROWS);
  return {
    db,
    dir,
    async close() {
      await db.destroy();
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let files = 0;
/** A journal row in the given state; returns its id. */
export async function addBatch(db: Db, state: BatchState, clientId = 'fin'): Promise<number> {
  const t = '2026-01-15T03:00:00Z';
  const [row] = await db('batches')
    .insert({
      client_id: clientId,
      file_name: `R${++files}.xml`,
      size: 1,
      sha256: '0'.repeat(64),
      state,
      reference_date: '2026-01-15',
      processed_at: t,
      created_at: t,
      updated_at: t,
    })
    .returning('id');
  return Number(typeof row === 'object' ? (row as { id: number }).id : row);
}

export function entry(over: Partial<AuditEntry> & Pick<AuditEntry, 'batchId' | 'seq' | 'ssin'>): AuditEntry {
  return {
    clientId: 'fin',
    service: 'LivingWagesWithAmount',
    legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
    deliberation: 'IVC/KSZG/23/123',
    qualityCode: 1,
    statusCode: 'MSG00000',
    consultedAt: '2026-01-15T03:00:07Z',
    ...over,
  };
}
