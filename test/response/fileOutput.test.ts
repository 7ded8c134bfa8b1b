// A big response is hashed and written by a worker thread (response/fileOutput.ts). Through the
// compiled modules (a worker cannot load TypeScript sources): the file, its signature digest and
// its SHA-256 are those of the same response written to a stream on this thread; the file is
// created at once by the calling thread; faults (a file that cannot be created, a body that fails
// half-way) say their cause and leave no descriptor open.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/instance.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import { verifyResponse } from '../../src/response/verify.js';
import { HEADER, LINES } from './fixtures.js';
import type { ResponseLine } from '../../src/interfaces.js';

type Writer = typeof import('../../src/response/writer.js');
type FileOutputModule = typeof import('../../src/response/fileOutput.js');

let dir: string;
let keys: TestKeys;
let writer: Writer;
let fo: FileOutputModule;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-fileout-'));
  keys = await testKeys();
  writer = (await import(join(ROOT, 'dist', 'response', 'writer.js'))) as Writer;
  fo = (await import(join(ROOT, 'dist', 'response', 'fileOutput.js'))) as FileOutputModule;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

/** Many lines (some MB, many chunks, the writer waits for the worker more than once). */
function* many(n: number): Generator<ResponseLine> {
  for (let i = 0; i < n; i++) for (const l of LINES) yield { ...l, seq: i * 8 + l.seq };
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** Descriptors open now, once the worker has had time to close the file and end (its loop has descriptors of its own). */
async function settledFds(before: number): Promise<number> {
  for (let i = 0; i < 500 && openFds() !== before; i++) await new Promise((r) => setTimeout(r, 5));
  return openFds();
}

describe('response file written by a worker thread', () => {
  it('is available from the compiled modules', () => {
    expect(fo.fileOutputAvailable()).toBe(true);
  });

  it('writes the same bytes, digest and SHA-256 as a stream written here; the signature verifies', async () => {
    const a = join(dir, 'worker.xml');
    const b = join(dir, 'stream.xml');
    const viaWorker = await writer.writeResponse(fo.openFileOutput(a), HEADER, many(20_000), keys.signer);
    const viaStream = await writer.writeResponse(createWriteStream(b), HEADER, many(20_000), keys.signer);
    const bytes = readFileSync(a);
    expect(bytes.length).toBeGreaterThan(16 << 20);
    expect(bytes.equals(readFileSync(b))).toBe(true);
    expect(viaWorker).toEqual(viaStream);
    expect(viaWorker.fileSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await verifyResponse(a, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true, recordCount: 20_000 * LINES.length });
  });

  it('a file that cannot be created: throws its error code at once, and starts no worker', async () => {
    const before = openFds();
    expect(() => fo.openFileOutput(join(dir, 'missing', 'r.xml'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(await settledFds(before)).toBe(before);
  });

  it('the file exists as soon as the output is opened (a stop signal that removes it then finds it)', async () => {
    const before = openFds();
    const path = join(dir, 'early.xml');
    const out = fo.openFileOutput(path);
    expect(existsSync(path)).toBe(true);
    out.abort();
    // abandoned before a byte was written: the worker still closes the file
    expect(await settledFds(before)).toBe(before);
  });

  it('a body that fails half-way: rejects with its error, and the descriptor is closed', async () => {
    const before = openFds();
    function* failing(): Generator<ResponseLine> {
      yield* many(5_000);
      throw new Error('the resolver broke');
    }
    await expect(writer.writeResponse(fo.openFileOutput(join(dir, 'broken.xml')), HEADER, failing(), keys.signer)).rejects.toThrow('the resolver broke');
    // the worker closes the file when told to abort
    expect(await settledFds(before)).toBe(before);
  });
});
