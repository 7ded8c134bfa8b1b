// The seq rules of contract §3, differential: random seq sequences (duplicates, gaps, descents and
// their combinations) are written as request files, answered by the compiled CLI (`process`), and
// compared with the small implementation below, which shares no code with src/.
//
// The rule it encodes (README, "Bad input"): a value used twice anywhere in the file is
// DUPLICATE_SEQ, reported at its second occurrence (the first such occurrence in file order);
// otherwise the first Request whose seq is not its position (1-based) is SEQ_ORDER; otherwise the
// file is answered, one Response per Request, seq 1..N.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasTool, makeInstance, run, ROOT, type Instance } from '../helpers/instance.js';

const XMLLINT = '/usr/bin/xmllint';
import * as S from './scenario.js';
import { mulberry32 } from '../principles/oracle.js'; // a seeded PRNG for test data, not rule logic

type Expected = { outcome: 'ANSWERED'; n: number } | { outcome: 'REJECTED'; code: 'DUPLICATE_SEQ' | 'SEQ_ORDER'; index: number };

/** The oracle: plain loops over the seq values, in file order. */
function oracle(seqs: readonly number[]): Expected {
  const seen: number[] = [];
  for (let i = 0; i < seqs.length; i++) {
    for (const v of seen) if (v === seqs[i]) return { outcome: 'REJECTED', code: 'DUPLICATE_SEQ', index: i };
    seen.push(seqs[i]);
  }
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== i + 1) return { outcome: 'REJECTED', code: 'SEQ_ORDER', index: i };
  return { outcome: 'ANSWERED', n: seqs.length };
}

/** 1..n, then a few random edits: swap (descent), replace by an earlier value (duplicate),
 * bump (gap), or a far value. */
function randomSeqs(rand: () => number): number[] {
  const n = 1 + Math.floor(rand() * 6);
  const seqs = Array.from({ length: n }, (_, i) => i + 1);
  const edits = Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(rand() * n);
    const kind = Math.floor(rand() * 4);
    if (kind === 0 && n > 1) {
      const j = Math.floor(rand() * n);
      [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
    } else if (kind === 1) seqs[i] = 1 + Math.floor(rand() * n);
    else if (kind === 2) seqs[i] += 1 + Math.floor(rand() * 2);
    else seqs[i] = 99_999_999 - Math.floor(rand() * 2);
  }
  return seqs;
}

const FIXED: number[][] = [
  [1],
  [1, 2, 3],
  [2], // starts above 1
  [1, 3], // gap
  [3, 2, 1], // descent
  [2, 1], // descent
  [1, 1], // duplicate
  [1, 2, 2],
  [2, 2], // duplicate and out of order: the duplicate wins
  [1, 3, 3], // a gap first, a duplicate later: the duplicate wins
  [1, 3, 2, 3],
  [99_999_999], // the schema's largest seq, but not the first position
  [1, 99_999_999],
];

let inst: Instance;
beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
});
afterAll(async () => inst?.cleanup());

/** The request file, one Request per line; returns the line of each Request's seq attribute. */
async function writeFile_(path: string, fileId: string, seqs: readonly number[]): Promise<{ seqLine: number[] }> {
  const h = S.header({ fileId });
  let text =
    '<?xml version="1.0" encoding="UTF-8"?>\n<BatchRequest xmlns="urn:ldm-batch:v1">\n  <Header>\n' +
    `    <FileId>${h.fileId}</FileId>\n    <Sender><CbeNumber>${h.senderCbe}</CbeNumber></Sender>\n` +
    `    <Service>${h.service}</Service>\n    <LegalContext>${h.legalContext}</LegalContext>\n` +
    `    <Environment>${h.environment}</Environment>\n    <CreatedAt>${h.createdAt}</CreatedAt>\n  </Header>\n  <Requests>\n`;
  const seqLine: number[] = [];
  for (const seq of seqs) {
    seqLine.push(text.split('\n').length);
    text += `    <Request seq="${seq}"><Ssin>${S.A}</Ssin><Role>BENEFICIARY</Role><Period><Year>2025</Year></Period></Request>\n`;
  }
  text += `  </Requests>\n  <Trailer><RecordCount>${seqs.length}</RecordCount></Trailer>\n</BatchRequest>\n`;
  await writeFile(path, text);
  return { seqLine };
}

