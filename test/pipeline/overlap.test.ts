// A big request is validated in a worker thread while it is being answered; the response is
// published only once the file proved valid. Through the compiled CLI, with files above the
// worker threshold: a valid file is answered as a small one is, and an invalid one gets the same
// rejection as when validating first — no response lines, no audit entries, no temporary file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { getPriority } from 'node:os';
import { ROOT, makeInstance, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { WORKER_MIN_BYTES } from '../../src/batch/validateInBackground.js';
import { countAuditLines } from '../../src/audit/query.js';
import { openDatabase } from '../../src/store/db.js';
import * as S from './scenario.js';

let inst: Instance;
const REPEAT = 3_000; // × the scenario's lines: a file above the worker threshold

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
});
afterAll(async () => inst?.cleanup());

async function bigRequest(name: string, edit?: (xml: string) => string): Promise<string> {
  const path = join(inst.dir, name);
  const lines = Array.from({ length: REPEAT }, () => S.lines).flat();
  await writeRequestFile(path, S.header({ fileId: name.replace(/\.xml$/, '') }), lines);
  if (edit) await writeFile(path, edit(await readFile(path, 'utf8')));
  expect((await stat(path)).size).toBeGreaterThan(WORKER_MIN_BYTES);
  return path;
}

async function processJson(path: string): Promise<{ code: number; json: { batch: number; outcome: string; recordCount: number; statusCounts: Record<string, number>; rejection?: { code: string; errors: { line: number; column: number; message: string }[] } }; out: string }> {
  const out = path.replace(/\.xml$/, '.response.xml');
  const r = await inst.cli(['process', path, '-o', out, '--as-of', S.AS_OF, '--json']);
  expect(r.stdout, r.stderr).not.toBe('');
  return { code: r.code, json: JSON.parse(r.stdout), out };
}

async function auditRows(batchId: number): Promise<number> {
  const db = await openDatabase({ client: 'sqlite', filename: join(inst.dir, 'data', 'ldm-batch.sqlite') });
  try {
    return await countAuditLines(db, batchId);
  } finally {
    await db.destroy();
  }
}

