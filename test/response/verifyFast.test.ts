// The verifier's fast path (our own layout, a trusted certificate: the body's bytes are hashed
// as they are) gives the full check's answer, and hands every other file to the full check.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyOwnLayout, verifyResponse } from '../../src/response/verify.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import { LINES, writeFile } from './fixtures.js';

let dir: string;
let keys: TestKeys;
let other: TestKeys;
let original: string;
const path = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-vfast-'));
  keys = await testKeys();
  other = await testKeys('other');
  await writeFile(path('r.xml'), LINES, keys.signer);
  original = readFileSync(path('r.xml'), 'utf8');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

function variant(name: string, edit: (xml: string) => string): string {
  writeFileSync(path(name), edit(original));
  return path(name);
}

describe('verify fast path', () => {
  it('accepts what the writer wrote, with the full check’s result', async () => {
    const trusted = new X509Certificate(keys.signer.certificatePem);
    const fast = await verifyOwnLayout(path('r.xml'), trusted);
    expect(fast).toMatchObject({ ok: true, fileId: 'FIN-2026-000001', recordCount: LINES.length });
    expect(await verifyResponse(path('r.xml'), { trustedCertPem: keys.signer.certificatePem })).toEqual(fast);
    expect(await verifyResponse(path('r.xml'))).toEqual({ ...fast, trusted: false }); // integrity only: always the full check, never trusted
  });

  it('leaves anything else to the full check, which decides and says why', async () => {
    const trusted = new X509Certificate(keys.signer.certificatePem);
    const cases: { name: string; edit: (xml: string) => string; ok: boolean; reason?: RegExp }[] = [
      { name: 'changed amount', edit: (x) => x.replace('amountCents="1234567"', 'amountCents="1234568"'), ok: false, reason: /digest mismatch/ },
      { name: 'no declaration', edit: (x) => x.replace(/^<\?xml[^>]*>\n/, ''), ok: true },
      { name: 'self-closing tags', edit: (x) => x.replace(/(<Status [^>]*)><\/Status>/, '$1/>'), ok: true },
      { name: 'a comment in the body', edit: (x) => x.replace('<Responses>', '<Responses><!-- unsigned -->'), ok: true },
      { name: 'a DOCTYPE', edit: (x) => x.replace('<BatchResponse', '<!DOCTYPE BatchResponse>\n<BatchResponse'), ok: false, reason: /DOCTYPE/ },
      { name: 'an element after the signature', edit: (x) => x.replace('</ds:Signature></BatchResponse>', '</ds:Signature><Extra></Extra></BatchResponse>'), ok: false, reason: /last element/ },
      { name: 'a changed signature value', edit: (x) => x.replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`), ok: false, reason: /signature mismatch/ },
    ];
    for (const c of cases) {
      const p = variant(`${c.name.replace(/\W+/g, '-')}.xml`, c.edit);
      expect(readFileSync(p, 'utf8'), c.name).not.toBe(original);
      expect(await verifyOwnLayout(p, trusted), c.name).toBeUndefined();
      const r = await verifyResponse(p, { trustedCertPem: keys.signer.certificatePem });
      expect(r.ok, `${c.name}: ${JSON.stringify(r)}`).toBe(c.ok);
      if (!r.ok && c.reason) expect(r.reason, c.name).toMatch(c.reason);
    }
  });

  it('does not accept another signer', async () => {
    const r = await verifyResponse(path('r.xml'), { trustedCertPem: other.signer.certificatePem });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/untrusted certificate/);
  });
});
