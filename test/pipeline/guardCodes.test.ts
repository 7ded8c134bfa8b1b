// The memory guard names the true fault, through the compiled CLI (`process`): white space
// between elements is valid and answered, however it is spread (it is not buffered by the guard,
// the envelope check or the line reader); a well-formed file with an over-long value is
// SCHEMA_INVALID, not NOT_WELL_FORMED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import * as S from './scenario.js';
import { MAX_RUN } from '../../src/batch/guard.js';

let inst: Instance;
beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
});
afterAll(async () => inst?.cleanup());

const MiB = 1 << 20;
const line = (seq: number): string => `<Request seq="${seq}"><Ssin>${S.A}</Ssin><Role>BENEFICIARY</Role><Period><Year>2025</Year></Period></Request>`;

/** Writes the parts; a number is that many bytes of white space (spaces and line breaks). */
async function write(path: string, parts: (string | number)[]): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.from(' '.repeat(1023) + '\n');
  for (const p of parts) {
    if (typeof p === 'string') {
      out.write(p);
      continue;
    }
    for (let n = p; n > 0; n -= block.length) if (!out.write(n >= block.length ? block : block.subarray(0, n))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface Gaps {
  /** White space between Header and FileId, between the two Requests, inside the first Request's start tag. */
  header?: number;
  between?: number;
  inTag?: number;
  ticket?: string;
}

function request(fileId: string, gaps: Gaps): (string | number)[] {
  const h = S.header({ fileId });
  const first = gaps.ticket === undefined ? line(1) : line(1).replace('<Ssin>', `<Ticket>${gaps.ticket}</Ticket><Ssin>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n<BatchRequest xmlns="urn:ldm-batch:v1">\n<Header>',
    gaps.header ?? 0,
    `<FileId>${h.fileId}</FileId><Sender><CbeNumber>${h.senderCbe}</CbeNumber></Sender><Service>${h.service}</Service>`,
    `<LegalContext>${h.legalContext}</LegalContext><Environment>${h.environment}</Environment><CreatedAt>${h.createdAt}</CreatedAt></Header>\n<Requests>`,
    '<Request',
    gaps.inTag ?? 0,
    first.slice('<Request'.length),
    gaps.between ?? 0,
    line(2),
    '</Requests>\n<Trailer><RecordCount>2</RecordCount></Trailer>\n</BatchRequest>\n',
  ];
}

async function processParts(name: string, parts: (string | number)[]): Promise<{ code: number; text: string; stderr: string }> {
  const req = join(inst.dir, `${name}.xml`);
  const out = join(inst.dir, `${name}.response.xml`);
  await write(req, parts);
  const r = await inst.cli(['process', req, '-o', out, '--as-of', S.AS_OF]);
  return { code: r.code, text: await readFile(out, 'utf8').catch(() => ''), stderr: r.stderr };
}

describe('white space between elements is answered', () => {
  const cases: [string, Gaps][] = [
    ['1 MiB between two Requests', { between: MiB }],
    ['3 MiB inside a start tag, before its attribute', { inTag: 3 * MiB }],
    ['1 MiB + 1 between two Requests', { between: MiB + 1 }],
    ['1 MiB inside the Header', { header: MiB }],
    ['MAX_RUN (9 MiB) between two Requests', { between: MAX_RUN }],
  ];
  it.each(cases)('%s', async (name, gaps) => {
    const id = `WS-${name.replace(/\W+/g, '-')}`.slice(0, 40);
    const r = await processParts(id, request(id, gaps));
    expect(r.code, r.stderr + r.text.slice(0, 2000)).toBe(0);
    expect([...r.text.matchAll(/<Response seq="(\d+)">/g)].map((m) => m[1])).toEqual(['1', '2']);
  });
});

describe('an over-long value is SCHEMA_INVALID', () => {
  it('a FileId with 3 MiB of white space inside: judged by the schema (its pattern), not refused as over-long', async () => {
    const parts = request('X', {});
    const at = parts.findIndex((p) => typeof p === 'string' && p.startsWith('<FileId>'));
    parts.splice(at, 1, (parts[at] as string).replace('<FileId>X</FileId>', '<FileId>X'), 3 * MiB, (parts[at] as string).replace(/^<FileId>X<\/FileId>/, 'Y</FileId>'));
    const r = await processParts('BLANK-FILEID', parts);
    expect(r.code, r.stderr).toBe(1);
    expect(r.text).toMatch(/<Rejection code="SCHEMA_INVALID">/);
    expect(r.text).toMatch(/FileId/);
    expect(r.text).not.toMatch(/resource limit|no element of the request schema allows/);
  });

  it('a 30 MB Ticket in a well-formed file', async () => {
    const r = await processParts('LONG-TICKET', request('LONG-TICKET', { ticket: 'T'.repeat(30 * MiB) }));
    expect(r.code, r.stderr).toBe(1);
    expect(r.text).toMatch(/<Rejection code="SCHEMA_INVALID">/);
    expect(r.text).toMatch(/no element of the request schema allows/);
    expect(r.text).toMatch(/<ds:Signature/);
  });
});
