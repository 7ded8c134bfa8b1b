// The four Handiservice imports (contract §8) on real SQLite and PostgreSQL stores: counts
// inserted/updated/unchanged, keys, a key twice naming both lines, bad rows with line and reason,
// nothing stored when any row is bad, and the stored rows read back by the lookups.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { importCsv, ImportRejected } from '../../src/import/importCsv.js';
import { lookupHandicapRecords, lookupProviderIntegrations } from '../../src/store/handiservice/lookup.js';
import { resolveHandiservice } from '../../src/services/handiservice/resolve.js';
import { ReadModel } from '../../src/readmodel/model.js';
import { buildReadModel } from '../../src/readmodel/build.js';
import type { Client, ProfiledResponseLine, RequestLine } from '../../src/interfaces.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';

const A = '85073003328';
const B = '90010117741';
const BAD_CHECK = '85073003329';

const REC_H = 'recognition_id,ssin,legislation,request_date,status,decision_date,start_date,end_date,points,earning_capacity_reduced,lower_limbs_50,full_blindness,upper_limbs_amputated,upper_limbs_paralysed';
const RIGHT_H = 'right_id,ssin,legislation,category,start_date,end_date,monthly_amount_cents,partner_income';
const PAY_H = 'ssin,month,legislation,amount_cents,suspended_cents';
const CARD_H = 'card_number,ssin,type,delivered_on,end_date';

const FILES: Record<string, { header: string; rows: string[]; table: string; changed: string }> = {
  handicap_recognitions: {
    header: REC_H,
    table: 'handicap_recognitions',
    rows: [`REC-1,${A},IT,2020-01-10,DECIDED,2020-03-01,2020-02-01,,12,true,false,,false,`, `REC-2,${A},THAB,2025-05-01,PENDING,,,,,,,,,`],
    changed: `REC-1,${A},IT,2020-01-10,APPEAL,2020-03-01,2020-02-01,,12,true,false,,false,`,
  },
  handicap_rights: { header: RIGHT_H, table: 'handicap_rights', rows: [`HR-1,${A},IVT,CAT3,2024-01-01,,45000,false`, `HR-2,${B},IT,B,2023-01-01,2023-12-31,,`], changed: `HR-1,${A},IVT,CAT3,2024-01-01,2025-12-31,45000,false` },
  handicap_payments: { header: PAY_H, table: 'handicap_payments', rows: [`${A},2025-04,IT,90000,`, `${A},2025-04,IVT,45000,1000`, `${A},2025-05,IT,-500,`], changed: `${A},2025-04,IT,90000,500` },
  social_cards: { header: CARD_H, table: 'social_cards', rows: [`CARD-1,${A},PARKING,2021-06-01,2031-05-31`, `CARD-2,${B},REDUCTION,2022-01-01,`], changed: `CARD-1,${A},PARKING,2021-06-01,` },
};

