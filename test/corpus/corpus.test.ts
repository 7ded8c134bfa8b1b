// Every case of the bad-input corpus through the real spool (`run-once`): its expected outcome,
// the original bytes kept in error/ or archive/, a journal entry, a signed answer when the sender
// can be told — and a valid file dropped after it is still answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { CASES, validAfter } from './cases.js';
import * as S from '../pipeline/scenario.js';

let inst: Instance;
const dir = (f: string): string => join(inst.spool, 'fin', f);
const table: string[] = [];

async function sha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
  await mkdir(dir('in'), { recursive: true });
}, 60_000);
afterAll(async () => {
  console.log(['case\texpected\toutcome', ...table].join('\n'));
  await inst?.cleanup();
});

describe('bad-input corpus', () => {
  it.each(CASES.map((c, i) => ({ ...c, i })))('$name → $expect.outcome $expect.code', async (c) => {
    const bad = join(dir('in'), c.file);
    await c.make(bad);
    const badSha = await sha(bad);
    // Sorted after every case name, so the bad file is handled first in the same poll.
    await writeFile(join(dir('in'), `zz-valid-after-${c.i}.xml`), validAfter(c.i));
    const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
    const files = JSON.parse(r.stdout).files as { file: string; outcome: string }[];
    const mine = files.find((f) => f.file === c.file);
    const after = files.find((f) => f.file === `zz-valid-after-${c.i}.xml`);
    expect(after?.outcome, 'the valid file after the bad one').toBe('ANSWERED');

    const batches = JSON.parse((await inst.cli(['batches', 'list', '--limit', '5', '--json'])).stdout) as { fileName: string; state: string; errorCode: string | null; archiveName: string | null }[];
    const journal = batches.find((b) => b.fileName === c.file || (c.expect.outcome === 'FAILED' && b.errorCode === c.expect.code));
    expect(journal, 'a journal entry').toBeDefined();
    const kept = join(inst.spool, 'fin', journal?.archiveName ?? 'missing');
    expect(await sha(kept), 'original bytes kept').toBe(badSha);

    if (c.expect.outcome === 'FAILED') {
      expect(mine?.outcome).toBe('FAILED');
      expect(journal?.errorCode).toBe(c.expect.code);
      expect(journal?.archiveName).toMatch(/^error\//);
    } else {
      expect(mine?.outcome).toBe(c.expect.outcome);
      const response = await readFile(join(dir('out'), c.file.replace(/\.xml$/, '.response.xml')), 'utf8');
      if (c.expect.outcome === 'REJECTED') {
        expect(response).toContain(`<Rejection code="${c.expect.code}">`);
        expect(journal?.archiveName).toMatch(/^error\//);
      } else {
        expect(response).toContain('<Responses>');
        expect(journal?.archiveName).toMatch(/^archive\//);
      }
      expect((await inst.cli(['verify', join(dir('out'), c.file.replace(/\.xml$/, '.response.xml'))])).code).toBe(0);
    }
    table.push(`${c.name}\t${c.expect.outcome}${'code' in c.expect ? ' ' + c.expect.code : ''}\t${mine?.outcome} ${journal?.errorCode ?? ''} → ${journal?.archiveName}`);
    // Big generated files are not kept around.
    if (c.file === 'huge-line.xml') await rm(kept);
    expect(await readdir(dir('in'))).toEqual([]);
  });
});
