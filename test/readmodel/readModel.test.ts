// The read model (src/readmodel) must say what the store says: for every SSIN the rules ask about,
// the same person, the same integrations of the sender in the same order, and amount rows on which
// the rules give the same answers as on every row of the person (lookupAmounts, straight from the
// store), for both roles, yearly and monthly lines and reference dates around the visibility
// boundaries; with the amounts in memory and read on demand. Then the file itself: a changed byte
// is refused, a batch reads the version recorded at its claim after an import, pruning keeps it.
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.js';
import { lookupAmounts } from '../../src/store/lookupAmounts.js';
import { lookupRegister } from '../../src/store/lookupRegister.js';
import { aggregateMonths, aggregateYear, amountColumns, monthsOf, visibleAt, yearOf, type AmountColumns } from '../../src/domain/aggregate.js';
import { addMonths, lastDayOfMonth } from '../../src/domain/dates.js';
import { makeSsin, ssinText } from '../../src/domain/ssin.js';
import { rng } from '../../src/generate/dataset.js';
import { buildReadModel } from '../../src/readmodel/build.js';
import { ReadModel, Staging } from '../../src/readmodel/model.js';
import { ReadModels } from '../../src/readmodel/registry.js';
import { readModelFile, readModelVersions } from '../../src/readmodel/files.js';
import { bumpStoreVersion, storeVersion } from '../../src/store/storeVersion.js';
import { claimBatch } from '../../src/journal/batches.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { LdmError } from '../../src/errors.js';
import type { AmountRow, Integration, RequestPeriod, Role } from '../../src/interfaces.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON } from '../helpers/postgres.js';

const pgAvailable = await postgresAvailable();

let db: Db;
let dir: string;
const r = rng(20261128);
const persons = Array.from({ length: 80 }, (_, i) => makeSsin({ year: 1950 + (i % 50), month: 1 + (i % 12), day: 1 + (i % 28) }, i + 1));
// Persons 0..69 are in the register; 70..79 only appear as partners or in amounts/repertory.
const registered = persons.slice(0, 70);
const OCMWS = ['0212000032', '0212111779'];
const SENDERS = [
  { institutionCbe: '0212000032', sector: 17 },
  { institutionCbe: '0212111779', sector: 17 },
  { institutionCbe: '0411702543', sector: 26 },
];

/** The same rows into any store (the generator is replayed from its seed). */
async function fill(db: Db): Promise<void> {
  const r = rng(20261129);
  await db('persons').insert(registered.map((ssin, i) => ({ ssin, replaced_by: i % 17 === 5 ? persons[(i + 3) % persons.length] : null })));
  const rep: Record<string, unknown>[] = [];
  for (const [i, ssin] of persons.entries()) {
    const n = Math.floor(r() * 5);
    for (let k = 0; k < n; k++) {
      const level = r();
      const start = `${2020 + Math.floor(r() * 6)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-0${1 + Math.floor(r() * 9)}`;
      rep.push({
        ssin,
        sector: level < 0.7 ? 17 : 26,
        institution_cbe: level < 0.3 ? '' : level < 0.6 ? OCMWS[k % 2] : level < 0.8 ? '0411702543' : '',
        quality_code: 1 + Math.floor(r() * 3),
        // equal starts on purpose: the order of equal (start, quality code) pairs must hold
        start_date: i % 5 === 0 ? '2023-01-01' : start,
        end_date: r() < 0.5 ? null : `${2024 + Math.floor(r() * 3)}-06-30`,
      });
    }
  }
  for (let i = 0; i < rep.length; i += 50) await db('repertory').insert(rep.slice(i, i + 50)).onConflict().ignore();
  const rows: Record<string, unknown>[] = [];
  for (const [i, ssin] of persons.entries()) {
    const partner = i % 3 === 0 ? persons[(i + 1) % persons.length] : i % 7 === 0 ? persons[(i + 11) % persons.length] : null;
    let month = `${2022 + Math.floor(r() * 3)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}`;
    // Some registered persons have no amount rows at all (the per-person index says -1 for them).
    const drawn = Math.floor(r() * 30);
    const count = i % 13 === 4 ? 0 : drawn;
    for (let k = 0; k < count; k++) {
      month = addMonths(month, Math.floor(r() * 3));
      const paidMonth = addMonths(month, 1 + Math.floor(r() * 3));
      rows.push({
        ssin,
        partner_ssin: k % 4 === 0 ? null : partner,
        ocmw_cbe: OCMWS[Math.floor(r() * 2)],
        benefit_type: r() < 0.8 ? 'LEEFLOON' : 'EQUIVALENT_LEEFLOON',
        category: r() < 0.5 ? 'ISOLATED' : 'COHABITANT',
        month,
        grant_from: `${month}-${String(1 + Math.floor(r() * 10)).padStart(2, '0')}`,
        grant_to: r() < 0.8 ? lastDayOfMonth(month) : `${month}-20`,
        amount_cents: Math.floor(r() * 200_000) - 10_000,
        paid_on: `${paidMonth}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`,
        status: r() < 0.3 ? 'PROVISIONAL' : 'DEFINITIVE',
      });
    }
  }
  for (let i = 0; i < rows.length; i += 50) await db('amounts').insert(rows.slice(i, i + 50));
  await bumpStoreVersion(db);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-readmodel-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  await fill(db);
});

afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function randomPeriod(): RequestPeriod {
  const y = 2022 + Math.floor(r() * 5);
  if (r() < 0.5) return { kind: 'year', year: y };
  const a = 1 + Math.floor(r() * 12);
  const b = a + Math.floor(r() * (13 - a));
  return { kind: 'months', from: `${y}-${String(a).padStart(2, '0')}`, to: `${y}-${String(b).padStart(2, '0')}` };
}

function answer(rows: AmountRow[], role: Role, p: RequestPeriod, referenceDate: string): unknown {
  if (p.kind === 'year') return aggregateYear(rows, role, p.year, referenceDate);
  if (p.kind === 'months') return aggregateMonths(rows, role, p.from, p.to, referenceDate);
  return undefined;
}

/** What the pipeline asks the model for a line and answers from its columns (services/amounts/resolve.ts). */
function modelAnswer(m: ReadModel, cols: AmountColumns, ssin: string, role: Role, p: RequestPeriod, referenceDate: string, staging?: Staging): unknown {
  // With the person's index (the hot path's per-person index; -1 for SSINs not in the register,
  // which may still have amount rows: then the key is searched).
  const person = m.personIndex(ssin);
  if (p.kind === 'year') {
    m.amountColumns(cols, ssin, role, `${p.year}-`, `${p.year}-\uffff`, undefined, person, staging);
    return yearOf(cols, role, p.year, referenceDate);
  }
  if (p.kind === 'months') {
    m.amountColumns(cols, ssin, role, p.from, p.to, (paidOn) => visibleAt(m.strings, paidOn, referenceDate), person, staging);
    return monthsOf(cols, role, p.from, p.to, referenceDate);
  }
  return undefined;
}

/**
 * The resolver's read-ahead (stage) of a group of two persons in three (those with i % 3 !== skip),
 * some twice, with -1 (not a person) among them, in no order.
 */
function stageTwoInThree(m: ReadModel, skip: number): Staging {
  const staging = new Staging();
  const group = persons.filter((_, i) => i % 3 !== skip).flatMap((s, i) => (i % 4 === 0 ? [m.personIndex(s), -1, m.personIndex(s)] : [m.personIndex(s)]));
  m.stage(staging, Int32Array.from(group.reverse()), group.length);
  return staging;
}

