// Development signing keys for tests: made once per test file (a key pair and an openssl call
// cost ~100 ms), in temp folders. Call `removeTestKeys` from the file's afterAll.

import { rmSync } from 'node:fs';
import type { Signer } from '../../src/interfaces.js';
import { datedCert } from './certs.js';

export interface TestKeys {
  dir: string;
  keyPath: string;
  certPath: string;
  signer: Signer;
}

const made = new Map<string, Promise<TestKeys>>();
const dirs: string[] = [];

/** Deletes every key folder made so far (the next testKeys() call makes fresh ones). */
export function removeTestKeys(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  made.clear();
}

/**
 * Valid from 2020 (the fixtures' ProcessedAt lie in the past, and verify checks the certificate
 * was valid then) to 825 days from now, like a development certificate.
 */
async function make(): Promise<TestKeys> {
  const c = datedCert(new Date('2020-01-01T00:00:00Z'), new Date(Date.now() + 825 * 86_400_000), 'ldm-batch test signer');
  dirs.push(c.dir);
  return { dir: c.dir, keyPath: c.keyPath, certPath: c.certPath, signer: c.signer };
}

/** A development key + self-signed certificate, the same one for every caller with the same name. */
export function testKeys(name = 'default'): Promise<TestKeys> {
  let p = made.get(name);
  if (p === undefined) {
    p = make();
    made.set(name, p);
  }
  return p;
}
