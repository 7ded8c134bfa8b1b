// Throughput and memory on a generated 100,000-line request file. Timing depends on the
// machine, so this only runs when asked: LDM_BENCH=1 npx vitest run test/batch/perf.test.ts
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardRequestFile } from '../../src/batch/guard.js';
import { checkEnvelope } from '../../src/batch/envelope.js';
import { readRequest } from './requestSax.js';
import { validateRequestFile } from '../../src/batch/validate.js';
import { writeRequest } from './gen.js';

const COUNT = 100_000;

async function timed<T>(what: string, mb: number, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await run();
  const ms = performance.now() - t0;
  console.log(`${what}: ${ms.toFixed(0)} ms, ${((mb * 1000) / ms).toFixed(1)} MB/s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  return result;
}

describe.skipIf(!process.env.LDM_BENCH)('performance', () => {
  it(`reads and validates ${COUNT} requests`, async () => {
    const path = writeRequest(join(mkdtempSync(join(tmpdir(), 'ldm-perf-')), 'perf.xml'), { count: COUNT });
    const mb = statSync(path).size / 1e6;
    console.log(`file: ${mb.toFixed(1)} MB, ${COUNT} requests`);
    await timed('guard', mb, () => guardRequestFile(path));
    await timed('checkEnvelope', mb, () => checkEnvelope(path));
    expect(await timed('validateRequestFile', mb, () => validateRequestFile(path))).toEqual({ ok: true });
    for (let round = 1; round <= 2; round++) {
      const lines = await timed(`readRequest (round ${round})`, mb, async () => {
        let n = 0;
        for await (const line of readRequest(path).lines) n += line.seq > 0 ? 1 : 0;
        return n;
      });
      expect(lines).toBe(COUNT);
    }
  });
});
