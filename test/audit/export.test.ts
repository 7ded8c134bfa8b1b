// `ldm-batch audit export`: the citizen's view of one person consulted by three institutions, in
// the same batches as another person, who must never appear. The expected list is computed by a
// plain loop over the consultations this test wrote (no code shared with src/audit/export.ts);
// the PDF is read back with poppler's pdftotext, an independent reader.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { ReadModels } from '../../src/readmodel/registry.js';
import type { AppContext } from '../../src/cli/context.js';
import { parseConfig } from '../../src/config/config.js';
import { runAuditExport } from '../../src/cli/commands/audit.js';
import { recordAudit, type AuditEntry } from '../../src/audit/record.js';
import { LdmError } from '../../src/errors.js';
import { makeSsin } from '../../src/domain/ssin.js';
import type { StatusCode } from '../../src/interfaces.js';
import { hasTool } from '../helpers/instance.js';
import { renderPdf, type AuditExport, type ExportedConsultation } from '../../src/audit/export.js';
import { addBatch, CLIENT_ROWS, openTestStore, type TestStore } from './fixture.js';

const app = vi.hoisted(() => ({ db: undefined as Db | undefined }));
vi.mock('../../src/cli/context.js', () => ({
  async openApp(): Promise<AppContext> {
    if (app.db === undefined) throw new Error('test store not open');
    return {
      config: parseConfig({ database: './store.sqlite', timezone: 'Europe/Brussels' }, '/tmp/ldm-batch.config.json'),
      db: app.db,
      clients: [],
      workDir: '/tmp',
      readModels: new ReadModels('/tmp/ldm-batch-test-readmodel-unused'),
      signer: () => Promise.reject(new Error('no signer in this test')),
      close: async () => undefined,
    };
  },
}));

const CLOCK = '2026-06-15T10:00:00Z';
const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 1979, month: 11, day: 2 }, 57);
const OTHER_ONLY = { client_id: 'kind', cbe_number: '0543210886', sector: 40, name: 'Opgroeien Kinderbijslag' };
const PDFTOTEXT = '/usr/bin/pdftotext';

interface Made {
  batchId: number;
  state: 'DONE' | 'REJECTED';
  clientId: string;
  service: 'LivingWagesWithAmount' | 'LivingWages';
  legalContext: string;
  deliberation: string | null;
  consultedAt: string;
  lines: { seq: number; ssin: string; status: StatusCode }[];
}

let store: TestStore;
let dir: string;
const made: Made[] = [];
let out: string[] = [];

