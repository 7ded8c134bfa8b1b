// The single pass over a request (requestPass.ts) gives what the separate checks give — the
// guard's verdict with its position, the envelope facts, the SHA-256 of the bytes — and leaves a
// private copy of exactly those bytes, which later stages read even when the file changes.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRequestOnce } from '../../src/batch/requestPass.js';
import { guardRequestFile, MAX_RUN, MAX_VALUE } from '../../src/batch/guard.js';
import { checkEnvelope, readEnvelopeHeader, scanEnvelope } from '../../src/batch/envelope.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-pass-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(tmp, `p${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const VALID = generateRequest({ count: 3 });
/** A valid request of several MiB (several read chunks). */
const BIG = generateRequest({ count: 40_000 });

function withBadByteAt(text: string, offset: number): Buffer {
  const b = Buffer.from(text);
  b[offset] = 0xff;
  return b;
}

/** What, the guard's verdict ('ok' or its code), content. */
const CASES: [string, string, string | Buffer][] = [
  ['valid', 'ok', VALID],
  ['valid, several chunks', 'ok', BIG],
  ['valid with a byte order mark', 'ok', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(VALID)])],
  ['empty', 'NOT_WELL_FORMED', ''],
  ['a byte order mark alone', 'NOT_WELL_FORMED', Buffer.from([0xef, 0xbb, 0xbf])],
  ['no root element', 'NOT_WELL_FORMED', `${DECL}<!-- nothing -->\n`],
  ['a DTD', 'DTD_FORBIDDEN', `${DECL}<!DOCTYPE BatchRequest [\n  <!ENTITY x "y">\n]>\n${VALID.slice(DECL.length)}`],
  ['UTF-16', 'NOT_WELL_FORMED', Buffer.from(`\ufeff${VALID}`, 'utf16le')],
  ['Latin-1 declared', 'NOT_WELL_FORMED', VALID.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')],
  ['invalid UTF-8 in the first chunk', 'NOT_WELL_FORMED', withBadByteAt(VALID, 300)],
  ['invalid UTF-8 in the third chunk', 'NOT_WELL_FORMED', withBadByteAt(BIG, (2 << 20) + 12_345)],
  ['a truncated UTF-8 sequence at the end', 'NOT_WELL_FORMED', Buffer.concat([Buffer.from(VALID), Buffer.from([0xe2, 0x82])])],
  ['a value above MAX_VALUE across chunks', 'SCHEMA_INVALID', `${DECL}<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header>\n<FileId>${'A'.repeat(MAX_VALUE + 10)}</FileId></Header></BatchRequest>\n`],
  ['blank lines above MAX_RUN', 'SCHEMA_INVALID', `${DECL}<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header>${'\n  '.repeat(Math.ceil(MAX_RUN / 3) + 10)}<FileId>F</FileId></Header></BatchRequest>\n`],
  ['trailer off by one', 'ok', generateRequest({ count: 4, recordCount: 5 })],
  ['a duplicate seq', 'ok', generateRequest({ count: 3, request: (seq, x) => (seq === 3 ? x.replace('seq="3"', 'seq="2"') : undefined) })],
  ['not XML at all', 'NOT_WELL_FORMED', 'hello, world\n'],
];

describe('readRequestOnce', () => {
  it.each(CASES)('%s: the same verdicts, facts and digest as the separate checks', async (_what, verdict, content) => {
    const path = file(content);
    const bytes = readFileSync(path);
    const copy = join(tmp, `copy${n++}`);
    const read = await readRequestOnce(path, copy);
    expect(read.sha256).toBe(sha(bytes));
    expect(read.size).toBe(bytes.length);
    expect(read.guard.ok ? 'ok' : read.guard.code).toBe(verdict);
    expect(read.guard).toEqual(await guardRequestFile(path));
    // The Header read from the copy and the background envelope scan together say what the
    // one-pass envelope check says.
    const full = await checkEnvelope(path);
    const head = await readEnvelopeHeader(copy, read.sha256, read.size);
    expect({ header: head.header, fileId: head.fileId }).toEqual({ header: full.header, fileId: full.fileId });
    if (read.guard.ok) expect({ ...(await scanEnvelope(copy)), sha256: read.sha256 }).toEqual(full);
    const copied = readFileSync(copy);
    if (read.guard.ok) expect(copied.equals(bytes)).toBe(true);
    else expect(bytes.subarray(0, copied.length).equals(copied)).toBe(true); // a prefix: enough to place the refusal
    expect(statSync(copy).mode & 0o777).toBe(0o600);
  });

  it('later stages read the bytes that were hashed, even when the file changes afterwards', async () => {
    const path = file(VALID);
    const copy = join(tmp, `copy${n++}`);
    const read = await readRequestOnce(path, copy);
    writeFileSync(path, VALID.replace('seq="2"', 'seq="9"')); // the client rewrites it in place
    expect(sha(readFileSync(copy))).toBe(read.sha256);
    expect(sha(readFileSync(path))).not.toBe(read.sha256);
  });

  it('never writes over an existing file', async () => {
    const path = file(VALID);
    const copy = file('already there');
    await expect(readRequestOnce(path, copy)).rejects.toThrow(/EEXIST/);
    expect(readFileSync(copy, 'utf8')).toBe('already there');
  });
});
