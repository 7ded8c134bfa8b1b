// `ldm-batch repertory register|unregister` against a real SQLite file (openApp replaced).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ReadModels } from '../../src/readmodel/registry.js';
import type { AppContext } from '../../src/cli/context.js';
import { parseConfig } from '../../src/config/config.js';
import { runRepertoryRegister, runRepertoryUnregister } from '../../src/cli/commands/repertory.js';
import { integrationsOf } from '../../src/repertory/manage.js';
import { LdmError } from '../../src/errors.js';
import { makeSsin } from '../../src/domain/ssin.js';

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
      close: async () => undefined,
    };
  },
}));

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const OCMW = '0212000032';
const base = { ssin: A, sector: '017', institution: OCMW };

let dir: string;
let out: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-repertory-cli-'));
  app.db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
});
afterAll(async () => {
  await app.db?.destroy();
  app.db = undefined;
  await rm(dir, { recursive: true, force: true });
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
async function code(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof LdmError) return `${err.code}/${err.exitCode}`;
    throw err;
  }
}

describe('ldm-batch repertory', () => {
  it('register with a default duration, then unregister; operator output masks the SSIN', async () => {
    captureStdout();
    await runRepertoryRegister({ ...base, qualityCode: '001', start: '2025-01-01' });
    await runRepertoryRegister({ ...base, qualityCode: '002', start: '2025-01-01', json: true });
    await runRepertoryUnregister({ ...base, qualityCode: '002', end: '2025-06-30' });
    const text = out.join('');
    expect(text).toContain('quality code 001, 2025-01-01 .. 2025-02-28 (default duration of the code)');
    expect(text).toContain('"endDate": null');
    expect(text).toContain('closed 1 integration(s)');
    expect(text.replace(/"ssin": "\d{11}"/, '')).not.toMatch(/\d{11}/); // only --json echoes the record
    expect((await integrationsOf(app.db as Db, A, OCMW)).map((i) => `${i.qualityCode} ${i.endDate}`)).toEqual(['1 2025-02-28', '2 2025-06-30']);
  });

  it.each([
    ['missing --ssin', { ...base, ssin: undefined, qualityCode: '2', start: '2025-01-01' }, 'USAGE/2'],
    ['missing --start', { ...base, qualityCode: '2' }, 'USAGE/2'],
    ['bad --end', { ...base, qualityCode: '2', start: '2025-01-01', end: '31-12-2025' }, 'USAGE/2'],
    ['invalid SSIN', { ...base, ssin: '12345678901', qualityCode: '2', start: '2025-01-01' }, 'INVALID_SSIN/2'],
    ['unknown quality code', { ...base, qualityCode: '099', start: '2025-01-01' }, 'UNKNOWN_QUALITY_CODE/2'],
  ])('register: %s', async (_label, o, expected) => {
    expect(await code(runRepertoryRegister(o))).toBe(expected);
  });

  it('without --institution: a sector-level integration (contract §5), kept apart from the institution\'s own', async () => {
    captureStdout();
    await runRepertoryRegister({ ssin: A, sector: '26', qualityCode: '77', start: '2024-01-01' });
    await runRepertoryUnregister({ ssin: A, sector: '26', qualityCode: '77', end: '2024-12-31' });
    const text = out.join('');
    expect(text).toContain('at sector 26 (sector level), quality code 077, 2024-01-01 .. open');
    expect(text).toContain('closed 1 integration(s)');
    expect((await integrationsOf(app.db as Db, A, null)).map((i) => `${i.sector} ${i.institutionCbe} ${i.qualityCode} ${i.endDate}`)).toEqual(['26 null 77 2024-12-31']);
    // Sector 26 has no list shipped with the project: any number; sector 17 and 16 do.
    expect(await code(runRepertoryRegister({ ssin: A, sector: '17', qualityCode: '77', start: '2024-01-01' }))).toBe('UNKNOWN_QUALITY_CODE/2');
    expect(await code(runRepertoryRegister({ ssin: A, sector: '16', qualityCode: '4', start: '2024-01-01' }))).toBe('UNKNOWN_QUALITY_CODE/2');
  });

  it('unregister needs --end', async () => {
    expect(await code(runRepertoryUnregister({ ...base, qualityCode: '2' }))).toBe('USAGE/2');
  });
});
