// The guard refuses a run of more than 1 MiB without '<' or '>' (a hostile huge value) while
// streaming, before any reader could buffer it; shorter runs pass.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardRequestFile } from '../../src/batch/guard.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fileWithValue(bytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ldm-run-'));
  dirs.push(dir);
  const p = join(dir, 'r.xml');
  await writeFile(p, `<?xml version="1.0" encoding="UTF-8"?>\n<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header><FileId>${'A'.repeat(bytes)}</FileId></Header></BatchRequest>\n`);
  return p;
}

describe('guard: longest run without a tag boundary', () => {
  it.each([
    [900 << 10, true],
    [(1 << 20) + 1, false],
    [3 << 20, false],
  ])('%i bytes → ok=%s', async (bytes, ok) => {
    const r = await guardRequestFile(await fileWithValue(bytes));
    expect(r.ok).toBe(ok);
    if (!r.ok) {
      expect(r.code).toBe('NOT_WELL_FORMED');
      expect(r.error.message).toMatch(/resource limit/);
      expect(r.error).toMatchObject({ line: 3, column: 17 }); // the first byte of the value
    }
  });
});
