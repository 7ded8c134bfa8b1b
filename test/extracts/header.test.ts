// The extract's header form in the response schema and the signature checks: `ExtractId` instead
// of `InReplyTo`/`RequestSha256`, and an extract with nobody in it (empty Responses). Both forms
// are refused where they do not belong (a wrong ExtractId, both header forms at once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResponse, type ExtractHeader } from '../../src/response/writer.js';
import { verifyResponse } from '../../src/response/verify.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import { hasTool, ROOT, run } from '../helpers/instance.js';

const XMLLINT = '/usr/bin/xmllint';
const XMLSEC = '/usr/bin/xmlsec1';
const XSD = join(ROOT, 'schemas', 'ldm-batch-response.xsd');
const HEADER: ExtractHeader = { extractId: 'EXTRACT-fin-2025', service: 'LivingWagesWithAmount', referenceDate: '2026-01-15', processedAt: '2026-01-15T03:00:07Z' };

describe('the extract header in the response schema and in verify', () => {
  let keys: TestKeys;
  let dir: string;
  beforeAll(async () => {
    keys = await testKeys();
    dir = mkdtempSync(join(tmpdir(), 'ldm-extract-header-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    removeTestKeys();
  });

  const lint = async (file: string): Promise<{ code: number; out: string }> => {
    const r = await run(XMLLINT, ['--noout', '--schema', XSD, file]);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  it('an empty extract: ExtractId, no Response, RecordCount 0 — valid, signed, verified', async () => {
    const file = join(dir, 'EXTRACT-fin-2025.xml');
    const w = await writeResponse(createWriteStream(file), HEADER, [], keys.signer);
    expect(w.recordCount).toBe(0);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain('<Header>\n    <ExtractId>EXTRACT-fin-2025</ExtractId>\n    <Service>LivingWagesWithAmount</Service>\n    <ReferenceDate>2026-01-15</ReferenceDate>');
    expect(xml).not.toContain('RequestSha256');
    expect(xml).toContain('<Responses>\n  </Responses>');
    expect(await verifyResponse(file, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true, fileId: 'EXTRACT-fin-2025', recordCount: 0, trusted: true });
    if (hasTool(XMLSEC)) expect((await run(XMLSEC, ['--verify', '--trusted-pem', keys.certPath, file])).code).toBe(0);
    else console.warn(`xmlsec1 check skipped: ${XMLSEC} is not installed`);
    if (!hasTool(XMLLINT)) return console.warn(`XSD checks skipped: ${XMLLINT} is not installed`);
    expect(await lint(file)).toMatchObject({ code: 0 });

    // the schema refuses a malformed ExtractId and a header with both forms
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, xml.replace('<ExtractId>EXTRACT-fin-2025</ExtractId>', '<ExtractId>fin-2025</ExtractId>'));
    expect((await lint(bad)).code).not.toBe(0);
    writeFileSync(bad, xml.replace('<ExtractId>EXTRACT-fin-2025</ExtractId>', `<ExtractId>EXTRACT-fin-2025</ExtractId>\n    <RequestSha256>${'0'.repeat(64)}</RequestSha256>`));
    expect((await lint(bad)).code).not.toBe(0);
  });
});
