// The packed audit register on a real SQLite file and a real PostgreSQL database: the blob
// format, recordAudit (the per-chunk writer), AuditSink (the batch writer), forgetAudit, the
// citizen's query and purge. Every expectation is computed by plain loops over the entries the
// test wrote (no code shared with src/audit beyond the calls under test).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditSink, forgetAudit, recordAudit, type AuditEntry } from '../../src/audit/record.js';
import { auditForSsin, consultationsForSsin, countAuditLines } from '../../src/audit/query.js';
import { purgeAudit } from '../../src/audit/purge.js';
import { packLine, unpackLines, unpackRaw, STATUS_CODES } from '../../src/audit/packed.js';
import { makeSsin } from '../../src/domain/ssin.js';
import type { StatusCode } from '../../src/interfaces.js';
import { postgresAvailable, PG_SKIP_REASON } from '../helpers/postgres.js';
import { addBatch, entry, openTestStore, type TestStore } from './fixture.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);
const PERSONS = Array.from({ length: 40 }, (_, i) => makeSsin({ year: 1950 + i, month: 1 + (i % 12), day: 1 + (i % 28) }, 100 + i));
const CODES: StatusCode[] = ['MSG00000', 'MSG00100', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012', 'MSG00021'];

describe('blob format', () => {
  it.each([
    [1, null, 'MSG00000'],
    [0, 0, 'MSG00100'],
    [127, 127, 'MSG00012'],
    [128, 128, 'MSG00005'],
    [16_383, 999, 'MSG00006'],
    [16_384, 1, 'MSG00008'],
    [5_000_000, 12, 'MSG00011'],
    [2 ** 40, 3, 'MSG00099'], // a code outside the table travels escaped
  ] as const)('seq %i, quality %s, %s round-trips', (seq, q, code) => {
    const out: number[] = [];
    packLine(out, seq, q, code);
    expect(unpackLines(Buffer.from(out))).toEqual([{ seq, qualityCode: q, statusCode: code }]);
  });
  it('the status table lists every StatusCode, in a fixed order', () => {
    expect([...STATUS_CODES]).toEqual(CODES);
  });
  it('concatenated blobs read as one, sorted by seq, a repeated seq kept once (first wins)', () => {
    const a: number[] = [];
    const b: number[] = [];
    packLine(a, 9, 1, 'MSG00000');
    packLine(a, 3, null, 'MSG00012');
    packLine(b, 3, 2, 'MSG00000');
    packLine(b, 5, 2, 'MSG00100');
    const both = Buffer.concat([Buffer.from(a), Buffer.from(b)]);
    expect(unpackRaw(both)).toHaveLength(4);
    expect(unpackLines(both)).toEqual([
      { seq: 3, qualityCode: null, statusCode: 'MSG00012' },
      { seq: 5, qualityCode: 2, statusCode: 'MSG00100' },
      { seq: 9, qualityCode: 1, statusCode: 'MSG00000' },
    ]);
  });
  it('a truncated blob is an error, not a silent loss', () => {
    const a: number[] = [];
    packLine(a, 300, 1, 'MSG00000');
    expect(() => unpackLines(Buffer.from(a.slice(0, 1)))).toThrow(/truncated/);
  });
});

const pgUp = await postgresAvailable();

describe.each([
  ['SQLite', 'sqlite' as const, true],
  ['PostgreSQL', 'postgres' as const, pgUp],
])('packed audit on %s', (_name, kind, available) => {
  if (!available) {
    it.skip(`skipped: ${PG_SKIP_REASON}`, () => undefined);
    return;
  }
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore('ldm-audit-', kind);
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store.db('audit_persons').delete();
    await store.db('audit_batches').delete();
  });
  const rowCount = async (table: string): Promise<number> => Number(((await store.db(table).count({ n: '*' }))[0] as { n: number | string }).n);

  /** Plain loop: per SSIN, its lines in seq order. */
  function expected(entries: AuditEntry[]): Map<string, { seq: number; qualityCode: number | null; statusCode: string }[]> {
    const m = new Map<string, { seq: number; qualityCode: number | null; statusCode: string }[]>();
    for (const e of entries) {
      const list = m.get(e.ssin) ?? [];
      if (!list.some((l) => l.seq === e.seq)) list.push({ seq: e.seq, qualityCode: e.qualityCode, statusCode: e.statusCode });
      m.set(e.ssin, list);
    }
    for (const list of m.values()) list.sort((x, y) => x.seq - y.seq);
    return m;
  }
  async function stored(batchId: number): Promise<Map<string, unknown[]>> {
    const rows = (await store.db('audit_persons').where('batch_id', batchId).select('ssin', 'lines')) as { ssin: string; lines: Buffer }[];
    return new Map(rows.map((r) => [r.ssin, unpackLines(r.lines)]));
  }

  it('recordAudit: one batch row, one row per person, every line in it (every code, null quality)', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const entries = Array.from({ length: 2_345 }, (_, i) => entry({ batchId, seq: i + 1, ssin: PERSONS[(i * 7) % PERSONS.length], statusCode: CODES[i % CODES.length], qualityCode: i % 5 === 0 ? null : i % 13 }));
    await recordAudit(store.db, entries);
    expect(await rowCount('audit_batches')).toBe(1);
    expect(await rowCount('audit_persons')).toBe(PERSONS.length);
    expect(await stored(batchId)).toEqual(expected(entries));
    const [b] = (await store.db('audit_batches').select('*')) as Record<string, unknown>[];
    expect({ ...b, batch_id: Number(b.batch_id) }).toEqual({
      batch_id: batchId,
      client_id: 'fin',
      client_name: 'FOD Financiën',
      client_cbe: '0308357159',
      service: 'LivingWagesWithAmount',
      legal_context: 'FPS_FINANCE:TAX_ASSESSMENT',
      deliberation: 'IVC/KSZG/23/123',
      consulted_at: '2026-01-15T03:00:07Z',
    });
  });

  it('recordAudit again (a re-run after a crash), also overlapping: nothing doubled, new lines added', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const first = Array.from({ length: 300 }, (_, i) => entry({ batchId, seq: i + 1, ssin: PERSONS[i % 10] }));
    const second = Array.from({ length: 300 }, (_, i) => entry({ batchId, seq: i + 151, ssin: PERSONS[(i + 150) % 10] }));
    await recordAudit(store.db, first);
    await recordAudit(store.db, first);
    await recordAudit(store.db, second);
    expect(await countAuditLines(store.db, batchId)).toBe(450);
    expect(await stored(batchId)).toEqual(expected([...first, ...second]));
  });

  it('recordAudit inside a caller transaction is rolled back with it', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    await expect(
      store.db.transaction(async (trx) => {
        await recordAudit(trx, [entry({ batchId, seq: 1, ssin: A })]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await rowCount('audit_persons')).toBe(0);
    expect(await rowCount('audit_batches')).toBe(0);
  });

  it('recordAudit refuses entries of one batch with different facts (they are stored once per batch)', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    await expect(recordAudit(store.db, [entry({ batchId, seq: 1, ssin: A }), entry({ batchId, seq: 2, ssin: B, legalContext: 'OTHER' })])).rejects.toMatchObject({ code: 'AUDIT_MIXED_BATCH' });
    expect(await rowCount('audit_persons')).toBe(0);
  });

  it('AuditSink: persons met in several writes keep one row; a re-run of the batch starts over', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const fields = { batchId, clientId: 'mut', service: 'LivingWages' as const, legalContext: 'HEALTH:X', deliberation: null, consultedAt: '2026-02-01T04:00:00Z' };
    const lines = Array.from({ length: 1_000 }, (_, i) => ({ seq: i + 1, ssin: PERSONS[(i * 11) % PERSONS.length], q: i % 3 === 0 ? null : 2, code: CODES[(i * 5) % CODES.length] }));
    // A first run that stops after some writes (a crash): its rows are there, partly.
    const crashed = new AuditSink(store.db, fields, { rowsPerFlush: 64 });
    for (const l of lines.slice(0, 300)) await crashed.add(l.seq, l.ssin, l.q, l.code);
    await crashed.settle();
    expect(await countAuditLines(store.db, batchId)).toBeGreaterThan(0);
    // The re-run writes everything again.
    const sink = new AuditSink(store.db, fields, { rowsPerFlush: 64 });
    for (const l of lines) await sink.add(l.seq, l.ssin, l.q, l.code);
    await sink.close();
    const want = expected(lines.map((l) => entry({ batchId, seq: l.seq, ssin: l.ssin, qualityCode: l.q, statusCode: l.code })));
    expect(await countAuditLines(store.db, batchId)).toBe(1_000); // as stored: nothing doubled
    expect(await rowCount('audit_persons')).toBe(PERSONS.length);
    expect(await stored(batchId)).toEqual(want);
    const [b] = (await store.db('audit_batches').select('client_id', 'client_cbe', 'service', 'deliberation')) as Record<string, unknown>[];
    expect(b).toEqual({ client_id: 'mut', client_cbe: '0411702543', service: 'LivingWages', deliberation: null });
  });

  it('AuditSink.ahead: writes early only when twice as many lines wait as may still come; a write due meanwhile follows it; every line stored once', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const fields = { batchId, clientId: 'fin', service: 'LivingWagesWithAmount' as const, legalContext: 'L', deliberation: null, consultedAt: '2026-01-15T03:00:07Z' };
    const lines = Array.from({ length: 70_000 }, (_, i) => ({ seq: i + 1, ssin: PERSONS[(i * 7) % PERSONS.length], q: i % 4 === 0 ? null : 1, code: CODES[(i * 3) % CODES.length] }));
    const sink = new AuditSink(store.db, fields, { rowsPerFlush: 25_000 });
    let at = 0;
    const addUpTo = async (n: number): Promise<void> => {
      for (; at < n; at++) await sink.add(lines[at].seq, lines[at].ssin, lines[at].q, lines[at].code);
    };
    await addUpTo(20_000);
    sink.ahead(10_001); // 20,000 waiting < 2 × 10,001: not yet
    sink.ahead(20_000);
    await sink.settle();
    expect(await countAuditLines(store.db, batchId)).toBe(0);
    sink.ahead(10_000); // now: the 20,000 are written while more lines come
    await addUpTo(20_010);
    sink.ahead(5); // a write is under way: nothing more is queued
    await sink.settle();
    expect(await countAuditLines(store.db, batchId)).toBe(20_000);
    await addUpTo(36_000);
    sink.ahead(1_000); // 16,000 waiting: an early write, still under way (no I/O completes between the adds) …
    await addUpTo(70_000); // … when `add` asks for the next at 25,000 waiting: it follows
    await sink.close();
    expect(await countAuditLines(store.db, batchId)).toBe(70_000);
    expect(await stored(batchId)).toEqual(expected(lines.map((l) => entry({ batchId, seq: l.seq, ssin: l.ssin, qualityCode: l.q, statusCode: l.code, clientId: 'fin', legalContext: 'L', deliberation: null, consultedAt: '2026-01-15T03:00:07Z', service: 'LivingWagesWithAmount' }))));
  });

  it('AuditSink stores SSINs with leading zeros and nines as they are (given as text or as their number)', async () => {
    const batchId = await addBatch(store.db, 'DONE');
    const fields = { batchId, clientId: 'fin', service: 'LivingWagesWithAmount' as const, legalContext: 'L', deliberation: null, consultedAt: '2026-01-15T03:00:07Z' };
    const ssins = ['00000000097', '01020300055', '00100000001', '99123199912', '10000000000', '00000100000'];
    const sink = new AuditSink(store.db, fields, { rowsPerFlush: 4 });
    for (const [i, s] of ssins.entries()) {
      await (i % 2 === 0 ? sink.add(i + 1, s, 1, 'MSG00000') : sink.addKey(i + 1, Number(s), 1, 'MSG00000'));
    }
    await sink.close();
    expect([...(await stored(batchId)).keys()].sort()).toEqual([...ssins].sort());
    expect(() => sink.addKey(9, 1e11, 1, 'MSG00000')).toThrow(RangeError);
    expect(() => sink.addKey(9, -1, 1, 'MSG00000')).toThrow(RangeError);
    expect(() => sink.addKey(9, 123.5, 1, 'MSG00000')).toThrow(RangeError);
  });

  it('forgetAudit removes one batch, persons and batch row, and nothing else', async () => {
    const keep = await addBatch(store.db, 'DONE');
    const drop = await addBatch(store.db, 'DONE');
    await recordAudit(store.db, [entry({ batchId: keep, seq: 1, ssin: A }), entry({ batchId: keep, seq: 2, ssin: B })]);
    const sink = new AuditSink(store.db, { batchId: drop, clientId: 'fin', service: 'LivingWagesWithAmount', legalContext: 'L', deliberation: null, consultedAt: '2026-01-15T03:00:07Z' }, { rowsPerFlush: 2 });
    for (let s = 1; s <= 5; s++) await sink.add(s, s % 2 ? A : B, 1, 'MSG00000');
    await sink.close();
    await forgetAudit(store.db, drop);
    expect(await countAuditLines(store.db, drop)).toBe(0);
    expect(await store.db('audit_batches').pluck('batch_id').then((r: unknown[]) => r.map(Number))).toEqual([keep]);
    expect(await countAuditLines(store.db)).toBe(2);
  });

  it('auditForSsin: only answered batches, only this SSIN, since the date, newest first, with the client name', async () => {
    const { db } = store;
    const done = await addBatch(db, 'DONE');
    const rejected = await addBatch(db, 'REJECTED');
    const claimed = await addBatch(db, 'CLAIMED');
    const later = await addBatch(db, 'DONE', 'mut');
    const old = await addBatch(db, 'DONE');
    await recordAudit(db, [entry({ batchId: done, seq: 1, ssin: A }), entry({ batchId: done, seq: 2, ssin: B }), entry({ batchId: done, seq: 3, ssin: A, statusCode: 'MSG00100', qualityCode: 7 })]);
    await recordAudit(db, [entry({ batchId: rejected, seq: 1, ssin: A })]);
    await recordAudit(db, [entry({ batchId: claimed, seq: 1, ssin: A })]);
    await recordAudit(db, [entry({ batchId: later, seq: 1, ssin: A, clientId: 'mut', consultedAt: '2026-02-01T03:00:00Z', deliberation: null, qualityCode: null, statusCode: 'MSG00012' })]);
    await recordAudit(db, [entry({ batchId: old, seq: 1, ssin: A, consultedAt: '2025-01-01T03:00:00Z' })]);
    const rows = await auditForSsin(db, A, '2025-06-01');
    expect(rows.map((r) => [r.clientId, r.clientName, r.consultedAt, r.statusCode, r.qualityCode])).toEqual([
      ['mut', 'Landsbond der Mutualiteiten', '2026-02-01T03:00:00Z', 'MSG00012', null],
      ['fin', 'FOD Financiën', '2026-01-15T03:00:07Z', 'MSG00100', 7],
      ['fin', 'FOD Financiën', '2026-01-15T03:00:07Z', 'MSG00000', 1],
    ]);
    const cs = await consultationsForSsin(db, A, '2020-01-01');
    expect(cs.map((c) => [c.batchId, c.lines.map((l) => l.seq)])).toEqual([
      [later, [1]],
      [done, [1, 3]],
      [old, [1]],
    ]);
    expect(await auditForSsin(db, B, '2026-01-16')).toEqual([]);
  });

  it('purgeAudit removes whole consultations before the bound and says how many', async () => {
    const ids = [await addBatch(store.db, 'DONE'), await addBatch(store.db, 'DONE'), await addBatch(store.db, 'DONE')];
    const at = ['2015-01-01T00:00:00Z', '2016-06-30T23:59:59Z', '2016-07-01T00:00:00Z'];
    for (let i = 0; i < 3; i++) await recordAudit(store.db, [entry({ batchId: ids[i], seq: 1, ssin: A, consultedAt: at[i] }), entry({ batchId: ids[i], seq: 2, ssin: B, consultedAt: at[i] })]);
    expect(await purgeAudit(store.db, '2016-07-01')).toEqual({ batches: 2, persons: 4 });
    expect(await countAuditLines(store.db)).toBe(2);
    expect(await purgeAudit(store.db, '2016-07-01')).toEqual({ batches: 0, persons: 0 });
  });
});
