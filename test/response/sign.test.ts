import { createHash, createPrivateKey, verify, X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdmError } from '../../src/errors.js';
import { generateDevSigner } from '../../src/response/devkeys.js';
import { loadSigner, signatureElement, signedInfoXml } from '../../src/response/sign.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';

const DIGEST = createHash('sha256').update('x').digest('base64');
let dir: string;
let keys: TestKeys;
let other: TestKeys;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-sign-'));
  [keys, other] = await Promise.all([testKeys(), testKeys('other')]);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

describe('signedInfoXml / signatureElement', () => {
  it('gives the canonical SignedInfo, declaring the ds prefix itself', () => {
    expect(signedInfoXml(DIGEST)).toBe(
      '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' +
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>' +
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>' +
        '<ds:Reference URI=""><ds:Transforms>' +
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>' +
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>' +
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>' +
        `<ds:DigestValue>${DIGEST}</ds:DigestValue></ds:Reference></ds:SignedInfo>`,
    );
    expect(() => signedInfoXml('not-a-digest')).toThrow(/base64 SHA-256/);
  });

  it('signs SignedInfo deterministically with RSA-SHA256 and embeds the certificate', () => {
    const a = signatureElement(DIGEST, keys.signer);
    expect(signatureElement(DIGEST, keys.signer)).toBe(a);
    const sigValue = /<ds:SignatureValue>([^<]+)</.exec(a)?.[1] ?? '';
    const cert = new X509Certificate(keys.signer.certificatePem);
    expect(verify('sha256', Buffer.from(signedInfoXml(DIGEST)), cert.publicKey, Buffer.from(sigValue, 'base64'))).toBe(true);
    expect(a).toContain(`<ds:X509Certificate>${cert.raw.toString('base64')}</ds:X509Certificate>`);
    expect(a.startsWith('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Canon')).toBe(true);
  });
});

describe('loadSigner', () => {
  it('loads a key with mode 0600 and its certificate', async () => {
    expect(statSync(keys.keyPath).mode & 0o777).toBe(0o600);
    const s = await loadSigner(keys.keyPath, keys.certPath);
    expect(s).toEqual(keys.signer);
  });

  it.skipIf(process.platform === 'win32')('refuses a key file readable by group or others, telling to chmod 600', async () => {
    for (const mode of [0o644, 0o640, 0o604]) {
      const key = join(dir, `key-${mode.toString(8)}.pem`);
      copyFileSync(keys.keyPath, key);
      chmodSync(key, mode);
      const err = await loadSigner(key, keys.certPath).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LdmError);
      expect(err).toMatchObject({ code: 'KEY_PERMISSIONS', exitCode: 2 });
      expect((err as Error).message).toContain(`chmod 600 "${key}"`);
      expect((err as Error).message).toContain(`mode 0${mode.toString(8)}`);
    }
  });

  it('refuses a certificate of another key, and missing files', async () => {
    await expect(loadSigner(keys.keyPath, other.certPath)).rejects.toMatchObject({ code: 'CERT_MISMATCH' });
    await expect(loadSigner(join(dir, 'nope.pem'), keys.certPath)).rejects.toMatchObject({ code: 'KEY_MISSING' });
    await expect(loadSigner(keys.keyPath, join(dir, 'nope.pem'))).rejects.toMatchObject({ code: 'CERT_MISSING' });
    await expect(loadSigner(keys.keyPath, keys.keyPath)).rejects.toMatchObject({ code: 'CERT_INVALID' });
  });
});

describe('generateDevSigner', () => {
  it('makes an RSA-2048 key (0600) and a self-signed development certificate', async () => {
    const d = join(dir, 'dev');
    const { keyPath, certPath } = await generateDevSigner(d);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(certPath));
    expect(cert.subject).toBe('CN=ldm-batch development signer');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(825);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(keyPath)))).toBe(true);
  });

  it('keeps an existing key and certificate, and makes only a missing certificate', async () => {
    const d = join(dir, 'dev2');
    const first = await generateDevSigner(d);
    const key1 = readFileSync(first.keyPath);
    const cert1 = readFileSync(first.certPath);
    await generateDevSigner(d);
    expect(readFileSync(first.keyPath).equals(key1)).toBe(true);
    expect(readFileSync(first.certPath).equals(cert1)).toBe(true);
    rmSync(first.certPath);
    await generateDevSigner(d);
    expect(readFileSync(first.keyPath).equals(key1)).toBe(true);
    await expect(loadSigner(first.keyPath, first.certPath)).resolves.toBeDefined();
  });
});