const BAD: { kind: string; rows: string[]; line: number; reason: RegExp }[] = [
  { kind: 'handicap_recognitions', rows: [`REC-9,${A},XX,2020-01-10,DECIDED,,,,,,,,,`], line: 2, reason: /legislation must be one of IT, IVT, THAB, CHILD/ },
  { kind: 'handicap_recognitions', rows: [`REC-9,${A},IT,2020-01-10,DONE,,,,,,,,,`], line: 2, reason: /status must be one of PENDING, DECIDED, APPEAL/ },
  { kind: 'handicap_recognitions', rows: [`REC-9,${A},IT,2020-01-10,DECIDED,,,,,yes,,,,`], line: 2, reason: /earning_capacity_reduced must be true or false/ },
  { kind: 'handicap_recognitions', rows: [`REC-9,${A},IT,2020-01-10,PENDING,,,2020-01-09,,,,,,`], line: 2, reason: /end_date is before request_date/ },
  { kind: 'handicap_recognitions', rows: [`REC-9,${A},IT,2020-01-10,DECIDED,2020-01-01,,,,,,,,`], line: 2, reason: /decision_date is before request_date/ },
  { kind: 'handicap_recognitions', rows: [`REC-9,${BAD_CHECK},IT,2020-01-10,DECIDED,,,,,,,,,`], line: 2, reason: /wrong check digits/ },
  { kind: 'handicap_recognitions', rows: [`REC-8,${A},IT,2020-01-10,DECIDED,,,,,,,,,`, `REC-9,${A},IT,2020-01-10,DECIDED,,,,-3,,,,,`], line: 3, reason: /points must be a whole number/ },
  { kind: 'handicap_rights', rows: [`HR-9,${A},IT,CAT 3,2024-01-01,,,`], line: 2, reason: /category must be 1-32 printable/ },
  { kind: 'handicap_rights', rows: [`HR-9,${A},IT,C,2024-01-01,2023-12-31,,`], line: 2, reason: /end_date is before start_date/ },
  { kind: 'handicap_rights', rows: [`HR-9,${A},IT,C,,,,`], line: 2, reason: /start_date is required/ },
  { kind: 'handicap_payments', rows: [`${A},2025-13,IT,1,`], line: 2, reason: /month must be YYYY-MM/ },
  { kind: 'handicap_payments', rows: [`${A},2025-01,IT,1.5,`], line: 2, reason: /amount_cents must be a whole number/ },
  { kind: 'handicap_payments', rows: [`${A},2025-01,IT,1,-1`], line: 2, reason: /suspended_cents must be a whole number \(0 or more\)/ },
  { kind: 'social_cards', rows: [`CARD-9,${A},PARKING,2025-02-30,`], line: 2, reason: /delivered_on must be a date/ },
  { kind: 'social_cards', rows: [`CARD-9,${A},PARKING,2025-01-01,2024-12-31`], line: 2, reason: /end_date is before delivered_on/ },
  { kind: 'social_cards', rows: [`CARD-9,${A},PARKING,2025-01-01`], line: 2, reason: /expected 5 columns, found 4/ },
  // a key twice with other content: a bad row naming both lines
  { kind: 'social_cards', rows: [`CARD-9,${A},PARKING,2025-01-01,`, `CARD-8,${A},PARKING,2025-01-01,`, `CARD-9,${A},PARKING,2025-01-02,`], line: 4, reason: /social card CARD-9 appears earlier in the file, on line 2, with other content/ },
  { kind: 'handicap_payments', rows: [`${A},2025-01,IT,1,`, `${A},2025-01,IT,2,`], line: 3, reason: /the IT payment of 85\*+28 for 2025-01 appears earlier in the file, on line 2/ },
];

const available = await postgresAvailable();

