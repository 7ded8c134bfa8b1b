// The XSDs accept the examples of the contract and refuse broken ones, and libxml2-wasm
// agrees with the xmllint command line tool (the reference clients may use).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRequestSchema, loadSchema, SCHEMA_DIR, validateFile, validateRequestFile, validateResponseFile, type SchemaKind } from '../../src/batch/validate.js';
import { generateRequest, HEADER } from './gen.js';

const XMLLINT = '/usr/bin/xmllint';
const FIX = 'fixtures/requests';
const EX = 'test/batch/examples';
const SCHEMA_FILE: Record<SchemaKind, string> = {
  request: 'ldm-batch-request.xsd',
  response: 'ldm-batch-response.xsd',
  notification: 'ldm-batch-notification.xsd',
};

const tmp = mkdtempSync(join(tmpdir(), 'ldm-schemas-'));
let n = 0;
function file(content: string): string {
  const path = join(tmp, `f${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

/** xmllint's verdict and the lines it names (its own line = where the start tag ends). */
function xmllint(kind: SchemaKind, path: string): { valid: boolean; lines: number[] } {
  try {
    execFileSync(XMLLINT, ['--noout', '--nonet', '--schema', join(SCHEMA_DIR, SCHEMA_FILE[kind]), path], { stdio: 'pipe' });
    return { valid: true, lines: [] };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '');
    const lines = [...stderr.matchAll(/^[^:\n]+:(\d+):/gm)].map((m) => Number(m[1]));
    return { valid: false, lines };
  }
}

const CASES: { kind: SchemaKind; path: string; valid: boolean; lines?: number[] }[] = [
  { kind: 'request', path: `${FIX}/amounts-valid.xml`, valid: true },
  { kind: 'request', path: `${FIX}/rights-valid.xml`, valid: true },
  { kind: 'request', path: `${FIX}/invalid-schema.xml`, valid: false, lines: [8, 12, 17, 18, 19, 22] },
  { kind: 'response', path: `${EX}/response-amounts.xml`, valid: true },
  { kind: 'response', path: `${EX}/response-rights.xml`, valid: true },
  { kind: 'response', path: `${EX}/response-rejection.xml`, valid: true },
  // Month's start tag spans lines 13-14; the bad attribute (to=) is on line 14.
  { kind: 'response', path: `${EX}/response-invalid.xml`, valid: false, lines: [4, 11, 14] },
  { kind: 'notification', path: `${EX}/notification.xml`, valid: true },
];

describe('schemas', () => {
  it('compile in libxml2-wasm', () => {
    for (const kind of ['request', 'response', 'notification'] as const) expect(loadSchema(kind)).toBeDefined();
    expect(loadRequestSchema()).toBe(loadSchema('request')); // cached
  });

  for (const c of CASES) {
    it(`${c.path} is ${c.valid ? 'valid' : 'invalid'}`, async () => {
      const r = await validateFile(c.path, c.kind);
      if (c.valid) {
        expect(r).toEqual({ ok: true });
      } else {
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.code).toBe('SCHEMA_INVALID');
        expect(r.errors.map((e) => e.line)).toEqual(c.lines);
        for (const e of r.errors) expect(e.column).toBeGreaterThan(0);
      }
    });
  }

  it('locate the offending element or attribute by column', async () => {
    const r = await validateResponseFile(`${EX}/response-invalid.xml`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    // <Status value="DATA_FOUND" code="MSG99999"/>: the column of code=
    expect(r.errors[1]).toMatchObject({ line: 11, column: 34 });
    const req = await validateRequestFile(`${FIX}/invalid-schema.xml`);
    expect(req.ok).toBe(false);
    if (req.ok) return;
    // <Period><Months><From>2025-01</From><To>2025-13</To>: the column of <To>
    expect(req.errors[4]).toMatchObject({ line: 19, column: 43 });
  });

  it('refuse what the contract forbids in a request', async () => {
    const bad = [
      ['FileId too long', (s: string) => s.replace('GEN-0001', 'x'.repeat(65))],
      ['FileId with a space', (s: string) => s.replace('GEN-0001', 'GEN 0001')],
      ['CBE of 9 digits', (s: string) => s.replace('0308357159', '030835715')],
      ['Arabic-Indic digits in the CBE', (s: string) => s.replace('0308357159', '٠٣٠٨٣٥٧١٥٩')],
      ['unknown service', (s: string) => s.replace('>LivingWagesWithAmount<', '>Amounts<')],
      ['empty LegalContext', (s: string) => s.replace('FPS_FINANCE:TAX_ASSESSMENT', '')],
      ['LegalContext of 129 characters', (s: string) => s.replace('FPS_FINANCE:TAX_ASSESSMENT', 'x'.repeat(129))],
      ['CreatedAt not a dateTime', (s: string) => s.replace('2026-01-15T03:00:00Z', '2026-01-15')],
      ['seq 0', (s: string) => s.replace('seq="1"', 'seq="0"')],
      ['Months with day', (s: string) => s.replace('<From>2025-01</From>', '<From>2025-01-01</From>')],
      ['Dates on 30 February', (s: string) => s.replace('<Year>2025</Year>', '<Dates><From>2025-02-30</From><To>2025-03-01</To></Dates>')],
      ['Year and Months together', (s: string) => s.replace('<Year>2025</Year>', '<Year>2025</Year><Months><From>2025-01</From><To>2025-02</To></Months>')],
      ['no Requests', (s: string) => s.replace(/<Requests>[\s\S]*<\/Requests>/, '<Requests/>')],
      ['no Trailer', (s: string) => s.replace(/<Trailer>.*<\/Trailer>/, '')],
      ['RecordCount negative', (s: string) => s.replace(/<RecordCount>\d+/, '<RecordCount>-1')],
      ['wrong root namespace', (s: string) => s.replace('urn:ldm-batch:v1', 'urn:ldm-batch:v2')],
      ['element without namespace', (s: string) => s.replace('<Ssin>', '<Ssin xmlns="">')],
    ] as const;
    const base = generateRequest({ count: 3 });
    for (const [what, mutate] of bad) {
      const mutated = mutate(base);
      expect(mutated, what).not.toBe(base);
      const r = await validateRequestFile(file(mutated));
      expect(r.ok, what).toBe(false);
      if (!r.ok) expect(r.code, what).toBe('SCHEMA_INVALID');
    }
    const good = [
      ['prefixed namespace', generateRequest({ count: 2, rootOpen: '<l:BatchRequest xmlns:l="urn:ldm-batch:v1" xmlns="urn:ldm-batch:v1">', rootClose: '</l:BatchRequest>' })],
      ['LivingWages', generateRequest({ count: 2, service: 'LivingWages' })],
      ['seq with leading zeros and spaces', base.replace('seq="1"', 'seq=" 0001 "')],
      ['LegalContext of 128 characters', base.replace('FPS_FINANCE:TAX_ASSESSMENT', 'x'.repeat(128))],
      ['comments and processing instructions', base.replace('<Requests>', '<Requests><!-- c --><?pi x?>')],
    ] as const;
    for (const [what, content] of good) expect(await validateRequestFile(file(content)), what).toEqual({ ok: true });
    expect(HEADER).toContain('GEN-0001');
  });
});

describe.skipIf(!existsSync(XMLLINT))('libxml2-wasm agrees with xmllint', () => {
  it('on the examples', async () => {
    for (const c of CASES) {
      const ref = xmllint(c.kind, c.path);
      expect(ref.valid, c.path).toBe(c.valid);
      const ours = await validateFile(c.path, c.kind);
      expect(ours.ok, c.path).toBe(ref.valid);
      if (!ours.ok) expect(ours.errors.map((e) => e.line), c.path).toEqual(ref.lines);
    }
  });

  it('on generated valid and invalid requests', async () => {
    const variants = [
      generateRequest({ count: 5 }),
      generateRequest({ count: 5, compact: true }),
      generateRequest({ count: 5, service: 'LivingWages' }),
      generateRequest({ count: 5, request: (seq, xml) => (seq === 2 ? xml.replace('<Ssin>', '<Ssin>0') : undefined) }),
      generateRequest({ count: 5, request: (seq, xml) => (seq === 4 ? xml.replace(/ seq="\d+"/, '') : undefined) }),
      generateRequest({ count: 5, request: (seq, xml) => (seq === 3 ? xml.replace('<Period>', '<Role>PARTNER</Role><Period>') : undefined) }),
      generateRequest({ count: 5 }).replace('PROD', 'prod'),
      generateRequest({ count: 5 }).replace('urn:ldm-batch:v1', 'urn:other'),
    ];
    for (const [i, content] of variants.entries()) {
      const path = file(content);
      const ref = xmllint('request', path);
      const ours = await validateRequestFile(path);
      expect(ours.ok, `variant ${i}`).toBe(ref.valid);
      if (!ours.ok) expect(ours.errors.map((e) => e.line), `variant ${i}`).toEqual(ref.lines);
    }
  });
});

if (!existsSync(XMLLINT)) {
  console.warn(`${XMLLINT} is missing: the comparison with xmllint is skipped`);
}
