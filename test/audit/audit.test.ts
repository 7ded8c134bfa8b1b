// The audit log on a real SQLite file: migration, chunked writes, the citizen's query, purge.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditMigration } from '../../src/audit/migration.js';
import { AUDIT_ROWS_PER_INSERT, recordAudit, type AuditEntry } from '../../src/audit/record.js';
import { auditForSsin } from '../../src/audit/query.js';
import { purgeAudit } from '../../src/audit/purge.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { addBatch, entry, openTestStore, type TestStore } from './fixture.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);

let store: TestStore;
beforeAll(async () => {
  store = await openTestStore('ldm-audit-');
});
afterAll(async () => {
  await store?.close();
});
beforeEach(async () => {
  await store.db('audit_log').delete();
});
const count = async (): Promise<number> => Number(((await store.db('audit_log').count({ n: '*' }))[0] as { n: number | string }).n);

describe('migration', () => {
  it('creates audit_log with its indexes, and down/up round-trips', async () => {
    const { db } = store;
    const indexes = (await db.raw<{ name: string }[]>("select name from sqlite_master where type = 'index' and tbl_name = 'audit_log'")).map((r) => r.name).sort();
    expect(indexes).toEqual(['audit_log_batch_line_unique', 'audit_log_ssin_consulted_at']);
    const cols = (await db.raw<{ name: string; notnull: number }[]>('pragma table_info(audit_log)')).map((c) => `${c.name}${c.notnull ? '' : '?'}`);
    expect(cols).toEqual(['id', 'batch_id', 'seq', 'client_id', 'service', 'legal_context', 'deliberation?', 'ssin', 'quality_code?', 'status_code', 'consulted_at']);
    await auditMigration.down(db);
    expect(await db.schema.hasTable('audit_log')).toBe(false);
    await auditMigration.up(db);
    expect(await db.schema.hasTable('audit_log')).toBe(true);
  });
  it('has the shape of a store migration', () => {
    expect(auditMigration.name).toBe('004_audit');
  });
});

describe('recordAudit', () => {
  it.each([0, 1, AUDIT_ROWS_PER_INSERT, AUDIT_ROWS_PER_INSERT + 1, 2_345])('%i entries: every statement stays under 999 bound variables', async (n) => {
    const batchId = await addBatch(store.db, 'DONE');
    const entries: AuditEntry[] = Array.from({ length: n }, (_, i) => entry({ batchId, seq: i + 1, ssin: i % 2 ? A : B }));
    const maxBindings: number[] = [];
    const onQuery = (q: { bindings?: unknown[] }): void => {
      maxBindings.push(q.bindings?.length ?? 0);
    };
    store.db.on('query', onQuery);
    try {
      await recordAudit(store.db, entries);
    } finally {
      store.db.removeListener('query', onQuery);
    }
    expect(Math.max(0, ...maxBindings)).toBeLessThan(999);
    // The listener did see the inserts (a full chunk binds 10 values per row).
    if (n > 1) expect(Math.max(...maxBindings)).toBe(10 * Math.min(n, AUDIT_ROWS_PER_INSERT));
    expect(await count()).toBe(n);
  });

  it('writing the same batch again (a re-run after a crash) does not double it', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const entries = [entry({ batchId, seq: 1, ssin: A }), entry({ batchId, seq: 2, ssin: B })];
    await recordAudit(store.db, entries);
    await recordAudit(store.db, entries);
    expect(await count()).toBe(2);
  });

  it('inside a caller transaction: rolled back with it', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    await expect(
      store.db.transaction(async (trx) => {
        await recordAudit(trx, [entry({ batchId, seq: 1, ssin: A })]);
        throw new Error('batch failed');
      }),
    ).rejects.toThrow('batch failed');
    expect(await count()).toBe(0);
  });

  it('stores nulls for no deliberation and no quality code', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    await recordAudit(store.db, [entry({ batchId, seq: 1, ssin: A, deliberation: null, qualityCode: null, statusCode: 'MSG00012' })]);
    expect(await store.db('audit_log').select('deliberation', 'quality_code', 'status_code')).toEqual([{ deliberation: null, quality_code: null, status_code: 'MSG00012' }]);
  });
});

