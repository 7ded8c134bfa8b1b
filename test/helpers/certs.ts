// A key and a self-signed certificate with a chosen validity period, past or future, made by
// `openssl ca` (openssl 3.0's `req -x509` can only start a certificate now).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from '../../src/interfaces.js';

/** openssl ca's date form: YYYYMMDDHHMMSSZ. */
const asn1 = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

export interface DatedCert {
  dir: string;
  keyPath: string;
  certPath: string;
  signer: Signer;
}

/** With `opts.keyPath`, a new certificate for that existing key, written to `opts.certPath`. */
export function datedCert(notBefore: Date, notAfter: Date, cn = 'ldm-batch dated test signer', opts: { keyPath?: string; certPath?: string } = {}): DatedCert {
  const dir = mkdtempSync(join(tmpdir(), 'ldm-dated-cert-'));
  const keyPath = opts.keyPath ?? join(dir, 'signing-key.pem');
  const certPath = opts.certPath ?? join(dir, 'signing-cert.pem');
  const csr = join(dir, 'req.csr');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = dated',
      '[ dated ]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[ anything ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  if (opts.keyPath === undefined) {
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath], { stdio: 'pipe' });
    chmodSync(keyPath, 0o600);
  }
  execFileSync('openssl', ['req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csr], { stdio: 'pipe' });
  execFileSync('openssl', ['ca', '-batch', '-selfsign', '-config', join(dir, 'ca.cnf'), '-keyfile', keyPath, '-in', csr, '-out', certPath, '-startdate', asn1(notBefore), '-enddate', asn1(notAfter), '-notext'], { stdio: 'pipe' });
  return { dir, keyPath, certPath, signer: { privateKeyPem: readFileSync(keyPath, 'utf8'), certificatePem: readFileSync(certPath, 'utf8') } };
}
