// The read model holds the four kinds of Handiservice data (readmodel/handiservice.ts):
// - built from a store, it gives for every SSIN what the store lookups give (lookupHandicapRecords,
//   lookupProviderIntegrations), also with query pages cut through a person, and the same body
//   from PostgreSQL as from SQLite;
// - a Handiservice import makes a new store version (like persons, repertory, amounts);
// - a Handiservice batch claimed before an import of new Handiservice rows answers as of its
//   claim: answered again after the import (a re-run), its response is the same bytes, while a
//   batch claimed after the import sees the new rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { lookupHandicapRecords, lookupProviderIntegrations } from '../../src/store/handiservice/lookup.js';
import { buildReadModel } from '../../src/readmodel/build.js';
import { ReadModel } from '../../src/readmodel/model.js';
import { ReadModels } from '../../src/readmodel/registry.js';
import { storeVersion } from '../../src/store/storeVersion.js';
import { importCsv } from '../../src/import/importCsv.js';
import { claimBatch } from '../../src/journal/batches.js';
import { answerRequest } from '../../src/pipeline/answerRequest.js';
import { openApp, type AppContext } from '../../src/cli/context.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { rng } from '../../src/generate/dataset.js';
import { silentLogger } from '../../src/log/logger.js';
import type { HandicapRecords } from '../../src/interfaces.js';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON } from '../helpers/postgres.js';

const pgAvailable = await postgresAvailable();

