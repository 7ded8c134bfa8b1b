// Every example in docs/ is checked: requests validate against the request XSD, responses and the
// notification validate against theirs and verify (xmlsec1, ldm-batch verify), a tampered copy
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
const kindOf = (name: string): SchemaKind => (name.endsWith('-request.xml') ? 'request' : name.startsWith('notification') ? 'notification' : 'response');
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
  it('holds requests, signed responses, a notification and the certificate', () => {
    expect(requests.sort()).toEqual(['amounts-request.xml', 'rejected-request.xml', 'rights-request.xml']);
    expect(signed.sort()).toEqual(['amounts-response.xml', 'notification.xml', 'rejected-response.xml', 'rights-response.xml']);
    // Between them, the amounts example's lines produce every per-line code of the amounts service.
    const codes = new Set([...readFileSync(join(EX, 'amounts-response.xml'), 'utf8').matchAll(/<Status code="(MSG\d+)"/g)].map((m) => m[1]));
    expect([...codes].sort()).toEqual(['MSG00000', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012', 'MSG00100']);
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

