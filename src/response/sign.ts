// The enveloped XML-DSig signature of a response (contract §7): exclusive C14N, RSA-SHA256,
// SHA-256 digest, the signer's certificate in KeyInfo.
//
// The Signature element is produced as a string because it is tiny; the document digest it
// carries is computed by the writer while streaming (see writer.ts).

import { createPrivateKey, sign as rsaSign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LdmError, errorMessage } from '../errors.js';
import type { Signer } from '../interfaces.js';

export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG_EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ALG_RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const ALG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const ALG_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

function signedInfoBody(digestB64: string): string {
  if (!BASE64_SHA256.test(digestB64)) {
    throw new Error(`not a base64 SHA-256 digest: ${JSON.stringify(digestB64)}`);
  }
  // Already canonical: no self-closing tags, no whitespace, attribute values need no escaping.
  return (
    `<ds:CanonicalizationMethod Algorithm="${ALG_EXC_C14N}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${ALG_RSA_SHA256}"></ds:SignatureMethod>` +
    `<ds:Reference URI="">` +
    `<ds:Transforms>` +
    `<ds:Transform Algorithm="${ALG_ENVELOPED}"></ds:Transform>` +
    `<ds:Transform Algorithm="${ALG_EXC_C14N}"></ds:Transform>` +
    `</ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${ALG_SHA256}"></ds:DigestMethod>` +
    `<ds:DigestValue>${digestB64}</ds:DigestValue>` +
    `</ds:Reference>`
  );
}

/**
 * The exc-c14n form of SignedInfo, i.e. the bytes that RSA-SHA256 signs. Canonicalized as an
 * apex element it declares the ds prefix itself (exc-c14n renders the visibly used prefix).
 */
export function signedInfoXml(digestB64: string): string {
  return `<ds:SignedInfo xmlns:ds="${DS_NS}">${signedInfoBody(digestB64)}</ds:SignedInfo>`;
}

/** base64 DER of the first certificate in a PEM (re-encoded, so headers/line breaks don't matter). */
export function certificateBase64(certificatePem: string): string {
  return new X509Certificate(certificatePem).raw.toString('base64');
}

function privateKeyOf(signer: Signer): KeyObject {
  const key = createPrivateKey(signer.privateKeyPem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new LdmError('KEY_INVALID', `signing key must be an RSA key, not ${key.asymmetricKeyType ?? 'unknown'}`, {
      exitCode: 2,
    });
  }
  return key;
}

/**
 * The complete `<ds:Signature>` element for a document whose canonical digest is `digestB64`.
 * In the file, SignedInfo inherits xmlns:ds from Signature; its canonical form is the same.
 * RSA PKCS#1 v1.5 is deterministic, so the same input always yields the same bytes.
 */
export function signatureElement(digestB64: string, signer: Signer): string {
  const signatureValue = rsaSign('sha256', Buffer.from(signedInfoXml(digestB64), 'utf8'), privateKeyOf(signer)).toString(
    'base64',
  );
  return (
    `<ds:Signature xmlns:ds="${DS_NS}">` +
    `<ds:SignedInfo>${signedInfoBody(digestB64)}</ds:SignedInfo>` +
    `<ds:SignatureValue>${signatureValue}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBase64(signer.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `</ds:Signature>`
  );
}

/**
 * Loads the signing key and certificate. Refuses a key file that group or others can read
 * (anyone who can read it can sign responses in our name), a certificate that does not
 * belong to the key (every response would then fail verification at the client), and a
 * certificate that is expired or not yet valid (CERT_EXPIRED).
 */
export async function loadSigner(keyPath: string, certPath: string, now: Date = new Date()): Promise<Signer> {
  let info;
  try {
    info = await stat(keyPath);
  } catch (err) {
    throw new LdmError('KEY_MISSING', `cannot read signing key ${keyPath}: ${errorMessage(err)}`, { exitCode: 2 });
  }
  if (!info.isFile()) {
    throw new LdmError('KEY_MISSING', `signing key ${keyPath} is not a regular file`, { exitCode: 2 });
  }
  // POSIX permission bits mean nothing on Windows (stat reports 0o666 there).
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new LdmError(
      'KEY_PERMISSIONS',
      `signing key ${keyPath} is readable by group or others (mode ${mode}); ` +
        `restrict it with: chmod 600 ${JSON.stringify(keyPath)}`,
      { exitCode: 2 },
    );
  }
  const [privateKeyPem, certificatePem] = await Promise.all([
    readFile(keyPath, 'utf8'),
    readFile(certPath, 'utf8').catch((err: unknown) => {
      throw new LdmError('CERT_MISSING', `cannot read signing certificate ${certPath}: ${errorMessage(err)}`, {
        exitCode: 2,
      });
    }),
  ]);
  let key: KeyObject;
  let cert: X509Certificate;
  try {
    key = privateKeyOf({ privateKeyPem, certificatePem });
  } catch (err) {
    if (err instanceof LdmError) throw err;
    throw new LdmError('KEY_INVALID', `signing key ${keyPath} is not a usable (unencrypted PEM) private key: ${errorMessage(err)}`, {
      exitCode: 2,
    });
  }
  try {
    cert = new X509Certificate(certificatePem);
  } catch (err) {
    throw new LdmError('CERT_INVALID', `signing certificate ${certPath} is not a PEM X.509 certificate: ${errorMessage(err)}`, {
      exitCode: 2,
    });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new LdmError('CERT_MISMATCH', `certificate ${certPath} does not belong to signing key ${keyPath}`, {
      exitCode: 2,
    });
  }
  assertCertificateCurrent(cert, certPath, now);
  return { privateKeyPem, certificatePem };
}

/** Days before expiry from which the daemon warns (log event and metric). */
export const CERT_WARN_DAYS = 30;

/**
 * Responses signed with a certificate outside its validity are rejected by every receiver
 * (xmlsec1, our own verify): refusing to start is better than answering a day of files in vain.
 */
export function assertCertificateCurrent(cert: X509Certificate, certPath: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now.getTime() > to.getTime()) {
    throw new LdmError('CERT_EXPIRED', `signing certificate ${certPath} expired on ${to.toISOString()}; configure the renewed certificate and its key (see README, "Rotating the signing certificate")`, { exitCode: 2 });
  }
  if (now.getTime() < from.getTime()) {
    throw new LdmError('CERT_EXPIRED', `signing certificate ${certPath} is not valid before ${from.toISOString()}; keep the current certificate configured until then (or check the clock)`, { exitCode: 2 });
  }
}

/**
 * A long-running daemon checks again before each poll, at the instant that will become the
 * batches' ProcessedAt: a certificate that expired since the start must not sign anything.
 */
export function assertSignerCurrent(signer: Signer, instant: Date): void {
  assertCertificateCurrent(new X509Certificate(signer.certificatePem), 'in use', instant);
}

/** When the signer's certificate expires, and whether that is within CERT_WARN_DAYS of `now`. */
export function certificateExpiry(signer: Signer, now: Date = new Date()): { notAfter: Date; daysLeft: number; warn: boolean } {
  const notAfter = new Date(new X509Certificate(signer.certificatePem).validTo);
  const daysLeft = (notAfter.getTime() - now.getTime()) / 86_400_000;
  return { notAfter, daysLeft, warn: daysLeft <= CERT_WARN_DAYS };
}