beforeAll(async () => {
  process.env.LDM_BATCH_CLOCK = CLOCK;
  store = await openTestStore('ldm-audit-export-');
  app.db = store.db;
  dir = await mkdtemp(join(tmpdir(), 'ldm-audit-export-out-'));
  await store.db('clients').insert(OTHER_ONLY);
  // Three institutions consult A (and B in the same files) every ~7 weeks over two years; every
  // status; one rejected file; one institution consults only B.
  const codes: StatusCode[] = ['MSG00000', 'MSG00100', 'MSG00012', 'MSG00005', 'MSG00008', 'MSG00006', 'MSG00011'];
  let k = 0;
  for (let day = 0; day < 730; day += 47) {
    const clientId = ['fin', 'mut', 'ocmw', 'kind'][k % 4];
    const state = k === 5 ? 'REJECTED' : 'DONE';
    const batchId = await addBatch(store.db, state, clientId);
    const consultedAt = new Date(Date.parse('2024-06-20T08:30:00Z') + day * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const lines: Made['lines'] = [];
    let seq = 0;
    if (clientId !== 'kind') for (let j = 0; j <= k % 3; j++) lines.push({ seq: ++seq, ssin: A, status: codes[(k + j * 3) % codes.length] });
    lines.push({ seq: ++seq, ssin: B, status: 'MSG00000' });
    const m: Made = { batchId, state, clientId, service: k % 2 ? 'LivingWages' : 'LivingWagesWithAmount', legalContext: `CTX:${clientId.toUpperCase()}_${k % 2}`, deliberation: k % 3 === 0 ? null : `IVC/KSZG/${20 + k}/0${k}`, consultedAt, lines };
    made.push(m);
    const entries: AuditEntry[] = lines.map((l) => ({ batchId, seq: l.seq, clientId, service: m.service, legalContext: m.legalContext, deliberation: m.deliberation, ssin: l.ssin, qualityCode: 1, statusCode: l.status, consultedAt }));
    await recordAudit(store.db, entries);
    k++;
  }
});
afterAll(async () => {
  delete process.env.LDM_BATCH_CLOCK;
  app.db = undefined;
  await store?.close();
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

/** The plain loop: A's answered consultations since `from`, newest first, one per file. */
function expectedFor(from: string): unknown[] {
  const rows: { at: string; id: number; v: unknown }[] = [];
  for (const m of made) {
    if (m.state !== 'DONE' || m.consultedAt < from) continue;
    const mine = m.lines.filter((l) => l.ssin === A);
    if (mine.length === 0) continue;
    const c = [...CLIENT_ROWS, OTHER_ONLY].find((x) => x.client_id === m.clientId);
    let outcome = 'not-answered';
    for (const l of mine) {
      if (l.status === 'MSG00000') outcome = 'given';
      else if (l.status === 'MSG00100' && outcome !== 'given') outcome = 'nothing-found';
      else if (l.status === 'MSG00012' && outcome === 'not-answered') outcome = 'refused';
    }
    rows.push({
      at: m.consultedAt,
      id: m.batchId,
      v: { consultedAt: m.consultedAt, institution: { name: c?.name ?? null, cbe: c?.cbe_number ?? null, clientId: m.clientId }, service: m.service, legalContext: m.legalContext, deliberation: m.deliberation, lines: mine.length, outcome },
    });
  }
  rows.sort((x, y) => (x.at === y.at ? y.id - x.id : x.at < y.at ? 1 : -1));
  return rows.map((r) => r.v);
}

const printed = (s: string): string => `${s.slice(0, 2)}.${s.slice(2, 4)}.${s.slice(4, 6)}-${s.slice(6, 9)}.${s.slice(9)}`;

async function code(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof LdmError) return `${err.code}/${err.exitCode}`;
    throw err;
  }
}

describe('audit export --json', () => {
  it('default 12 months: the plain loop list, three institutions, nobody else', async () => {
    captureStdout();
    await runAuditExport({ ssin: A, json: true, lang: 'en' });
    const text = out.join('');
    const doc = JSON.parse(text) as { ssin: string; period: { from: string; to: string }; consultations: { localTime: string }[] };
    expect(doc.period).toEqual({ from: '2025-06-15', to: '2026-06-15' });
    expect(doc.ssin).toBe(A);
    const got = doc.consultations.map(({ localTime: _lt, ...rest }) => rest);
    const want = expectedFor('2025-06-15');
    expect(got).toEqual(want);
    expect(new Set(want.map((w) => (w as { institution: { clientId: string } }).institution.clientId))).toEqual(new Set(['fin', 'mut', 'ocmw']));
    expect(text).not.toContain(B);
    expect(text).not.toContain(OTHER_ONLY.name);
    // Brussels time: 08:30 UTC is 10:30 in summer, 09:30 in winter.
    expect(doc.consultations.every((c) => / (09|10):30$/.test(c.localTime))).toBe(true);
  });

  it('--months 24 reaches further back; still only this person', async () => {
    captureStdout();
    await runAuditExport({ ssin: A, json: true, months: '24' });
    const doc = JSON.parse(out.join('')) as { consultations: { localTime: string }[] };
    expect(doc.consultations.map(({ localTime: _lt, ...rest }) => rest)).toEqual(expectedFor('2024-06-15'));
    expect(doc.consultations.length).toBeGreaterThan(expectedFor('2025-06-15').length);
  });

  it('-o writes the JSON to a file of mode 0600', async () => {
    const file = join(dir, 'a.json');
    await runAuditExport({ ssin: A, json: true, output: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ ssin: A, lang: 'nl' });
  });
});

describe.skipIf(!hasTool(PDFTOTEXT))('audit export as PDF (read back with pdftotext)', () => {
  const WORDS = {
    nl: ['Raadplegingen van uw gegevens', 'Wettelijke context', 'KBO 0308.357.159', 'gegevens meegedeeld'],
    fr: ['Consultations de vos données', 'Contexte légal', 'BCE 0308.357.159', 'données communiquées'],
    en: ['Consultations of your data', 'Legal context', 'CBE 0308.357.159', 'data given'],
  } as const;
  it.each(['nl', 'fr', 'en'] as const)('%s: the words of that language, every consultation, mode 0600, nobody else', async (lang) => {
    const file = join(dir, `a-${lang}.pdf`);
    captureStdout();
    await runAuditExport({ ssin: A, lang, output: file, months: '24' });
    expect(out.join('')).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ consultations since 2024-06-15, ${lang}, mode 0600\\)\\n$`));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const pdf = await readFile(file);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync(PDFTOTEXT, ['-raw', file, '-'], { encoding: 'utf8' });
    // A wrapped cell splits its words over lines: compare without blanks.
    const flat = text.replace(/\s+/g, '');
    for (const w of WORDS[lang]) expect(flat).toContain(w.replace(/\s+/g, ''));
    expect(text).toContain(printed(A));
    for (const c of CLIENT_ROWS) expect(text).toContain(c.name.split(' ')[0]);
    const want = expectedFor('2024-06-15') as { consultedAt: string; legalContext: string }[];
    // Every consultation's legal context is printed.
    for (const w of want) expect(flat).toContain(w.legalContext);
    expect(text).not.toContain(B);
    expect(text).not.toContain(printed(B));
    expect(text).not.toContain('Kinderbijslag');
  });

  it('an existing file is not replaced without --force; with --force it is, still 0600', async () => {
    const file = join(dir, 'exists.pdf');
    await writeFile(file, 'old', { mode: 0o644 });
    expect(await code(runAuditExport({ ssin: A, output: file }))).toBe('OUTPUT_EXISTS/2');
    expect(await readFile(file, 'utf8')).toBe('old');
    captureStdout();
    await runAuditExport({ ssin: A, output: file, force: true });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file)).subarray(0, 5).toString()).toBe('%PDF-');
  });
});

describe.skipIf(!hasTool(PDFTOTEXT))('audit export PDF over several pages', () => {
  // Rows of different heights (a long name wraps, a CBE adds a line), each marked in two cells
  // (legal context and deliberation) so a row split over two pages would show.
  const N = 160;
  const rows: ExportedConsultation[] = Array.from({ length: N }, (_, i) => {
    const n = String(i + 1).padStart(4, '0');
    const name = i % 5 === 0 ? `Openbaar Centrum voor Maatschappelijk Welzijn van een lange gemeentenaam ${n}` : `Instelling ${n}`;
    return {
      consultedAt: '2025-01-01T08:30:00Z',
      localTime: '2025-01-01 09:30',
      institution: { name, cbe: i % 3 === 0 ? null : '0308357159', clientId: `c${n}` },
      service: i % 2 ? 'LivingWages' : 'Handiservice',
      legalContext: `ROW-${n}`,
      deliberation: `DELIB-${n}`,
      lines: 1,
      outcome: 'given',
    };
  });
  const doc: AuditExport = {
    document: 'ldm-batch audit export',
    version: 1,
    lang: 'en',
    ssin: A,
    period: { from: '2024-06-15', to: '2026-06-15' },
    timezone: 'Europe/Brussels',
    generatedAt: CLOCK,
    consultations: rows,
  };
  const HEADER = 'WhenInstitutionServiceLegalcontextDeliberationOutcome';

  it('every page with rows starts its table with the header; no row split, lost or repeated', async () => {
    const pdf = await renderPdf(doc);
    expect((await renderPdf(doc)).equals(pdf)).toBe(true); // deterministic
    const file = join(dir, 'pages.pdf');
    await writeFile(file, pdf);
    // pdftotext ends every page with a form feed.
    const pages = execFileSync(PDFTOTEXT, ['-raw', file, '-'], { encoding: 'utf8' }).split('\f').slice(0, -1).map((p) => p.replace(/\s+/g, ''));
    const withRows = pages.filter((p) => /ROW-\d{4}/.test(p));
    expect(withRows.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    pages.forEach((p, i) => {
      const marks = [...p.matchAll(/ROW-(\d{4})/g)];
      const headers = p.split(HEADER).length - 1;
      if (marks.length === 0) {
        expect(headers, `page ${i + 1}: a header without rows`).toBe(0);
        return;
      }
      expect(headers, `page ${i + 1}: one header`).toBe(1);
      expect(p.indexOf(HEADER), `page ${i + 1}: header before the first row`).toBeLessThan(marks[0].index);
      for (const m of marks) {
        seen.push(m[1]);
        expect(p, `page ${i + 1}: row ${m[1]} whole`).toContain(`DELIB-${m[1]}`);
      }
    });
    expect(seen).toEqual(rows.map((_, i) => String(i + 1).padStart(4, '0')));
  });
});

describe('audit export usage', () => {
  it.each([
    [{ ssin: A, lang: 'de' }, 'USAGE/2'],
    [{ ssin: A, months: '0' }, 'USAGE/2'],
    [{ ssin: A, months: '121' }, 'USAGE/2'], // beyond audit.retentionYears (10)
    [{ ssin: A, months: 'twelve' }, 'USAGE/2'],
    [{ ssin: `${A.slice(0, 10)}${(Number(A[10]) + 1) % 10}` }, 'INVALID_SSIN/2'],
    [{}, 'USAGE/2'],
  ])('%o → %s', async (o, want) => {
    captureStdout();
    expect(await code(runAuditExport({ ...o, json: true }))).toBe(want);
    expect(out.join('')).toBe('');
  });
});
