// DEVELOPMENT signing key and self-signed certificate (for `init`, `demo` and tests).
//
// A self-signed certificate proves nothing to a receiving institution: production must use a
// key and certificate issued for the organisation, configured in place of these files.
//
// node:crypto can make the RSA key but not an X.509 certificate, so the certificate is made by
// the `openssl` command line (part of the base image). The key is written by us, with mode
// 0600 from the start, so it is never readable by others even for a moment.

import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { access, chmod, constants, mkdir, unlink, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { LdmError, errorMessage } from '../errors.js';

const execFileP = promisify(execFile);
const generateKeyPairP = promisify(generateKeyPair);

export const DEV_SUBJECT = '/CN=ldm-batch development signer';
export const DEV_KEY_FILE = 'signing-key.pem';
export const DEV_CERT_FILE = 'signing-cert.pem';

/** Like `which openssl`, without depending on a shell. */
async function findOpenssl(): Promise<string> {
  const names = process.platform === 'win32' ? ['openssl.exe'] : ['openssl'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  throw new LdmError(
    'OPENSSL_MISSING',
    'the openssl command is needed to create the development certificate but is not on PATH; ' +
      'install it (Debian: apt-get install openssl) or configure an existing key and certificate',
    { exitCode: 2 },
  );
}

/**
 * Creates `<dir>/signing-key.pem` (RSA-2048, PKCS#8, mode 0600) and `<dir>/signing-cert.pem`
 * (self-signed, CN "ldm-batch development signer", valid 825 days).
 * Never overwrites a key: clients may already trust its certificate. An existing key is kept
 * (so `init --force` is harmless); an existing certificate next to it is kept as well, and a
 * missing one is made for the existing key.
 */
export async function generateDevSigner(dir: string): Promise<{ keyPath: string; certPath: string }> {
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, DEV_KEY_FILE);
  const certPath = join(dir, DEV_CERT_FILE);
  const keyExists = await exists(keyPath);
  if (keyExists && (await exists(certPath))) return { keyPath, certPath };
  const openssl = await findOpenssl();

  if (!keyExists) {
    const { privateKey } = await generateKeyPairP('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    // 'wx': a key that appeared meanwhile is not clobbered.
    await writeFile(keyPath, privateKey, { mode: 0o600, flag: 'wx' });
    await chmod(keyPath, 0o600); // mode is only applied at creation, and through the umask
  }

  try {
    await execFileP(openssl, [
      'req', '-x509', '-new', '-sha256',
      '-key', keyPath,
      '-days', '825',
      '-subj', DEV_SUBJECT,
      '-out', certPath,
    ]);
  } catch (err) {
    // so that a retry starts clean instead of keeping a key without certificate
    if (!keyExists) await unlink(keyPath).catch(() => undefined);
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new LdmError(
      'OPENSSL_FAILED',
      `openssl could not create the development certificate: ${typeof stderr === 'string' && stderr !== '' ? stderr.trim() : errorMessage(err)}`,
      { exitCode: 2, cause: err },
    );
  }
  return { keyPath, certPath };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
