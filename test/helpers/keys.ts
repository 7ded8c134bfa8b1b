// Development signing keys for tests: made once per test file (a key pair and an openssl call
// cost ~100 ms), in temp folders. Call `removeTestKeys` from the file's afterAll.

import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from '../../src/interfaces.js';
import { generateDevSigner } from '../../src/response/devkeys.js';

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

async function make(): Promise<TestKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'ldm-keys-'));
  dirs.push(dir);
  const { keyPath, certPath } = await generateDevSigner(dir);
  return {
    dir,
    keyPath,
    certPath,
    signer: { privateKeyPem: readFileSync(keyPath, 'utf8'), certificatePem: readFileSync(certPath, 'utf8') },
  };
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