async function answer(name: string, seqs: readonly number[]): Promise<{ code: number; text: string; seqLine: number[]; stderr: string }> {
  const req = join(inst.dir, `${name}.xml`);
  const out = join(inst.dir, `${name}.response.xml`);
  const { seqLine } = await writeFile_(req, name, seqs);
  const r = await inst.cli(['process', req, '-o', out, '--as-of', S.AS_OF]);
  return { code: r.code, text: await readFile(out, 'utf8').catch(() => ''), seqLine, stderr: r.stderr };
}

function check(seqs: readonly number[], got: Awaited<ReturnType<typeof answer>>): void {
  const want = oracle(seqs);
  const label = `seqs [${seqs.join(',')}]: ${got.stderr}`;
  if (want.outcome === 'ANSWERED') {
    expect(got.code, label).toBe(0);
    const answered = [...got.text.matchAll(/<Response seq="(\d+)">/g)].map((m) => Number(m[1]));
    expect(answered, label).toEqual(Array.from({ length: want.n }, (_, i) => i + 1));
    return;
  }
  expect(got.code, label).toBe(1); // a rejection was written
  expect(/<Rejection code="([A-Z_0-9]+)">/.exec(got.text)?.[1], label).toBe(want.code);
  const error = /<Error ([^>]*)>/.exec(got.text)?.[1] ?? '';
  expect(/\bline="(\d+)"/.exec(error)?.[1], label).toBe(String(got.seqLine[want.index]));
  expect(/\bcolumn="(\d+)"/.exec(error)?.[1], label).toBe(String('    <Request '.length + 1)); // the seq attribute
  expect(got.text, label).toMatch(/<ds:Signature/);
}

describe('seq rules (contract §3), CLI process against an independent implementation', () => {
  it.each(FIXED.map((seqs, i) => [i, seqs] as const))('fixed case %i: [%s]', async (i, seqs) => {
    check(seqs, await answer(`FIXED-${i}`, seqs));
  });

  it('random sequences (seeded) cover every outcome', async () => {
    const rand = mulberry32(14);
    const outcomes = new Set<string>();
    for (let k = 0; k < 24; k++) {
      const seqs = randomSeqs(rand);
      const want = oracle(seqs);
      outcomes.add(want.outcome === 'ANSWERED' ? 'ANSWERED' : want.code);
      check(seqs, await answer(`RANDOM-${k}`, seqs));
    }
    expect([...outcomes].sort()).toEqual(['ANSWERED', 'DUPLICATE_SEQ', 'SEQ_ORDER']);
  });

  it('a SEQ_ORDER rejection passes ldm-batch verify', async () => {
    const got = await answer('VERIFY-SEQ-ORDER', [1, 3]);
    expect(got.text).toMatch(/<Rejection code="SEQ_ORDER">/);
    const v = await inst.cli(['verify', join(inst.dir, 'VERIFY-SEQ-ORDER.response.xml')]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it.skipIf(!hasTool(XMLLINT))(`a SEQ_ORDER rejection validates against the response XSD with xmllint${hasTool(XMLLINT) ? '' : ' (skipped: xmllint not installed)'}`, async () => {
    await answer('XSD-SEQ-ORDER', [2, 1]);
    const x = await run(XMLLINT, ['--noout', '--schema', join(ROOT, 'schemas', 'ldm-batch-response.xsd'), join(inst.dir, 'XSD-SEQ-ORDER.response.xml')]);
    expect(x.code, x.stderr).toBe(0);
  });
});
