// Migration 009 on a store that already has one-row-per-line audit entries (migration 004's
// audit_log), on SQLite and PostgreSQL: every entry is found again in the packed form, the
// citizen's query answers as a plain loop over the old rows says, and down restores the rows.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, pendingMigrations, type Db } from '../../src/store/db.js';
import { migrationSource } from '../../src/store/migrations.js';
import { auditForSsin, countAuditLines } from '../../src/audit/query.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';
import { CLIENT_ROWS } from './fixture.js';

const pgUp = await postgresAvailable();
const PERSONS = Array.from({ length: 25 }, (_, i) => makeSsin({ year: 1960 + i, month: 1 + (i % 12), day: 1 + (i % 28) }, 200 + i));
const CODES = ['MSG00000', 'MSG00100', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012'];

interface OldRow {
  batch_id: number;
  seq: number;
  client_id: string;
  service: string;
  legal_context: string;
  deliberation: string | null;
  ssin: string;
  quality_code: number | null;
  status_code: string;
  consulted_at: string;
}

/** Legacy rows: 6 batches of 3 clients (one no longer in clients), persons repeated within a batch. */
function legacyRows(batchIds: number[]): OldRow[] {
  const rows: OldRow[] = [];
  batchIds.forEach((batchId, b) => {
    const clientId = ['fin', 'mut', 'gone'][b % 3];
    const n = b === 0 ? 55_001 : 50 + 31 * b; // one batch beyond a page of the migration (50,000 rows)
    for (let seq = 1; seq <= n; seq++) {
      rows.push({
        batch_id: batchId,
        seq,
        client_id: clientId,
        service: b % 2 ? 'LivingWages' : 'LivingWagesWithAmount',
        legal_context: `CTX:${b}`,
        deliberation: b % 3 === 1 ? null : `IVC/${b}`,
        ssin: PERSONS[(seq * (b + 3)) % PERSONS.length],
        quality_code: seq % 4 === 0 ? null : seq % 9,
        status_code: CODES[(seq + b) % CODES.length],
        consulted_at: `2025-0${1 + b}-1${b}T03:00:0${b}Z`,
      });
    }
  });
  return rows;
}

describe.each([
  ['SQLite', 'sqlite' as const, true],
  ['PostgreSQL', 'postgres' as const, pgUp],
])('migration 009_packed_audit on %s', (_name, kind, available) => {
  if (!available) {
    it.skip(`skipped: ${PG_SKIP_REASON}`, () => undefined);
    return;
  }
  let db: Db;
  let dir: string;
  let pg: TempDatabase | undefined;
  let old: OldRow[];
  let batchIds: number[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldm-audit-mig-'));
    pg = kind === 'postgres' ? await createTempDatabase() : undefined;
    db = pg ? connectDatabase({ client: 'postgres', url: pg.url }) : connectDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
    while ((await pendingMigrations(db))[0] !== '009_packed_audit') await db.migrate.up({ migrationSource });
    await db('clients').insert(CLIENT_ROWS.slice(0, 2));
    batchIds = [];
    for (let i = 0; i < 6; i++) {
      const t = '2025-01-01T00:00:00Z';
      const [r] = await db('batches').insert({ client_id: 'fin', file_name: `F${i}.xml`, size: 1, sha256: '0'.repeat(64), state: i === 5 ? 'REJECTED' : 'DONE', reference_date: '2025-01-01', processed_at: t, created_at: t, updated_at: t }).returning('id');
      batchIds.push(Number(typeof r === 'object' ? (r as { id: number }).id : r));
    }
    old = legacyRows(batchIds);
    for (let i = 0; i < old.length; i += 90) await db('audit_log').insert(old.slice(i, i + 90));
  }, 300_000);
  afterAll(async () => {
    await db?.destroy();
    await pg?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves every entry into the packed tables and drops audit_log', async () => {
    await db.migrate.up({ migrationSource });
    expect(await pendingMigrations(db)).not.toContain('009_packed_audit'); // later migrations may follow
    expect(await db.schema.hasTable('audit_log')).toBe(false);
    expect(await countAuditLines(db)).toBe(old.length);
    for (const id of batchIds) expect(await countAuditLines(db, id)).toBe(old.filter((r) => r.batch_id === id).length);
    // One row per (SSIN, batch), as many as the plain loop finds.
    const pairs = new Set(old.map((r) => `${r.ssin}|${r.batch_id}`));
    expect(Number(((await db('audit_persons').count({ n: '*' }))[0] as { n: number | string }).n)).toBe(pairs.size);
    // The institution as it was: name and CBE from clients at migration; unknown client: null.
    const batches = (await db('audit_batches').orderBy('batch_id').select('client_id', 'client_name', 'client_cbe')) as Record<string, unknown>[];
    expect(batches.map((b) => [b.client_id, b.client_name, b.client_cbe])).toEqual(
      batchIds.map((_, b) => {
        const c = CLIENT_ROWS.find((x) => x.client_id === ['fin', 'mut', 'gone'][b % 3]);
        return [['fin', 'mut', 'gone'][b % 3], c?.name ?? null, c?.cbe_number ?? null];
      }),
    );
  }, 300_000);

  it('the citizen query after the migration equals a plain loop over the old rows', async () => {
    const done = new Set(batchIds.slice(0, 5));
    for (const ssin of PERSONS.slice(0, 6)) {
      const want = old
        .filter((r) => r.ssin === ssin && done.has(r.batch_id) && r.consulted_at >= '2025-01-01')
        .sort((x, y) => (x.consulted_at === y.consulted_at ? (x.batch_id === y.batch_id ? y.seq - x.seq : y.batch_id - x.batch_id) : x.consulted_at < y.consulted_at ? 1 : -1))
        .map((r) => `${r.consulted_at} ${r.client_id} ${r.service} ${r.legal_context} ${r.deliberation} ${r.quality_code} ${r.status_code}`);
      const got = (await auditForSsin(db, ssin, '2025-01-01')).map((r) => `${r.consultedAt} ${r.clientId} ${r.service} ${r.legalContext} ${r.deliberation} ${r.qualityCode} ${r.statusCode}`);
      expect(got).toEqual(want);
    }
  });

  it('down restores audit_log row for row', async () => {
    await db.migrate.down({ migrationSource });
    expect(await db.schema.hasTable('audit_persons')).toBe(false);
    const back = (await db('audit_log').select('batch_id', 'seq', 'client_id', 'service', 'legal_context', 'deliberation', 'ssin', 'quality_code', 'status_code', 'consulted_at')) as Record<string, unknown>[];
    const norm = (r: Record<string, unknown>): string => [r.batch_id, r.seq, r.client_id, r.service, r.legal_context, r.deliberation, r.ssin, r.quality_code, r.status_code, r.consulted_at].map((v) => (v === null ? 'null' : String(v))).join('|');
    expect(back.map(norm).sort()).toEqual(old.map((r) => norm(r as unknown as Record<string, unknown>)).sort());
  }, 300_000);
});

describe('migration 009 with entries it cannot pack', () => {
  it('stops, says why, and leaves audit_log as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldm-audit-mig-mixed-'));
    const db = connectDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
    try {
      while ((await pendingMigrations(db))[0] !== '009_packed_audit') await db.migrate.up({ migrationSource });
      const base = { batch_id: 1, client_id: 'fin', service: 'LivingWagesWithAmount', deliberation: null, quality_code: 1, status_code: 'MSG00000', consulted_at: '2025-01-01T00:00:00Z' };
      await db('audit_log').insert([
        { ...base, seq: 1, ssin: PERSONS[0], legal_context: 'CTX:A' },
        { ...base, seq: 2, ssin: PERSONS[1], legal_context: 'CTX:B' },
      ]);
      await expect(db.migrate.up({ migrationSource })).rejects.toThrow(/009_packed_audit: 1 batch\(es\) in audit_log have entries with different/);
      expect((await pendingMigrations(db))[0]).toBe('009_packed_audit');
      expect(await db.schema.hasTable('audit_batches')).toBe(false); // rolled back whole
      expect(await db('audit_log').count({ n: '*' }).then((r) => Number((r[0] as { n: number }).n))).toBe(2);
    } finally {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
