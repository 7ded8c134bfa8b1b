// The repertory as a managed register, on a real SQLite file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { integrationsOf, registerIntegration, unregisterIntegration } from '../../src/repertory/manage.js';
import { LdmError } from '../../src/errors.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { lookupIntegrations } from '../../src/store/lookupIntegrations.js';
import { findIntegration } from '../../src/domain/finality.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const BIS = makeSsin({ year: 1980, month: 4, day: 4 }, 11, 'unknown');
const BAD = `${A.slice(0, 9)}${String((Number(A.slice(9)) + 1) % 100).padStart(2, '0')}`;
const OCMW = '0212000032';
const OTHER = '0308357159';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-repertory-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
});
afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await db('repertory').delete();
});

const reg = { ssin: A, sector: 17, institutionCbe: OCMW, qualityCode: 2, startDate: '2025-01-01' };
const rows = () => integrationsOf(db, A, OCMW);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LdmError) return `${err.code}/${err.exitCode}`;
    throw err;
  }
  return 'OK';
}

describe('registerIntegration', () => {
  it.each([
    ['open-ended code, no end', { qualityCode: 2 }, null],
    ['001 gets 2 months', { qualityCode: '001' }, '2025-02-28'],
    ['007 gets 5 years', { qualityCode: 7 }, '2029-12-31'],
    ['030 gets 1 year', { qualityCode: '30' }, '2025-12-31'],
    ['an explicit end wins over the default', { qualityCode: 1, endDate: '2025-01-10' }, '2025-01-10'],
    ['explicit null = default', { qualityCode: 1, endDate: null }, '2025-02-28'],
    ['sector as text', { sector: '017', qualityCode: 2 }, null],
  ])('%s', async (_label, over, end) => {
    const i = await registerIntegration(db, { ...reg, ...over });
    expect(i.endDate).toBe(end);
    expect(await rows()).toEqual([{ ssin: A, sector: 17, institutionCbe: OCMW, qualityCode: Number(over.qualityCode), startDate: '2025-01-01', endDate: end }]);
  });

  it('a BIS number is accepted', async () => {
    await registerIntegration(db, { ...reg, ssin: BIS });
    expect(await integrationsOf(db, BIS, OCMW)).toHaveLength(1);
  });

  it.each([
    ['wrong check digits', { ssin: BAD }, 'INVALID_SSIN/2'],
    ['10 digits', { ssin: A.slice(0, 10) }, 'INVALID_SSIN/2'],
    ['unknown quality code', { qualityCode: 99 }, 'UNKNOWN_QUALITY_CODE/2'],
    ['quality code not a number', { qualityCode: 'x' }, 'INVALID_INPUT/2'],
    ['bad institution CBE', { institutionCbe: '0212000033' }, 'INVALID_INPUT/2'],
    ['bad start date', { startDate: '2025-02-30' }, 'INVALID_INPUT/2'],
    ['end before start', { endDate: '2024-12-31' }, 'INVALID_PERIOD/2'],
  ])('refuses %s', async (_label, over, code) => {
    expect(await codeOf(registerIntegration(db, { ...reg, ...over }))).toBe(code);
    expect(await db('repertory').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('is idempotent on (ssin, sector, institution, quality code, start)', async () => {
    await registerIntegration(db, { ...reg, qualityCode: 1 });
    await registerIntegration(db, { ...reg, qualityCode: '001' });
    expect(await rows()).toHaveLength(1);
    // The latest registration of the same key sets its end.
    await registerIntegration(db, { ...reg, qualityCode: 1, endDate: '2025-06-30' });
    expect((await rows()).map((r) => r.endDate)).toEqual(['2025-06-30']);
    // Another start date is another integration.
    await registerIntegration(db, { ...reg, qualityCode: 1, startDate: '2025-08-01' });
    expect(await rows()).toHaveLength(2);
  });
});

describe('unregisterIntegration', () => {
  const key = { ssin: A, sector: 17, institutionCbe: OCMW, qualityCode: 2 };

  it('closes open and later-ending integrations; history stays; later-starting ones are left', async () => {
    await registerIntegration(db, { ...reg, startDate: '2020-01-01', endDate: '2021-12-31' }); // already ended
    await registerIntegration(db, { ...reg, startDate: '2024-01-01' }); // open
    await registerIntegration(db, { ...reg, startDate: '2024-06-01', endDate: '2026-12-31' }); // ends later
    await registerIntegration(db, { ...reg, startDate: '2025-09-01' }); // starts after
    await registerIntegration(db, { ...reg, qualityCode: 1, startDate: '2025-01-01', endDate: '2025-12-31' }); // other code
    await registerIntegration(db, { ...reg, institutionCbe: OTHER, startDate: '2024-01-01' }); // other institution

    expect(await unregisterIntegration(db, { ...key, endDate: '2025-06-30' })).toEqual({ closed: 2, startingLater: 1 });
    expect((await rows()).map((r) => `${r.qualityCode} ${r.startDate}..${r.endDate ?? 'open'}`)).toEqual([
      '2 2020-01-01..2021-12-31',
      '2 2024-01-01..2025-06-30',
      '2 2024-06-01..2025-06-30',
      '1 2025-01-01..2025-12-31',
      '2 2025-09-01..open',
    ]);
    expect((await integrationsOf(db, A, OTHER))[0].endDate).toBeNull();
    // Again: nothing left to close.
    expect(await unregisterIntegration(db, { ...key, endDate: '2025-06-30' })).toEqual({ closed: 0, startingLater: 1 });
  });

  it('an integration starting on the end date is closed to one day', async () => {
    await registerIntegration(db, { ...reg, startDate: '2025-06-30' });
    expect((await unregisterIntegration(db, { ...key, endDate: '2025-06-30' })).closed).toBe(1);
    expect((await rows())[0].endDate).toBe('2025-06-30');
  });

  it('finality follows: after unregistering, a later period is refused', async () => {
    await registerIntegration(db, { ...reg, startDate: '2024-01-01' });
    await unregisterIntegration(db, { ...key, endDate: '2024-12-31' });
    const list = (await lookupIntegrations(db, { institutionCbe: OCMW, sector: 17 }, [A])).get(A) ?? [];
    const ctx = { senderCbe: OCMW, sector: 17, allowedQualityCodes: [2] };
    expect(findIntegration(list, ctx, { from: '2024-12-01', to: '2024-12-31' })).toBeDefined();
    expect(findIntegration(list, ctx, { from: '2025-01-01', to: '2025-12-31' })).toBeUndefined();
  });

  it.each([
    ['wrong check digits', { ssin: BAD }, 'INVALID_SSIN/2'],
    ['bad end date', { endDate: '2025-13-01' }, 'INVALID_INPUT/2'],
  ])('refuses %s', async (_label, over, code) => {
    expect(await codeOf(unregisterIntegration(db, { ...key, endDate: '2025-06-30', ...over }))).toBe(code);
  });

  it('accepts a code outside the register, to close imported integrations', async () => {
    await db('repertory').insert({ ssin: A, sector: 17, institution_cbe: OCMW, quality_code: 99, start_date: '2020-01-01', end_date: null });
    expect(await unregisterIntegration(db, { ...key, qualityCode: 99, endDate: '2024-12-31' })).toEqual({ closed: 1, startingLater: 0 });
  });
});
