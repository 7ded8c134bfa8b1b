// Every example in docs/ is checked: requests validate against the request XSD, responses, the
// extract and the notification validate against theirs and verify (xmlsec1, ldm-batch verify), a tampered copy
// fails, each XML excerpt in a page is taken line for line from an example file, and the commands
// of verify.md run as written.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { validateFile, type SchemaKind } from '../../src/batch/validate.js';
import { BIN, ROOT, run } from '../helpers/instance.js';
import { HAVE_XMLLINT, HAVE_XMLSEC1, NO_XMLLINT, NO_XMLSEC1, XMLLINT, XMLSEC1 } from '../response/fixtures.js';

const DOCS = join(ROOT, 'docs');
const INST = join(DOCS, 'institutions');
const EX = join(INST, 'examples');
const CERT = join(EX, 'example-signer-cert.pem');

const exampleFiles = readdirSync(EX).filter((n) => n.endsWith('.xml'));
const requests = exampleFiles.filter((n) => n.endsWith('-request.xml'));
const signed = exampleFiles.filter((n) => !n.endsWith('-request.xml'));
// An extract (EXTRACT-<client>-<year>.xml, contract §6d) is a BatchResponse: the response schema.
function kindOf(name: string): SchemaKind {
  if (name.endsWith('-request.xml')) return 'request';
  if (name.startsWith('notification')) return 'notification';
  if (name.endsWith('-response.xml') || name.startsWith('EXTRACT-')) return 'response';
  throw new Error(`docs/institutions/examples/${name}: which schema? (kindOf in test/docs/examples.test.ts)`);
}
const SCHEMA: Record<SchemaKind, string> = {
  request: join(ROOT, 'schemas', 'ldm-batch-request.xsd'),
  response: join(ROOT, 'schemas', 'ldm-batch-response.xsd'),
  notification: join(ROOT, 'schemas', 'ldm-batch-notification.xsd'),
};

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? markdownFiles(p) : n.endsWith('.md') ? [p] : [];
  });
}

function fencedBlocks(md: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm');
  for (let m = re.exec(md); m; m = re.exec(md)) out.push(m[1]);
  return out;
}

/** The block's lines (trimmed; XML comments such as <!-- … --> mark elisions) appear in this order in the file. */
function isExcerptOf(block: string, file: string): boolean {
  const want = block.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^<!--.*-->$/.test(l));
  const have = file.split('\n').map((l) => l.trim());
  let i = 0;
  for (const line of have) if (i < want.length && line === want[i]) i++;
  return i === want.length;
}