const persons = Array.from({ length: 60 }, (_, i) => makeSsin({ year: 1950 + (i % 50), month: 1 + (i % 12), day: 1 + (i % 28) }, i + 1));
const LEGISLATIONS = ['IT', 'IVT', 'THAB', 'CHILD'];
const bool = (x: number): string | null => (x < 0.3 ? null : x < 0.65 ? 'true' : 'false');
const date = (r: () => number): string => `${2020 + Math.floor(r() * 7)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;

/** The same rows into any store (replayed from the seed): the four kinds, and sector-16 repertory rows. */
async function fill(db: Db): Promise<void> {
  const r = rng(1616);
  await db('persons').insert(persons.slice(0, 55).map((ssin) => ({ ssin, replaced_by: null })));
  const rep: Record<string, unknown>[] = [];
  const recs: Record<string, unknown>[] = [];
  const rights: Record<string, unknown>[] = [];
  const pays: Record<string, unknown>[] = [];
  const cards: Record<string, unknown>[] = [];
  for (const [i, ssin] of persons.entries()) {
    for (let k = 0, n = Math.floor(r() * 4); k < n; k++) {
      rep.push({ ssin, sector: r() < 0.6 ? 16 : 17, institution_cbe: r() < 0.4 ? '' : r() < 0.5 ? '0212000032' : '0312123491', quality_code: 1 + Math.floor(r() * 7), start_date: date(r), end_date: r() < 0.5 ? null : '2027-06-30' });
    }
    // ids chosen so that the store's key order and a person's order differ from insertion order
    for (let k = 0, n = Math.floor(r() * 4); k < n; k++) {
      const pending = r() < 0.3;
      recs.push({
        recognition_id: `REC-${(i * 7 + k * 13) % 97}-${i}-${k}`,
        ssin,
        legislation: LEGISLATIONS[Math.floor(r() * 4)],
        request_date: date(r),
        status: pending ? 'PENDING' : r() < 0.5 ? 'DECIDED' : 'APPEAL',
        decision_date: pending ? null : date(r),
        start_date: pending ? null : date(r),
        end_date: r() < 0.5 ? null : '2028-01-31',
        points: r() < 0.3 ? null : Math.floor(r() * 30),
        earning_capacity_reduced: bool(r()),
        lower_limbs_50: bool(r()),
        full_blindness: bool(r()),
        upper_limbs_amputated: bool(r()),
        upper_limbs_paralysed: bool(r()),
      });
    }
    for (let k = 0, n = Math.floor(r() * 3); k < n; k++) {
      rights.push({ right_id: `HR-${(i * 5 + k) % 41}-${i}-${k}`, ssin, legislation: LEGISLATIONS[Math.floor(r() * 4)], category: `CAT${k}`, start_date: date(r), end_date: r() < 0.5 ? null : '2027-12-31', monthly_amount_cents: r() < 0.3 ? null : 3_000_000_000 + Math.floor(r() * 100_000), partner_income: bool(r()) });
    }
    for (let m = 12, n = Math.floor(r() * 14); m > 12 - n; m--) {
      for (const leg of r() < 0.3 ? ['IVT', 'IT'] : ['IT']) pays.push({ ssin, month: `2025-${String(m).padStart(2, '0')}`, legislation: leg, amount_cents: Math.floor(r() * 200_000) - 1000, suspended_cents: r() < 0.7 ? null : Math.floor(r() * 5000) });
    }
    for (let k = 0, n = Math.floor(r() * 3); k < n; k++) cards.push({ card_number: `C${(i * 3 + k) % 17}-${i}-${k}`, ssin, type: k % 2 ? 'PARKING' : 'REDUCTION', delivered_on: date(r), end_date: r() < 0.5 ? null : '2030-01-01' });
  }
  const insert = async (table: string, rows: Record<string, unknown>[]): Promise<void> => {
    for (let i = 0; i < rows.length; i += 40) await db(table).insert(rows.slice(i, i + 40)).onConflict().ignore();
  };
  await insert('repertory', rep);
  await insert('handicap_recognitions', recs);
  await insert('handicap_rights', rights);
  await insert('handicap_payments', pays);
  await insert('social_cards', cards);
  await db('store_state').where({ id: 1 }).update({ version: db.raw('version + 1') });
}

/** A person's records in a fixed order (the store lookup has none; the rules sort). */
function canonical(r: HandicapRecords | undefined): HandicapRecords | undefined {
  if (r === undefined) return undefined;
  const by = <T>(f: (x: T) => string) => (a: T, b: T) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0);
  return {
    recognitions: [...r.recognitions].sort(by((x) => x.recognitionId)),
    rights: [...r.rights].sort(by((x) => x.rightId)),
    payments: [...r.payments].sort(by((x) => `${x.month}/${x.legislation}`)),
    cards: [...r.cards].sort(by((x) => x.cardNumber)),
  };
}

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-rm-hs-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  await fill(db);
});

afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('read model: Handiservice data', () => {
  it('holds for every SSIN what the store lookups return (the four kinds, sector-16 integrations), whatever the page size', async () => {
    const store = await lookupHandicapRecords(db, persons);
    const provider = await lookupProviderIntegrations(db, persons);
    expect(store.size).toBeGreaterThan(40);
    const a = await buildReadModel(db, join(dir, 'rm-a'));
    const b = await buildReadModel(db, join(dir, 'rm-b'), { pageRows: 3 });
    const m = ReadModel.open(a.path);
    // …and the other with its repertory read per person (on disk), as at national scale.
    const small = ReadModel.open(b.path, { repertoryInMemoryBytes: 0 });
    try {
      expect(small.header.crc32).toBe(m.header.crc32);
      const rows = [...store.values()].reduce((n, x) => n + x.recognitions.length + x.rights.length + x.payments.length + x.cards.length, 0);
      expect(m.header.counts.handiservice).toBe(rows);
      let withData = 0;
      for (const ssin of persons) {
        const got = m.handicapRecords(ssin);
        if (got !== undefined) withData++;
        expect(canonical(got), ssin).toEqual(canonical(store.get(ssin)));
        const p = m.personIndex(ssin);
        // the provider check only runs for persons in the register
        if (p >= 0) expect(m.sectorIntegrations(p, 16), ssin).toEqual(provider.get(ssin) ?? []);
        if (p >= 0) expect(small.sectorIntegrations(p, 16), ssin).toEqual(provider.get(ssin) ?? []);
      }
      expect(withData).toBe(store.size);
      expect(m.handicapRecords('00000000000')).toBeUndefined();
      expect(m.handicapRecords('not an ssin')).toBeUndefined();
    } finally {
      m.close();
      small.close();
    }
  });

  it.skipIf(!pgAvailable)(pgAvailable ? 'is the same body built from PostgreSQL as from SQLite (bigint amounts, booleans, nulls)' : `PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`, async () => {
    const temp = await createTempDatabase();
    const pg = await openDatabase({ client: 'postgres', url: temp.url });
    try {
      await fill(pg);
      const fromPg = await buildReadModel(pg, join(dir, 'rm-pg'));
      const fromSqlite = await buildReadModel(db, join(dir, 'rm-lite'));
      const a = ReadModel.open(fromPg.path);
      const b = ReadModel.open(fromSqlite.path);
      try {
        expect(a.header.crc32).toBe(b.header.crc32);
        const store = await lookupHandicapRecords(pg, persons);
        for (const ssin of persons) expect(canonical(a.handicapRecords(ssin)), ssin).toEqual(canonical(store.get(ssin)));
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

describe('read model: a Handiservice batch answers as of its claim', () => {
  const REF = '2026-01-15';
  let inst: Instance;
  let gen: string;
  let app: AppContext;

  beforeAll(async () => {
    inst = await makeInstance();
    gen = join(inst.dir, 'gen');
    const g = await run(process.execPath, [BIN, 'generate', '--out', gen, '--persons', '400', '--lines', '200', '--seed', '16', '--reference-date', REF]);
    expect(g.code, g.stderr).toBe(0);
    for (const kind of ['clients', 'persons', 'repertory', 'handicap_recognitions', 'handicap_rights', 'handicap_payments', 'social_cards']) {
      const r = await inst.cli(['import', kind, join(gen, `${kind}.csv`), '--json']);
      expect(r.code, `${kind}: ${r.stderr}`).toBe(0);
    }
    app = await openApp(inst.config);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('a re-run after an import of new Handiservice rows writes the same bytes; a batch claimed after sees the new rows', async () => {
    const request = join(gen, 'request-handiservice-200.xml');
    const signer = await app.signer();
    const claim = (name: string) =>
      claimBatch(app.db, { clientId: null, fileName: name, size: 0, sha256: '', referenceDate: REF, processedAt: '2026-01-15T10:00:00Z', responseName: `${name}.response.xml`, instanceId: 'test' });
    const answer = async (models: ReadModels, version: number | null, out: string): Promise<Buffer> => {
      const r = await answerRequest({ db: app.db, environment: app.config.environment, clients: app.clients, requestPath: request, referenceDate: REF, processedAt: '2026-01-15T10:00:00Z', signer, outPath: out, readModels: models, storeVersion: version });
      expect(r.outcome, JSON.stringify(r.rejection)).toBe('ANSWERED');
      expect(r.statusCounts.MSG00000 ?? 0).toBeGreaterThan(0);
      return readFile(out);
    };
    const before = await claim('before.xml');
    const first = await answer(app.readModels, before.storeVersion, join(inst.dir, 'first.xml'));

    // the import: every payment one cent more, and a new social card for every person with a payment
    const payments = (await readFile(join(gen, 'handicap_payments.csv'), 'utf8')).trimEnd().split('\n');
    const [head, ...rows] = payments;
    const cols = head.split(',');
    const ac = cols.indexOf('amount_cents');
    const changed = rows.map((l) => l.split(',').map((v, i) => (i === ac ? String(Number(v) + 1) : v)).join(','));
    await writeFile(join(inst.dir, 'payments2.csv'), `${head}\n${changed.join('\n')}\n`);
    const paid = [...new Set(rows.map((l) => l.split(',')[cols.indexOf('ssin')]))];
    await writeFile(join(inst.dir, 'cards2.csv'), `card_number,ssin,type,delivered_on,end_date\n${paid.map((s, i) => `NEW-${i},${s},PARKING,2025-06-01,`).join('\n')}\n`);
    const v0 = await storeVersion(app.db);
    expect((await importCsv(app.db, 'handicap_payments', join(inst.dir, 'payments2.csv'))).updated).toBe(rows.length);
    expect(await storeVersion(app.db)).toBe(v0 + 1);
    expect((await importCsv(app.db, 'social_cards', join(inst.dir, 'cards2.csv'))).inserted).toBe(paid.length);
    expect(await storeVersion(app.db)).toBe(v0 + 2);
    const after = await claim('after.xml');
    expect(after.storeVersion).toBe((before.storeVersion as number) + 2);

    // a fresh process re-runs the batch claimed before: the version of its claim is kept and read
    const fresh = new ReadModels(join(inst.dir, 'data', 'readmodel'), { logger: silentLogger });
    try {
      await fresh.prune(app.db);
      const again = await answer(fresh, before.storeVersion, join(inst.dir, 'again.xml'));
      expect(again.equals(first)).toBe(true);
      const later = await answer(fresh, after.storeVersion, join(inst.dir, 'later.xml'));
      expect(later.equals(first)).toBe(false);
      expect(later.toString('utf8')).toContain('number="NEW-');
      expect(first.toString('utf8')).not.toContain('number="NEW-');
    } finally {
      fresh.close();
    }
  }, 180_000);
});