describe('validation overlapped with answering', () => {
  it('answers a big valid file line for line as the small one, with every audit entry', async () => {
    const small = join(inst.dir, 'small.xml');
    await writeRequestFile(small, S.header({ fileId: 'SMALL' }), S.lines);
    const one = await processJson(small);
    const big = await processJson(await bigRequest('big-valid.xml'));
    expect(big.code).toBe(0);
    expect(big.json.outcome).toBe('ANSWERED');
    expect(big.json.recordCount).toBe(REPEAT * S.lines.length);
    for (const [code, n] of Object.entries(one.json.statusCounts)) expect(big.json.statusCounts[code]).toBe(n * REPEAT);
    // the same answers: the first lines of the big response are the small response's lines
    const body = (text: string): string => text.slice(text.indexOf('<Responses>'), text.indexOf('</Responses>'));
    const smallBody = body(await readFile(one.out, 'utf8'));
    expect(body(await readFile(big.out, 'utf8')).startsWith(smallBody.slice(0, smallBody.lastIndexOf('</Response>')))).toBe(true);
    const valid = S.lines.filter((l) => l.expect !== 'MSG00011').length;
    expect(await auditRows(big.json.batch)).toBe(valid * REPEAT);
    const v = await inst.cli(['verify', big.out]);
    expect(v.code, v.stdout).toBe(0);
    // The journal holds the file's own SHA-256.
    const db = await openDatabase({ client: 'sqlite', filename: join(inst.dir, 'data', 'ldm-batch.sqlite') });
    try {
      const row = (await db('batches').where('id', big.json.batch).first()) as { response_sha256: string };
      expect(row.response_sha256).toBe(createHash('sha256').update(await readFile(big.out)).digest('hex'));
    } finally {
      await db.destroy();
    }
  });

  it('gives the same response whichever libxml2 validator decided, and says which one did', async () => {
    const path = await bigRequest('big-engines.xml');
    const env = { LDM_BATCH_CLOCK: '2026-03-15T04:00:00Z' };
    const digests: string[] = [];
    for (const [xmllint, engine] of [[undefined, 'libxml2-stream'], ['off', 'libxml2-wasm']] as const) {
      const out = join(inst.dir, `big-engines-${engine}.response.xml`);
      const r = await inst.cli(['process', path, '-o', out, '--as-of', S.AS_OF, '--json'], { env: xmllint ? { ...env, LDM_BATCH_XMLLINT: xmllint } : env });
      expect(r.code, r.stderr).toBe(0);
      // nothing but our own lines on stderr (the response's worker once made Node warn about its descriptor)
      expect(r.stderr).not.toMatch(/Warning|trace-warnings/);
      const json = JSON.parse(r.stdout) as { validator?: string; validatorNote?: string; outcome: string };
      expect(json.outcome).toBe('ANSWERED');
      expect(json.validator).toBe(engine);
      if (xmllint) {
        expect(json.validatorNote).toMatch(/LDM_BATCH_XMLLINT=off/);
        expect(r.stderr).toMatch(/validated by libxml2-wasm alone/);
      } else {
        expect(json.validatorNote).toBeUndefined();
      }
      const text = await readFile(out, 'utf8');
      digests.push(createHash('sha256').update(text.slice(text.indexOf('<Responses>'), text.indexOf('</Responses>'))).digest('hex'));
    }
    expect(digests[1]).toBe(digests[0]);
  });

  const invalid: { name: string; code: string; edit: (xml: string) => string }[] = [
    {
      name: 'schema error on the last line',
      code: 'SCHEMA_INVALID',
      edit: (xml) => {
        const at = xml.lastIndexOf('<Ssin>');
        return `${xml.slice(0, at)}<Ssin>123${xml.slice(xml.indexOf('</Ssin>', at))}`;
      },
    },
    { name: 'cut off', code: 'NOT_WELL_FORMED', edit: (xml) => xml.slice(0, xml.length - 300) },
    { name: 'an unknown element in the middle', code: 'SCHEMA_INVALID', edit: (xml) => xml.replace('<Request seq="15000">', '<Request seq="15000"><Extra/>') },
  ];

  it.each(invalid)('rejects a big file ($name) as when validating first: $code', async (c) => {
    const path = await bigRequest(`big-${c.code}-${c.name.replace(/\W+/g, '-')}.xml`, c.edit);
    const r = await processJson(path);
    expect(r.code).toBe(1);
    expect(r.json.outcome).toBe('REJECTED');
    expect(r.json.rejection?.code).toBe(c.code);
    expect(r.json.recordCount).toBe(0);
    expect(r.json.rejection?.errors[0].line).toBeGreaterThan(1);
    const text = await readFile(r.out, 'utf8');
    expect(text).toContain(`<Rejection code="${c.code}">`);
    expect(text).not.toContain('<Responses>');
    expect(await auditRows(r.json.batch)).toBe(0);
    expect((await readdir(inst.dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
    const v = await inst.cli(['verify', r.out]);
    expect(v.code, v.stdout).toBe(0);
  });

  it('names the same error as a validation of the file alone', async () => {
    const path = await bigRequest('big-same-error.xml', invalid[0].edit);
    const { validateRequestFile } = await import('../../src/batch/validate.js');
    const alone = await validateRequestFile(path);
    const r = await processJson(path);
    expect(alone.ok).toBe(false);
    if (!alone.ok) expect(r.json.rejection?.errors).toEqual(alone.errors);
  });

  it('validates with libxml2-wasm in a worker thread at a lower priority (without xmllint), and leaves the calling thread at its own', async () => {
    const path = await bigRequest('big-priority.xml');
    // The compiled module: from TypeScript sources the worker cannot start (validateInBackground.ts).
    const { startRequestValidation } = (await import(join(ROOT, 'dist', 'batch', 'validateInBackground.js'))) as typeof import('../../src/batch/validateInBackground.js');
    const before = getPriority(0);
    const running = startRequestValidation(path, (await stat(path)).size, { LDM_BATCH_XMLLINT: 'off' });
    expect(await running.result).toEqual({ ok: true });
    expect(running.engine()).toBe('libxml2-wasm');
    // Linux only: elsewhere setpriority would apply to the whole process (validateWorkerMain.ts).
    expect(running.nice()).toBe(process.platform === 'linux' ? Math.max(before, 10) : before);
    expect(getPriority(0)).toBe(before);
  });
});
