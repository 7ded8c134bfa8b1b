// The guard refuses a value of more than 1 MiB between two tag boundaries (a hostile huge value)
// while streaming, before any reader could buffer it, as SCHEMA_INVALID (the file is well-formed;
// no element of the schema allows such a value); shorter values pass. White space is not a value:
// it passes up to MAX_RUN between two tags.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardRequestFile, MAX_RUN } from '../../src/batch/guard.js';

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
      expect(r.code).toBe('SCHEMA_INVALID');
      expect(r.error.message).toMatch(/no element of the request schema allows/);
      expect(r.error).toMatchObject({ line: 3, column: 17 }); // the first byte of the value
    }
  });
});

async function fileWith(body: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ldm-run-'));
  dirs.push(dir);
  const p = join(dir, 'r.xml');
  await writeFile(p, body);
  return p;
}

const blanks = (n: number): string => ' \n\t\r'.repeat(Math.ceil(n / 4)).slice(0, n);

describe('guard: white space is not a value', () => {
  it.each([
    ['between two tags', (ws: string) => `<BatchRequest xmlns="urn:ldm-batch:v1"><Header>${ws}<FileId>F</FileId></Header></BatchRequest>`],
    ['around a value', (ws: string) => `<BatchRequest xmlns="urn:ldm-batch:v1"><Header><FileId>${ws}F${ws}</FileId></Header></BatchRequest>`],
    ['before the end of a start tag', (ws: string) => `<BatchRequest xmlns="urn:ldm-batch:v1"><Header${ws}><FileId>F</FileId></Header></BatchRequest>`],
  ])('%s: 1 MiB and 3 MiB pass', async (_, make) => {
    for (const n of [1 << 20, (1 << 20) + 1, 3 << 20]) {
      const r = await guardRequestFile(await fileWith(make(blanks(n))));
      expect(r.ok, `${n} bytes`).toBe(true);
    }
  });

  it('a value with 3 MiB of blanks inside is not over-long (libxml2 then judges it against the schema)', async () => {
    const r = await guardRequestFile(await fileWith(`<BatchRequest xmlns="urn:ldm-batch:v1"><Header><FileId>A${blanks(3 << 20)}B</FileId></Header></BatchRequest>`));
    expect(r.ok).toBe(true);
  });

  it('inside a start tag, between its name and an attribute: 3 MiB pass', async () => {
    const r = await guardRequestFile(await fileWith(`<BatchRequest${blanks(3 << 20)}xmlns="urn:ldm-batch:v1"><Header/></BatchRequest>`));
    expect(r.ok).toBe(true);
  });

  it('more than MAX_RUN between two tags is refused as a resource limit, at its first byte', async () => {
    const r = await guardRequestFile(await fileWith(`<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header>${' '.repeat(MAX_RUN - 1)}x${' '.repeat(2)}<FileId>F</FileId></Header></BatchRequest>`));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('SCHEMA_INVALID');
      expect(r.error.message).toMatch(/resource limit: more than 9 MiB between two tags/);
      expect(r.error).toMatchObject({ line: 2, column: 9 });
    }
  });

  it('exactly MAX_RUN of white space between two tags passes', async () => {
    const r = await guardRequestFile(await fileWith(`<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header>${' '.repeat(MAX_RUN)}<FileId>F</FileId></Header></BatchRequest>`));
    expect(r.ok).toBe(true);
  });
});
