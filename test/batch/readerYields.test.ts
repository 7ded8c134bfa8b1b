// The line reader reads synchronously, and the response's writes go to a worker thread: the
// reader must still give the event loop a turn as it goes, or what completes on it (the audit's
// SQLite statements, the lease's heartbeat timer) waits until the whole file has been answered.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readRequestLineBatches } from '../../src/batch/fastReader.js';
import { generateRequest } from './gen.js';

it('gives the event loop a turn while it reads a big file, not only at its end', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ldm-yield-')), 'big.xml');
  writeFileSync(path, generateRequest({ count: 20_000, compact: true })); // ~3 MB: a dozen reads
  let read = 0;
  let turnAt = -1;
  let timerAt = -1;
  setImmediate(() => (turnAt = read));
  setTimeout(() => (timerAt = read), 0);
  // A consumer that never waits for anything but the reader itself (as the answer's pipeline).
  for await (const batch of readRequestLineBatches(path)) read += batch.length;
  expect(read).toBe(20_000);
  expect(turnAt).toBeGreaterThanOrEqual(0);
  expect(turnAt).toBeLessThan(20_000);
  expect(timerAt).toBeLessThan(20_000);
});