describe('auditForSsin', () => {
  it('only answered batches, only this SSIN, since the date, newest first, with the client name', async () => {
    const { db } = store;
    const done = await addBatch(db, 'DONE');
    const doneMut = await addBatch(db, 'DONE', 'mut');
    const rejected = await addBatch(db, 'REJECTED');
    const failed = await addBatch(db, 'FAILED');
    const claimed = await addBatch(db, 'CLAIMED');
    const gone = await addBatch(db, 'DONE', 'gone'); // client no longer in the store
    await recordAudit(db, [
      entry({ batchId: done, seq: 1, ssin: A, consultedAt: '2025-09-01T10:00:00Z' }),
      entry({ batchId: done, seq: 2, ssin: B, consultedAt: '2025-09-01T10:00:00Z' }),
      entry({ batchId: done, seq: 3, ssin: A, consultedAt: '2025-01-01T10:00:00Z' }), // before since
      entry({ batchId: doneMut, seq: 1, ssin: A, clientId: 'mut', legalContext: 'HEALTH:INCREASED_REIMBURSEMENT', deliberation: null, qualityCode: null, statusCode: 'MSG00012', consultedAt: '2025-12-24T08:00:00Z' }),
      entry({ batchId: rejected, seq: 1, ssin: A, consultedAt: '2025-10-01T10:00:00Z' }),
      entry({ batchId: failed, seq: 1, ssin: A, consultedAt: '2025-10-02T10:00:00Z' }),
      entry({ batchId: claimed, seq: 1, ssin: A, consultedAt: '2025-10-03T10:00:00Z' }),
      entry({ batchId: gone, seq: 1, ssin: A, clientId: 'gone', consultedAt: '2025-07-15T00:00:00Z' }), // exactly on since's day
      entry({ batchId: 9999, seq: 1, ssin: A, consultedAt: '2025-10-04T10:00:00Z' }), // no such batch
    ]);
    const rows = await auditForSsin(db, A, '2025-07-15');
    expect(rows).toEqual([
      {
        consultedAt: '2025-12-24T08:00:00Z',
        clientId: 'mut',
        clientName: 'Landsbond der Mutualiteiten',
        service: 'LivingWagesWithAmount',
        legalContext: 'HEALTH:INCREASED_REIMBURSEMENT',
        deliberation: null,
        qualityCode: null,
        statusCode: 'MSG00012',
      },
      {
        consultedAt: '2025-09-01T10:00:00Z',
        clientId: 'fin',
        clientName: 'FOD Financiën',
        service: 'LivingWagesWithAmount',
        legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
        deliberation: 'IVC/KSZG/23/123',
        qualityCode: 1,
        statusCode: 'MSG00000',
      },
      expect.objectContaining({ consultedAt: '2025-07-15T00:00:00Z', clientId: 'gone', clientName: null }),
    ]);
    // Nothing about anyone else, and no SSIN in the rows at all.
    expect(JSON.stringify(rows)).not.toMatch(/\d{11}/);
    expect(await auditForSsin(db, B, '2025-07-15')).toHaveLength(1);
    expect(await auditForSsin(db, A, '2026-01-01')).toEqual([]);
  });
});

describe('purgeAudit', () => {
  it.each([
    ['2025-01-01', 1],
    ['2025-06-01', 2],
    ['2025-06-01T12:00:00Z', 3],
    ['2030-01-01', 4],
    ['2000-01-01', 0],
  ])('before %s removes %i of 4', async (before, removed) => {
    const batchId = await addBatch(store.db, 'DONE');
    await recordAudit(
      store.db,
      ['2024-12-31T23:59:59Z', '2025-05-31T00:00:00Z', '2025-06-01T11:00:00Z', '2025-06-01T12:00:00Z'].map((consultedAt, i) => entry({ batchId, seq: i + 1, ssin: A, consultedAt })),
    );
    expect(await purgeAudit(store.db, before)).toBe(removed);
    expect(await count()).toBe(4 - removed);
  });
});
