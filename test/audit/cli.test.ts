// `ldm-batch audit` and `audit purge` as the operator and the citizen see them. openApp is
// replaced by the test store, so the commands run against a real SQLite file without a config.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { ReadModels } from '../../src/readmodel/registry.js';
import type { AppContext } from '../../src/cli/context.js';
import { parseConfig } from '../../src/config/config.js';
import { runAudit, runAuditPurge, type AuditView } from '../../src/cli/commands/audit.js';
import { recordAudit } from '../../src/audit/record.js';
import { countAuditLines } from '../../src/audit/query.js';
import { retentionRuns } from '../../src/audit/purge.js';
import { LdmError } from '../../src/errors.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { addBatch, entry, openTestStore, type TestStore } from './fixture.js';

const app = vi.hoisted(() => ({ db: undefined as Db | undefined }));
vi.mock('../../src/cli/context.js', () => ({
  async openApp(): Promise<AppContext> {
    if (app.db === undefined) throw new Error('test store not open');
    return {
      config: parseConfig({ database: './store.sqlite' }, '/tmp/ldm-batch.config.json'),
      db: app.db,
      clients: [],
      workDir: '/tmp',
      readModels: new ReadModels('/tmp/ldm-batch-test-readmodel-unused'),
      signer: () => Promise.reject(new Error('no signer in this test')),
      close: async () => undefined, // the test owns the connection
    };
  },
}));

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);
const BAD = `${A.slice(0, 9)}${String((Number(A.slice(9)) + 1) % 100).padStart(2, '0')}`;

let store: TestStore;
let out: string[] = [];
const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

beforeAll(async () => {
  store = await openTestStore('ldm-audit-cli-');
  app.db = store.db;
  const done = await addBatch(store.db, 'DONE');
  const mut = await addBatch(store.db, 'DONE', 'mut');
  const old = await addBatch(store.db, 'DONE');
  // One instant for both lines of a batch (two Date.now() calls may straddle a second).
  const twoDaysAgo = ago(2);
  await recordAudit(store.db, [
    entry({ batchId: done, seq: 1, ssin: A, consultedAt: twoDaysAgo }),
    entry({ batchId: done, seq: 2, ssin: B, consultedAt: twoDaysAgo }),
    entry({ batchId: mut, seq: 1, ssin: A, clientId: 'mut', legalContext: 'HEALTH:INCREASED_REIMBURSEMENT', deliberation: null, qualityCode: null, statusCode: 'MSG00012', consultedAt: ago(40) }),
    entry({ batchId: old, seq: 3, ssin: A, qualityCode: 7, consultedAt: ago(400) }), // older than 6 months
  ]);
});
afterAll(async () => {
  app.db = undefined;
  await store?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  out = [];
});

function captureStdout(): void {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array): boolean => {
    out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
}

async function usage(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof LdmError) return `${err.code}/${err.exitCode}`;
    throw err;
  }
}