const engines: { name: string; skip: boolean; open: () => Promise<{ db: Db; done: () => Promise<void> }> }[] = [
  {
    name: 'SQLite',
    skip: false,
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ldm-hs-import-'));
      const db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
      return { db, done: async () => (await db.destroy(), await rm(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: available ? 'PostgreSQL' : `PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`,
    skip: !available,
    open: async () => {
      const temp: TempDatabase = await createTempDatabase();
      const db = await openDatabase({ client: 'postgres', url: temp.url });
      return { db, done: async () => (await db.destroy(), await temp.drop()) };
    },
  },
];

describe.each(engines)('Handiservice imports on $name', (engine) => {
  let db: Db;
  let done: () => Promise<void>;
  let dir: string;
  const csv = async (name: string, text: string): Promise<string> => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };
  const count = async (table: string): Promise<number> => Number(((await db(table).count({ n: '*' }))[0] as { n: number | string }).n);

  beforeAll(async () => {
    if (engine.skip) return;
    ({ db, done } = await engine.open());
    dir = await mkdtemp(join(tmpdir(), 'ldm-hs-csv-'));
  });
  afterAll(async () => {
    await done?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(engine.skip).each(Object.entries(FILES))('%s: inserted, then unchanged, then updated', async (kind, f) => {
    const text = [f.header, ...f.rows].join('\n') + '\n';
    const first = await importCsv(db, kind, await csv(`${kind}.csv`, text));
    expect(first).toMatchObject({ kind, rows: f.rows.length, inserted: f.rows.length, updated: 0, unchanged: 0 });
    const again = await importCsv(db, kind, await csv(`${kind}-again.csv`, text));
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: f.rows.length });
    // the first row changed, the second again twice (an identical repeat of a key is harmless)
    const third = await importCsv(db, kind, await csv(`${kind}-3.csv`, [f.header, f.changed, f.rows[1], f.rows[1]].join('\n')));
    expect(third).toMatchObject({ rows: 3, inserted: 0, updated: 1, unchanged: 2 });
    expect(await count(f.table)).toBe(f.rows.length);
  });

  it.skipIf(engine.skip).each(BAD)('$kind: line $line refused ($reason); nothing stored', async (c) => {
    const f = FILES[c.kind];
    const before = await count(f.table);
    // a good new row as well: it must not be stored either
    const good = c.kind === 'handicap_payments' ? `${B},2020-01,CHILD,1,` : c.kind === 'social_cards' ? `CARD-NEW,${B},X,2020-01-01,` : c.kind === 'handicap_rights' ? `HR-NEW,${B},IT,C,2020-01-01,,,` : `REC-NEW,${B},IT,2020-01-01,PENDING,,,,,,,,,`;
    const rows = c.line === 2 ? [...c.rows, good] : c.rows;
    const err = await importCsv(db, c.kind, await csv('bad.csv', [f.header, ...rows].join('\n'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRejected);
    const rej = err as ImportRejected;
    expect(rej.badRows[0]).toMatchObject({ line: c.line });
    expect(rej.badRows[0].reason).toMatch(c.reason);
    expect(rej.message).not.toContain(A); // an SSIN in a message is masked
    expect(await count(f.table)).toBe(before);
  });

  it.skipIf(engine.skip)('the lookups read the stored data back, per SSIN, typed', async () => {
    const got = await lookupHandicapRecords(db, [A, B, '00000000097']);
    const a = got.get(A);
    expect(a?.recognitions.find((r) => r.recognitionId === 'REC-2')).toEqual({
      recognitionId: 'REC-2',
      ssin: A,
      legislation: 'THAB',
      requestDate: '2025-05-01',
      status: 'PENDING',
      decisionDate: null,
      startDate: null,
      endDate: null,
      points: null,
      earningCapacityReduced: null,
      lowerLimbs50: null,
      fullBlindness: null,
      upperLimbsAmputated: null,
      upperLimbsParalysed: null,
    });
    expect(a?.payments.find((p) => p.legislation === 'IVT')).toEqual({ ssin: A, month: '2025-04', legislation: 'IVT', amountCents: 45000, suspendedCents: 1000 });
    expect(a?.payments.find((p) => p.month === '2025-05')?.amountCents).toBe(-500);
    expect(a?.rights[0]).toMatchObject({ rightId: 'HR-1', monthlyAmountCents: 45000, endDate: '2025-12-31' }); // updated above
    expect(got.get(B)?.cards.map((c) => c.cardNumber)).toEqual(['CARD-2']);
    expect(got.has('00000000097')).toBe(false);
  });

  it.skipIf(engine.skip)('provider integrations: sector 16 only, sector and institution level', async () => {
    const rep = [
      'ssin,sector,institution_cbe,quality_code,start_date,end_date',
      `${A},16,,1,2020-01-01,`,
      `${A},16,0212000032,7,2021-01-01,2021-12-31`,
      `${A},17,0212000032,1,2020-01-01,`,
    ].join('\n');
    await importCsv(db, 'repertory', await csv('repertory.csv', rep));
    const got = await lookupProviderIntegrations(db, [A, B]);
    expect(got.get(A)?.map((i) => [i.sector, i.institutionCbe, i.qualityCode])).toEqual([
      [16, null, 1],
      [16, '0212000032', 7],
    ]);
    expect(got.has(B)).toBe(false);
  });

  it.skipIf(engine.skip)('the resolver answers from this store: both checks, clipping, order, profile', async () => {
    await importCsv(db, 'persons', await csv('persons.csv', `ssin,replaced_by\n${A},\n${B},\n`));
    const client: Client = {
      clientId: 'ocmw',
      cbeNumber: '0212000032',
      sector: 17,
      name: 'OCMW',
      authorizations: [],
    };
    const auth = (fields: string[]) => ({ service: 'Handiservice' as const, legalContext: 'PCSA:SOCIAL_INQUIRY', qualityCodes: [1, 2, 3], deliberation: null, fields });
    // in two batches, as the reader yields them
    async function* lines(): AsyncGenerator<RequestLine[]> {
      yield [
        { seq: 1, ssin: A, period: { kind: 'dates', from: '2025-03-01', to: '2025-08-31' }, line: 1 },
        { seq: 2, ssin: B, period: { kind: 'dates', from: '2025-03-01', to: '2025-08-31' }, line: 2 },
      ];
      yield [
        { seq: 3, ssin: '90010117840', period: { kind: 'dates', from: '2025-03-01', to: '2025-08-31' }, line: 3 },
        { seq: 4, ssin: A, period: { kind: 'dates', from: '2025-03-01', to: '2026-03-01' }, line: 4 },
      ];
    }
    // The resolver reads the read model of the store's current version, as the pipeline leases it.
    const modelDir = await mkdtemp(join(tmpdir(), 'ldm-hs-model-'));
    const model = ReadModel.open((await buildReadModel(db, modelDir)).path);
    const answer = async (fields: string[]): Promise<ProfiledResponseLine[]> => {
      const out: ProfiledResponseLine[] = [];
      for await (const batch of resolveHandiservice(lines(), { db, client, authorization: auth(fields), referenceDate: '2026-01-15', readModel: model })) out.push(...batch);
      return out;
    };
    onTestFinished(async () => {
      model.close();
      await rm(modelDir, { recursive: true, force: true });
    });
    await expect(resolveHandiservice(lines(), { db, client, authorization: auth([]), referenceDate: '2026-01-15' }).next()).rejects.toMatchObject({ code: 'READ_MODEL_MISSING' });
    const general = await answer(['handiservice:general']);
    expect(general.map((l) => l.status)).toEqual(['MSG00000', 'MSG00012', 'MSG00005', 'MSG00008']);
    const h = general[0].handicap;
    expect(h?.recognitions.map((r) => [r.id, r.from, r.to])).toEqual([
      ['REC-1', '2025-03-01', '2025-08-31'],
      ['REC-2', '2025-05-01', '2025-08-31'],
    ]);
    expect(h?.payments.map((p) => `${p.month}/${p.legislation}`)).toEqual(['2025-04/IT', '2025-04/IVT', '2025-05/IT']);
    expect(h?.rights[0]).toMatchObject({ id: 'HR-1', from: '2025-03-01', to: '2025-08-31' });
    expect(h?.cards[0]).toMatchObject({ number: 'CARD-1', from: '2025-03-01', to: '2025-08-31' });
    const reopened = await answer(['handiservice:reopened']);
    expect(reopened[0].handicap?.payments).toEqual([]);
    expect(reopened[0].handicap?.recognitions[0]).not.toHaveProperty('status');
  });

  it.skipIf(engine.skip)('import clients: Handiservice fields are the shipped profiles or known names; others are a bad row', async () => {
    const head = 'client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields';
    const ok = await importCsv(db, 'clients', await csv('c-ok.csv', `${head}\nocmw,0212000032,17,OCMW,Handiservice,PCSA:SOCIAL_INQUIRY_REOPENED,1 2,,handiservice:reopened SocialCard\n`));
    expect(ok.inserted).toBe(1);
    const err = await importCsv(db, 'clients', await csv('c-bad.csv', `${head}\nocmw,0212000032,17,OCMW,Handiservice,PCSA:X,1,,handiservice:everything Year\n`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRejected);
    expect((err as ImportRejected).badRows[0]).toMatchObject({ line: 2 });
    expect((err as ImportRejected).badRows[0].reason).toMatch(/unknown name\(s\) handiservice:everything, Year; use: handiservice:general handiservice:reopened Recognition/);
  });
});