describe('read model', () => {
  for (const [repInMemory, stageWindowRecords] of [
    [true, undefined],
    [false, undefined],
    [false, 'default'],
    [false, 1],
    [false, 2],
  ] as const) {
  const staged = stageWindowRecords === undefined ? '' : `, two persons in three staged (${stageWindowRecords === 'default' ? 'default window' : `a window of ${stageWindowRecords} rows`})`;
  it(`holds what the register lookups answer: persons, replacements and the sender’s integrations in order (repertory ${repInMemory ? 'in memory' : 'read per person'}${staged})`, async () => {
    const built = await buildReadModel(db, join(dir, 'rm'));
    const m = ReadModel.open(built.path, { repertoryInMemoryBytes: repInMemory ? undefined : 0, stageWindowRecords: typeof stageWindowRecords === 'number' ? stageWindowRecords : undefined });
    expect(m.repertoryInMemory).toBe(repInMemory);
    const reused: Integration[] = [];
    let replaced = 0;
    // The resolver's read-ahead of repertory rows (stage): two persons in three, some twice, in no order.
    let staging: Staging | undefined;
    if (stageWindowRecords !== undefined) {
      staging = stageTwoInThree(m, 1);
      expect(staging.repertory.size).toBeGreaterThan(persons.length / 3);
    }
    try {
      expect(m.header.counts.persons).toBe(registered.length);
      for (const sender of SENDERS) {
        const facts = await lookupRegister(db, sender, persons);
        for (const ssin of persons) {
          const p = m.personIndex(ssin);
          expect(p >= 0 ? m.person(p) : undefined).toEqual(facts.persons.get(ssin));
          const fromModel = p >= 0 ? m.integrations(p, sender.institutionCbe, sender.sector) : [];
          expect(fromModel).toEqual(facts.integrations.get(ssin) ?? []);
          // The hot path's forms: reused objects, the replacement without a Person object.
          if (p >= 0) {
            const n = m.integrationsInto(reused, p, ssin, sender.institutionCbe, sender.sector, staging);
            expect(reused.slice(0, n)).toEqual(fromModel);
            expect(m.replacedByOf(p)).toBe(facts.persons.get(ssin)?.replacedBy ?? null);
          }
        }
      }
      for (const ssin of registered) if (m.replacedByOf(m.personIndex(ssin)) !== null) replaced++;
      expect(replaced).toBeGreaterThan(0);
      expect(m.personIndex('123')).toBe(-1);
    } finally {
      m.close();
    }
  });
  }

  for (const [inMemory, partnerSpanRecords, stageWindowRecords, refsOnDisk] of [
    [true, undefined, undefined, false],
    [false, undefined, undefined, false],
    [false, undefined, undefined, true],
    [false, 1, undefined, true],
    [false, undefined, 'default', false],
    [false, undefined, 1, false],
    [false, undefined, 3, true],
    [false, undefined, 16, false],
  ] as const) {
    const how = inMemory
      ? 'in memory'
      : `read on demand${refsOnDisk ? ', partner references too' : ''}${partnerSpanRecords === 1 ? ", a partner's records one by one" : ''}${stageWindowRecords === undefined ? '' : `, two persons in three staged (${stageWindowRecords === 'default' ? 'default window' : `a window of ${stageWindowRecords} records`})`}`;
    it(`gives the rules the same answers as every row of the person in the store (amounts ${how})`, async () => {
      const built = await buildReadModel(db, join(dir, 'rm'));
      const m = ReadModel.open(built.path, {
        amountsInMemoryBytes: inMemory ? undefined : 0,
        partnerRowInMemoryBytes: refsOnDisk ? 0 : undefined,
        partnerSpanRecords,
        stageWindowRecords: typeof stageWindowRecords === 'number' ? stageWindowRecords : undefined,
      });
      expect(m.amountsInMemory).toBe(inMemory);
      // The resolver's read-ahead (stage): two persons in three, some twice, in no order,
      // and -1 (not a person); the others are read as usual.
      let staging: Staging | undefined;
      if (stageWindowRecords !== undefined) {
        staging = stageTwoInThree(m, 0);
        expect(staging.amounts.size).toBeGreaterThan(persons.length / 3);
      }
      const referenceDates = ['2023-03-03', '2023-03-04', '2024-02-29', '2024-12-07', '2025-06-14', '2026-03-15', '2027-01-01'];
      let compared = 0;
      let withData = 0;
      const lastPaid = new Set<boolean>();
      const cols = amountColumns(m.strings, 1); // grows as needed
      try {
        for (const role of ['BENEFICIARY', 'PARTNER'] as const) {
          const all = await lookupAmounts(db, role, persons);
          for (const referenceDate of referenceDates) {
            for (const ssin of persons) {
              for (const period of [randomPeriod(), randomPeriod(), randomPeriod()]) {
                const expected = answer(all.get(ssin) ?? [], role, period, referenceDate);
                expect(modelAnswer(m, cols, ssin, role, period, referenceDate, staging)).toEqual(expected);
                compared++;
                if (Array.isArray(expected) ? expected.length > 0 : (expected as { entries: unknown[] }).entries.length > 0) withData++;
                if (!Array.isArray(expected)) lastPaid.add((expected as { lastMonthIsLastPaid: boolean }).lastMonthIsLastPaid);
              }
            }
          }
        }
      } finally {
        m.close();
      }
      expect(compared).toBe(2 * referenceDates.length * persons.length * 3);
      expect(withData).toBeGreaterThan(compared / 10);
      expect([...lastPaid].sort()).toEqual([false, true]);
    });
  }

  it('finds a group of keys at once as one binary search per key does (absent, repeated, out of range, not 11 digits)', async () => {
    const built = await buildReadModel(db, join(dir, 'rm'));
    const m = ReadModel.open(built.path);
    try {
      const known = registered.map(Number).sort((a, b) => a - b);
      const pool = [...known, ...persons.slice(70).map(Number), known[0] - 1, known[known.length - 1] + 1, 0, 99_999_999_999, -1, 1.5, 1e11, 12_345_678_901];
      for (const n of [0, 1, 2, 7, 70, 300, 5000]) {
        const keys = Float64Array.from({ length: n }, () => pool[Math.floor(r() * pool.length)]);
        const got = new Int32Array(n + 3).fill(7);
        m.personIndexesOfKeys(keys, n, got);
        const want = Array.from(keys, (k) => (k >= 0 && Number.isInteger(k) && k < 1e11 ? m.personIndex(ssinText(k)) : -1));
        expect(Array.from(got.subarray(0, n))).toEqual(want);
        expect(Array.from(got.subarray(n))).toEqual([7, 7, 7]); // nothing written past n
        if (n >= 70) expect(want.filter((i) => i >= 0).length).toBeGreaterThan(n / 2);
      }
      // more keys than fit with their positions in a double: one search per key
      const many = Float64Array.from({ length: 70_000 }, (_, i) => known[i % known.length]);
      const into = new Int32Array(many.length);
      m.personIndexesOfKeys(many, many.length, into);
      expect(Array.from(into.subarray(0, 140))).toEqual(Array.from(many.subarray(0, 140), (k) => m.personIndex(ssinText(k))));
    } finally {
      m.close();
    }
  });

  it('reads ahead the records a PARTNER line reads (one beneficiary’s): answered from the staging with the file closed, the same answers', async () => {
    const built = await buildReadModel(db, join(dir, 'rm'));
    const m = ReadModel.open(built.path, { amountsInMemoryBytes: 0, stageWindowRecords: 2 });
    const staging = new Staging();
    const group = registered.map((s) => m.personIndex(s));
    m.stage(staging, Int32Array.from(group), group.length, new Uint8Array(group.length).fill(1));
    const all = await lookupAmounts(db, 'PARTNER', registered);
    m.close(); // a line that would still read from the file fails with READ_MODEL_CLOSED
    const cols = amountColumns(m.strings, 1);
    let fromStaging = 0;
    let withRows = 0;
    for (const ssin of registered) {
      for (const period of [{ kind: 'year', year: 2024 }, { kind: 'months', from: '2023-01', to: '2025-12' }] as const) {
        try {
          expect(modelAnswer(m, cols, ssin, 'PARTNER', period, '2026-03-15', staging)).toEqual(answer(all.get(ssin) ?? [], 'PARTNER', period, '2026-03-15'));
          fromStaging++;
          if ((all.get(ssin) ?? []).length > 0) withRows++;
        } catch (err) {
          // Only a person named by several beneficiaries' rows is not staged (partnerOwner).
          expect((err as { code?: string }).code).toBe('READ_MODEL_CLOSED');
          expect(new Set((all.get(ssin) ?? []).map((r) => r.ssin)).size).toBeGreaterThan(1);
        }
      }
    }
    expect(withRows).toBeGreaterThan(10);
    expect(fromStaging).toBeGreaterThan(registered.length);
  });

  it('holds repertory values that do not fit 16 bits (sector, quality code) as they are', async () => {
    const wide = await openDatabase({ client: 'sqlite', filename: join(dir, 'wide.sqlite') });
    try {
      const [a, b] = registered;
      await wide('persons').insert([{ ssin: a, replaced_by: null }, { ssin: b, replaced_by: null }]);
      await wide('repertory').insert([
        { ssin: a, sector: 17, institution_cbe: '', quality_code: 2, start_date: '2020-01-01', end_date: null },
        { ssin: a, sector: 17, institution_cbe: '', quality_code: 70_000, start_date: '2021-01-01', end_date: '2024-12-31' },
        { ssin: b, sector: 65_536, institution_cbe: '', quality_code: 1, start_date: '2022-01-01', end_date: null },
      ]);
      await bumpStoreVersion(wide);
      const path = (await buildReadModel(wide, join(dir, 'rm-wide'))).path;
      for (const repertoryInMemoryBytes of [undefined, 0]) {
        const m = ReadModel.open(path, { repertoryInMemoryBytes });
        try {
          for (const sender of [{ institutionCbe: '0212000032', sector: 17 }, { institutionCbe: '0212000032', sector: 65_536 }]) {
            const facts = await lookupRegister(wide, sender, [a, b]);
            for (const ssin of [a, b]) expect(m.integrations(m.personIndex(ssin), sender.institutionCbe, sender.sector)).toEqual(facts.integrations.get(ssin) ?? []);
          }
          expect(m.integrations(m.personIndex(a), '0212000032', 17).map((i) => [i.qualityCode, i.endDate])).toEqual([[2, null], [70_000, '2024-12-31']]);
        } finally {
          m.close();
        }
      }
    } finally {
      await wide.destroy();
    }
  });

  it('is the same file whatever the page size of the streamed reads (pages cut through a person; a person with more rows than a page)', async () => {
    const whole = await buildReadModel(db, join(dir, 'rm-pages-whole'));
    const a = ReadModel.open(whole.path);
    try {
      // the data holds persons with several amount rows and partner references: pages of 1–3 rows cut through them
      expect(a.header.counts.amounts).toBeGreaterThan(a.header.counts.persons);
      expect(a.header.counts.partnerRefs).toBeGreaterThan(0);
      for (const pageRows of [1, 2, 3, 7]) {
        const paged = await buildReadModel(db, join(dir, `rm-pages-${pageRows}`), { pageRows });
        const b = ReadModel.open(paged.path);
        try {
          expect(b.header.crc32, `pages of ${pageRows} rows`).toBe(a.header.crc32);
          expect(b.header.counts).toEqual(a.header.counts);
        } finally {
          b.close();
        }
      }
    } finally {
      a.close();
    }
  });

  it('refuses a file with a changed byte, and the registry builds it again', async () => {
    const rmDir = join(dir, 'rm-corrupt');
    const built = await buildReadModel(db, rmDir);
    const bytes = await readFile(built.path);
    bytes[bytes.length - 40] ^= 0x01;
    await writeFile(built.path, bytes);
    expect(() => ReadModel.open(built.path)).toThrow(expect.objectContaining({ code: 'READ_MODEL_CORRUPT' }) as LdmError);
    const models = new ReadModels(rmDir, { logger: silentLogger });
    const lease = await models.acquire(db, undefined);
    expect(lease.model.storeVersion).toBe(await storeVersion(db));
    lease.release();
    models.close();
    expect(() => ReadModel.open(built.path).close()).not.toThrow();
  });

  it('refuses a torn file (a page of zeros in its body) and a file of the previous format', async () => {
    const rmDir = join(dir, 'rm-torn');
    const built = await buildReadModel(db, rmDir);
    const good = await readFile(built.path);
    const torn = Buffer.from(good);
    const page = Math.floor(torn.length / 2 / 4096) * 4096;
    torn.fill(0, page, page + 4096);
    expect(torn.equals(good)).toBe(false);
    await writeFile(built.path, torn);
    expect(() => ReadModel.open(built.path)).toThrow(expect.objectContaining({ code: 'READ_MODEL_CORRUPT', message: expect.stringContaining('checksum') }) as LdmError);
    const older = Buffer.from(good);
    older.writeUInt32LE(2, 8); // format 2 (SHA-256 checksum)
    await writeFile(built.path, older);
    expect(() => ReadModel.open(built.path)).toThrow(expect.objectContaining({ code: 'READ_MODEL_OUTDATED', message: expect.stringContaining('another version of ldm-batch') }) as LdmError);
    // the registry builds it again, and says why without a warning
    const lines: string[] = [];
    const models = new ReadModels(rmDir, { logger: createLogger({ level: 'info', write: (l: string) => void lines.push(l) }) });
    const lease = await models.acquire(db, undefined);
    expect(lease.model.storeVersion).toBe(await storeVersion(db));
    lease.release();
    models.close();
    expect(lines.some((l) => l.includes('read_model_outdated'))).toBe(true);
    expect(lines.some((l) => l.includes('read_model_corrupt'))).toBe(false);
    expect(() => ReadModel.open(built.path).close()).not.toThrow();
  });

  it('answers a batch from the version recorded at its claim after an import, and pruning keeps that version', async () => {
    const rmDir = join(dir, 'rm-pinned');
    const models = new ReadModels(rmDir, { logger: silentLogger });
    const ssin = registered[1];
    const claimedBefore = await claimBatch(db, { clientId: null, fileName: 'a.xml', size: 0, sha256: '', referenceDate: '2026-03-15', processedAt: '2026-03-15T10:00:00Z', responseName: 'a.response.xml', instanceId: 'test' });
    const before = await models.acquire(db, claimedBefore.storeVersion);
    before.release();
    // an "import": a new person and a new version
    const newcomer = persons[75];
    await db.transaction(async (trx) => {
      await trx('persons').insert({ ssin: newcomer, replaced_by: null });
      await bumpStoreVersion(trx);
    });
    const claimedAfter = await claimBatch(db, { clientId: null, fileName: 'b.xml', size: 0, sha256: '', referenceDate: '2026-03-15', processedAt: '2026-03-15T10:00:00Z', responseName: 'b.response.xml', instanceId: 'test' });
    expect(claimedAfter.storeVersion).toBe((claimedBefore.storeVersion ?? 0) + 1);
    await models.build(db);
    // a fresh process (a re-run after a crash) reads the recorded version
    models.close();
    const again = new ReadModels(rmDir, { logger: silentLogger });
    await again.prune(db); // both batches are CLAIMED: both versions stay
    expect(readModelVersions(rmDir)).toEqual([claimedBefore.storeVersion, claimedAfter.storeVersion]);
    const old = await again.acquire(db, claimedBefore.storeVersion);
    const now = await again.acquire(db, claimedAfter.storeVersion);
    expect(old.model.personIndex(newcomer)).toBe(-1);
    expect(now.model.personIndex(newcomer)).toBeGreaterThanOrEqual(0);
    expect(old.model.personIndex(ssin)).toBeGreaterThanOrEqual(0);
    old.release();
    now.release();
    again.close();
    // once the first batch is finished, its version goes
    await db('batches').where({ id: claimedBefore.id }).update({ state: 'DONE' });
    const later = new ReadModels(rmDir, { logger: silentLogger });
    expect(await later.prune(db)).toEqual([claimedBefore.storeVersion]);
    expect(existsSync(readModelFile(rmDir, claimedBefore.storeVersion as number))).toBe(false);
    later.close();
  });
});

describe.skipIf(!pgAvailable)(pgAvailable ? 'read model on PostgreSQL' : `read model on PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`, () => {
  it('is built from a PostgreSQL store with the same content, byte for byte after the header, as from SQLite', async () => {
    const temp = await createTempDatabase();
    const pg = await openDatabase({ client: 'postgres', url: temp.url });
    try {
      await fill(pg);
      const lite = await openDatabase({ client: 'sqlite', filename: join(dir, 'same.sqlite') });
      await fill(lite);
      const fromPg = await buildReadModel(pg, join(dir, 'rm-pg'));
      const fromSqlite = await buildReadModel(lite, join(dir, 'rm-sqlite'));
      await lite.destroy();
      const a = ReadModel.open(fromPg.path);
      const b = ReadModel.open(fromSqlite.path);
      try {
        // same version number in both stores (one bump each): the bodies must be equal
        expect(a.header.crc32).toBe(b.header.crc32);
        expect(a.header.counts).toEqual(b.header.counts);
      } finally {
        a.close();
        b.close();
      }
    } finally {
      await pg.destroy();
      await temp.drop();
    }
  });
});
