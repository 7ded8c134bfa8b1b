// The local spool through `run-once`: pickup, atomic delivery, archive/error, the journal,
// re-delivery of an identical file, FILEID_REUSED, reprocess.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile, mkdir, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from './scenario.js';

let inst: Instance;
const folder = (f: string): string => join(inst.spool, 'fin', f);

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
  await mkdir(folder('in'), { recursive: true });
});
afterAll(async () => inst?.cleanup());

describe('run-once on the local spool', () => {
  it('answers a request: response in out/, request in archive/, journal DONE; ignores .part and dot-files', async () => {
    await writeRequestFile(join(folder('in'), 'R1.xml'), S.header({ fileId: 'FIN-R1' }), S.lines);
    await writeFile(join(folder('in'), 'R9.xml.part'), 'half an upload');
    await writeFile(join(folder('in'), '.hidden.xml'), 'not for us');
    const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files).toEqual([expect.objectContaining({ client: 'fin', file: 'R1.xml', outcome: 'ANSWERED', response: 'fin/out/R1.response.xml' })]);
    expect(existsSync(join(folder('out'), 'R1.response.xml'))).toBe(true);
    expect(existsSync(join(folder('archive'), 'R1.xml'))).toBe(true);
    expect(await readdir(folder('in'))).toEqual(['.hidden.xml', 'R9.xml.part']);
    expect((await readdir(folder('out'))).filter((n) => n.startsWith('.') || n.endsWith('.part'))).toEqual([]);
    const list = JSON.parse((await inst.cli(['batches', 'list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ clientId: 'fin', fileName: 'R1.xml', fileId: 'FIN-R1', state: 'DONE', recordCount: S.lines.length, referenceDate: S.AS_OF });
    const show = JSON.parse((await inst.cli(['batches', 'show', 'FIN-R1', '--json'])).stdout);
    expect(show.statusCounts.MSG00000).toBe(4);
  });

  it('re-delivers the original response for a byte-identical file with the same FileId', async () => {
    const original = await readFile(join(folder('archive'), 'R1.xml'));
    await writeFile(join(folder('in'), 'R1-again.xml'), original);
    const r = await inst.cli(['run-once', '--as-of', '2026-03-01', '--json']);
    expect(JSON.parse(r.stdout).files[0].outcome).toBe('REDELIVERED');
    const a = await readFile(join(folder('out'), 'R1.response.xml'));
    const b = await readFile(join(folder('out'), 'R1-again.response.xml'));
    expect(b.equals(a)).toBe(true);
  });

  it('rejects the same FileId with different content (FILEID_REUSED) and moves the request to error/', async () => {
    await writeRequestFile(join(folder('in'), 'R2.xml'), S.header({ fileId: 'FIN-R1' }), S.lines.slice(0, 2));
    const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).files[0].outcome).toBe('REJECTED');
    expect(await readFile(join(folder('out'), 'R2.response.xml'), 'utf8')).toContain('<Rejection code="FILEID_REUSED">');
    expect(existsSync(join(folder('error'), 'R2.xml'))).toBe(true);
  });

  it('never replaces a response still waiting in out/, and reprocess delivers a new one once it is picked up', async () => {
    const out = join(folder('out'), 'R1.response.xml');
    const refused = await inst.cli(['reprocess', 'FIN-R1', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/still waiting/);
    await unlink(out);
    const r = await inst.cli(['reprocess', 'FIN-R1', '--as-of', '2026-03-01', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'ANSWERED', referenceDate: '2026-03-01' });
    expect(await readFile(out, 'utf8')).toContain('<ReferenceDate>2026-03-01</ReferenceDate>');
  });
});