describe('docs/institutions/examples', () => {
  const codesIn = (name: string): string[] => [...new Set([...readFileSync(join(EX, name), 'utf8').matchAll(/<Status code="(MSG\d+)"/g)].map((m) => m[1]))].sort();

  it('holds requests, signed responses, an extract, a notification and the certificate', () => {
    expect(requests.sort()).toEqual(['amounts-request.xml', 'handiservice-request.xml', 'rejected-request.xml', 'rights-request.xml']);
    expect(signed.sort()).toEqual(['EXTRACT-fin-2025.xml', 'amounts-response.xml', 'handiservice-response.xml', 'notification.xml', 'rejected-response.xml', 'rights-response.xml']);
    // Between them, the amounts example's lines produce every per-line code of the amounts service.
    expect(codesIn('amounts-response.xml')).toEqual(['MSG00000', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012', 'MSG00100']);
  });

  it('the Handiservice example shows data, the one-year limit and both integration checks (contract §6c)', () => {
    const res = readFileSync(join(EX, 'handiservice-response.xml'), 'utf8');
    // in seq order: data, a period of more than one year, no integration of the OCMW, none at the DG PMH, nothing in the period
    expect([...res.matchAll(/<Status code="(MSG\d+)"/g)].map((m) => m[1])).toEqual(['MSG00000', 'MSG00008', 'MSG00012', 'MSG00021', 'MSG00100']);
    expect(res).toContain('<Status code="MSG00021" value="NO_DATA_FOUND">');
    // every kind of Handiservice data, and a pending recognition (no decision yet)
    for (const kind of ['Recognition', 'Right', 'Payment', 'SocialCard']) expect(res).toContain(`<${kind} `);
    expect(res).toMatch(/<Recognition [^>]*status="PENDING"/);
  });

  it('the extract is a BatchResponse with ExtractId, one Year line per person in SSIN order (contract §6d)', () => {
    const res = readFileSync(join(EX, 'EXTRACT-fin-2025.xml'), 'utf8');
    expect(res).toContain('<ExtractId>EXTRACT-fin-2025</ExtractId>');
    expect(res).not.toMatch(/<InReplyTo>|<RequestSha256>/);
    const ssins = [...res.matchAll(/<Ssin>(\d{11})<\/Ssin>/g)].map((m) => m[1]);
    expect(ssins.length).toBeGreaterThanOrEqual(2);
    expect(ssins).toEqual([...ssins].sort());
    expect([...res.matchAll(/<Year year="(\d{4})">/g)].map((m) => m[1])).toEqual(ssins.map(() => '2025'));
    expect(codesIn('EXTRACT-fin-2025.xml')).toEqual(['MSG00000']);
  });

  for (const name of exampleFiles) {
    it(`${name} validates against its schema (libxml2, as the program does)`, async () => {
      const r = await validateFile(join(EX, name), kindOf(name));
      expect(r).toEqual({ ok: true });
    });
    it.skipIf(!HAVE_XMLLINT)(`${name} validates with xmllint --schema${HAVE_XMLLINT ? '' : ` (skipped: ${NO_XMLLINT})`}`, async () => {
      const r = await run(XMLLINT, ['--noout', '--nonet', '--schema', SCHEMA[kindOf(name)], join(EX, name)]);
      expect(r.stderr).toContain('validates');
      expect(r.code).toBe(0);
    });
  }

  for (const name of signed) {
    it.skipIf(!HAVE_XMLSEC1)(`${name} verifies with xmlsec1 against the example certificate${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`, async () => {
      const r = await run(XMLSEC1, ['--verify', '--trusted-pem', CERT, join(EX, name)]);
      expect(r.code, r.stderr).toBe(0);
    });
    it(`${name} verifies with ldm-batch verify --cert, and a changed byte does not`, async () => {
      const ok = await run(process.execPath, [BIN, 'verify', '--cert', CERT, join(EX, name), '--json']);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), 'ldm-docs-'));
      try {
        const bad = join(dir, name);
        writeFileSync(bad, readFileSync(join(EX, name), 'utf8').replace(/(<(?:ProcessedAt|CreatedAt)>[^<]*)(\d)Z</, (_m, a: string, d: string) => `${a}${(Number(d) + 1) % 10}Z<`));
        expect(readFileSync(bad, 'utf8')).not.toBe(readFileSync(join(EX, name), 'utf8'));
        const r = await run(process.execPath, [BIN, 'verify', '--cert', CERT, bad, '--json']);
        expect(r.code).toBe(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('each response names its request by FileId and SHA-256', () => {
    for (const req of requests) {
      const res = readFileSync(join(EX, req.replace('-request.xml', '-response.xml')), 'utf8');
      const bytes = readFileSync(join(EX, req));
      expect(res).toContain(`<RequestSha256>${createHash('sha256').update(bytes).digest('hex')}</RequestSha256>`);
      expect(res).toContain(`<InReplyTo>${/<FileId>([^<]+)<\/FileId>/.exec(bytes.toString('utf8'))?.[1]}</InReplyTo>`);
    }
  });
});

describe('the pages of docs/', () => {
  const pages = markdownFiles(DOCS);
  const examples = exampleFiles.map((n) => ({ name: n, text: readFileSync(join(EX, n), 'utf8') }));

  it('have XML excerpts, and every one is taken line for line from an example file', () => {
    let blocks = 0;
    for (const page of pages) {
      for (const block of fencedBlocks(readFileSync(page, 'utf8'), 'xml')) {
        blocks++;
        const from = examples.find((e) => isExcerptOf(block, e.text));
        expect(from, `${relative(ROOT, page)}: this excerpt is in no example file:\n${block}`).toBeDefined();
      }
    }
    expect(blocks).toBeGreaterThanOrEqual(6);
  });

  it('the excerpt check can fail', () => {
    expect(isExcerptOf('<Ssin>85073003328</Ssin>\n<Ticket>client-ref-0001</Ticket>', examples.find((e) => e.name === 'amounts-response.xml')!.text)).toBe(false);
  });

  it('link only to files that exist', () => {
    for (const page of pages) {
      for (const m of readFileSync(page, 'utf8').matchAll(/\]\(([^)#\s]+)\)/g)) {
        if (/^[a-z]+:/.test(m[1])) continue;
        expect(() => statSync(join(page, '..', m[1])), `${relative(ROOT, page)} links to ${m[1]}`).not.toThrow();
      }
    }
  });

  it.skipIf(!HAVE_XMLSEC1 || !HAVE_XMLLINT)(
    `the commands of verify.md run as written and agree${HAVE_XMLSEC1 && HAVE_XMLLINT ? '' : ' (skipped: xmlsec1 or xmllint missing)'}`,
    async () => {
      const commands = fencedBlocks(readFileSync(join(INST, 'verify.md'), 'utf8'), 'sh').flatMap((b) => b.split('\n').filter((l) => l.trim() !== ''));
      expect(commands.length).toBeGreaterThanOrEqual(4);
      const outputs: string[] = [];
      for (const line of commands) {
        const cmd = line.replace(/^ldm-batch /, `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} `);
        const r = await run('/bin/sh', ['-c', cmd], { cwd: INST });
        expect(r.code, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
        outputs.push(r.stdout);
      }
      // sha256sum of the request = the response's RequestSha256 printed by xmllint --xpath.
      const sum = outputs.find((o) => /^[0-9a-f]{64}\s/.test(o))?.slice(0, 64);
      expect(sum).toBeDefined();
      expect(outputs.some((o) => o.trim() === sum)).toBe(true);
    },
  );
});

describe('the example certificate', () => {
  it('stays valid for years (the examples are checked against today)', async () => {
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(readFileSync(CERT));
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(365 * 86400_000);
  });
  it('is a certificate only: no key is committed in docs/', () => {
    for (const n of readdirSync(EX)) expect(readFileSync(join(EX, n), 'utf8')).not.toMatch(/PRIVATE KEY/);
  });
});

