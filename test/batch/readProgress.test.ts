// ReadProgress: the line reader says how far it is, and the lines still to come are estimated from
// the mean line size so far (AuditSink.ahead writes the audit's last part early with it).
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReadProgress, readRequestLineBatches } from '../../src/batch/fastReader.js';
import { generateRequest } from './gen.js';

describe('ReadProgress.remainingAfter', () => {
  it.each([
    // size, bytes read, lines read, lines consumed → lines still to come
    [1000, 0, 0, 0, 0], // nothing read yet: no estimate
    [1000, 500, 100, 100, 100], // half the file: as many again
    [1000, 500, 100, 40, 160], // 60 read but not consumed, and 100 to read
    [1000, 250, 10, 10, 30], // 100 bytes a line, 750 bytes left
    [1000, 1000, 80, 80, 0], // all read and consumed
    [1000, 1000, 80, 79, 1],
    [1000, 1200, 80, 80, 0], // read past the size given (a file that grew): never negative
    [1000, 333, 7, 7, 15], // rounded up
  ])('size %i, %i bytes and %i lines read, %i consumed: %i', (size, bytes, lines, consumed, want) => {
    const p = new ReadProgress(size);
    p.bytes = bytes;
    p.lines = lines;
    expect(p.remainingAfter(consumed)).toBe(want);
  });
});

it('the reader counts every byte and line of the file, and its estimate on the way is close', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ldm-progress-')), 'req.xml');
  writeFileSync(path, generateRequest({ count: 20_000, compact: true })); // several reads
  const size = statSync(path).size;
  const progress = new ReadProgress(size);
  let consumed = 0;
  const estimates: number[] = [];
  for await (const batch of readRequestLineBatches(path, undefined, progress)) {
    consumed += batch.length;
    if (consumed < 20_000) estimates.push(progress.remainingAfter(consumed) - (20_000 - consumed));
  }
  expect(progress.bytes).toBe(size);
  expect(progress.lines).toBe(20_000);
  expect(progress.remainingAfter(20_000)).toBe(0);
  expect(estimates.length).toBeGreaterThan(1);
  // lines of one shape: the estimate is off by no more than a few lines
  for (const e of estimates) expect(Math.abs(e)).toBeLessThan(200);
});