describe('ldm-batch audit', () => {
  it('human table: default since 6m, newest first; the SSIN only in the query echo', async () => {
    captureStdout();
    await runAudit({ ssin: A });
    const text = out.join('');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Consultations of ${A} since \\d{4}-\\d{2}-\\d{2}: 2$`));
    expect(lines[1]).toMatch(/^when\s+institution\s+service\s+legal context\s+deliberation\s+quality code\s+status$/);
    expect(lines[2]).toContain('fin (FOD Financiën)');
    expect(lines[2]).toContain('001 dossier under investigation');
    expect(lines[2]).toContain('MSG00000');
    expect(lines[3]).toContain('mut (Landsbond der Mutualiteiten)');
    expect(lines[3]).toMatch(/HEALTH:INCREASED_REIMBURSEMENT\s+-\s+-\s+MSG00012 refused/);
    expect(lines).toHaveLength(4);
    expect(text.split(A)).toHaveLength(2); // exactly once
    expect(text.replace(A, '')).not.toMatch(/\d{11}/);
  });

  it('--json: an array for a citizen portal, without any SSIN', async () => {
    captureStdout();
    await runAudit({ ssin: A, since: '2y', json: true });
    const views = JSON.parse(out.join('')) as AuditView[];
    expect(views.map((v) => [v.institution.clientId, v.status.code, v.qualityCode?.code ?? null])).toEqual([
      ['fin', 'MSG00000', '001'],
      ['mut', 'MSG00012', null],
      ['fin', 'MSG00000', '007'],
    ]);
    expect(views[0]).toEqual({
      consultedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      institution: { clientId: 'fin', name: 'FOD Financiën' },
      service: 'LivingWagesWithAmount',
      legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
      deliberation: 'IVC/KSZG/23/123',
      qualityCode: { code: '001', label: 'dossier under investigation' },
      status: { code: 'MSG00000', value: 'DATA_FOUND', text: 'data given' },
    });
    expect(out.join('')).not.toMatch(/\d{11}/);
  });

  it('nobody consulted: says so', async () => {
    captureStdout();
    await runAudit({ ssin: A, since: '1d' });
    expect(out.join('')).toMatch(/: 0\n$/);
  });

  it.each([
    ['wrong check digits', { ssin: BAD }, 'INVALID_SSIN/2'],
    ['not 11 digits', { ssin: '123' }, 'INVALID_SSIN/2'],
    ['bad --since', { ssin: A, since: 'yesterday' }, 'USAGE/2'],
    ['no --ssin', {}, 'USAGE/2'],
  ])('%s → exit 2', async (_label, o, code) => {
    captureStdout();
    expect(await usage(runAudit(o))).toBe(code);
    expect(out.join('')).not.toContain(BAD);
  });
});

describe('ldm-batch audit purge', () => {
  it.each([
    ['neither bound', {}, 'USAGE/2'],
    ['both bounds', { before: '2020-01-01', retention: '10y' }, 'USAGE/2'],
    ['a bad retention', { retention: '10' }, 'USAGE/2'],
    ['a date as retention', { retention: '2020-01-01' }, 'USAGE/2'],
    ['a bad date', { before: '2020-02-30' }, 'USAGE/2'],
    ['a date in the future', { before: '2999-01-01' }, 'USAGE/2'],
  ])('refuses %s', async (_label, o, code) => {
    expect(await usage(runAuditPurge(o))).toBe(code);
  });

  it('--retention 1y removes what is older, --json says how many, the run is journaled', async () => {
    captureStdout();
    await runAuditPurge({ retention: '1y', json: true });
    const res = JSON.parse(out.join('')) as { purged: unknown; run: number };
    expect(res).toMatchObject({ purged: { batches: 1, persons: 1 } });
    expect(await countAuditLines(store.db)).toBe(3);
    const runs = await retentionRuns(store.db);
    expect(runs[0]).toMatchObject({ id: res.run, trigger: 'operator', batches: 1, persons: 1, outcome: 'OK' });
  });

  it('--before a date, human output', async () => {
    captureStdout();
    await runAuditPurge({ before: '2000-01-01' });
    expect(out.join('')).toMatch(/^purged 0 consultations \(0 person entries\) consulted before 2000-01-01 \(retention run \d+\)\n$/);
  });

  it('--retention counts from the instance clock (LDM_BATCH_CLOCK set two years forward purges the rest)', async () => {
    const forward = new Date(Date.now() + 2 * 366 * DAY);
    process.env.LDM_BATCH_CLOCK = forward.toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      captureStdout();
      await runAuditPurge({ retention: '1y', json: true });
      expect(await countAuditLines(store.db)).toBe(0);
      const runs = await retentionRuns(store.db);
      expect(runs[0]).toMatchObject({ trigger: 'operator', outcome: 'OK', ranAt: process.env.LDM_BATCH_CLOCK });
      // The cut-off is a year before the (moved) clock's date, not before the real today.
      expect(runs[0].purgedBefore > new Date(Date.now() + 300 * DAY).toISOString().slice(0, 10)).toBe(true);
    } finally {
      delete process.env.LDM_BATCH_CLOCK;
    }
  });
});
