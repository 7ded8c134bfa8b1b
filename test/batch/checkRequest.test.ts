// The background check of a request (validation + envelope) scans the file once: the envelope
// check rides on the validation's slicer (validate.ts checkGuardedRequestFile). Its envelope must be
// what a scan of its own gives (envelope.ts scanEnvelope), on files of one slice and of many, and
// for each envelope fault a valid file can carry.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGuardedRequestFile } from '../../src/batch/validate.js';
import { scanEnvelope } from '../../src/batch/envelope.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-check-'));
let n = 0;

const seqAttr = (seq: number): string => `seq="${seq}"`;

type Fault = 'none' | 'recordCount' | 'duplicateSeq' | 'seqOrder';

/** What, the request (every one of them schema-valid), the envelope fault it carries. */
const CASES: [string, string, Fault][] = [
  ['valid, one slice', generateRequest({ count: 3 }), 'none'],
  ['valid, many slices', generateRequest({ count: 30_000 }), 'none'],
  ['RecordCount off', generateRequest({ count: 20_000, recordCount: 19_999 }), 'recordCount'],
  ['RecordCount with spaces around it', generateRequest({ count: 5, recordCount: '  5 ' }), 'none'],
  ['a seq used twice, late in the file', generateRequest({ count: 20_000, request: (seq, xml) => (seq === 19_000 ? xml.replace(seqAttr(seq), seqAttr(7)) : xml) }), 'duplicateSeq'],
  ['a seq out of order', generateRequest({ count: 20_000, request: (seq, xml) => (seq === 12_345 ? xml.replace(seqAttr(seq), seqAttr(99_999)) : xml) }), 'seqOrder'],
  ['seq with a plus sign and spaces', generateRequest({ count: 4, request: (seq, xml) => (seq === 2 ? xml.replace(seqAttr(seq), 'seq=" +2 "') : xml) }), 'none'],
];

function faultOf(e: { recordCount?: number; requestCount: number; duplicateSeq?: unknown; seqOrder?: unknown }): Fault {
  if (e.recordCount !== e.requestCount) return 'recordCount';
  if (e.duplicateSeq !== undefined) return 'duplicateSeq';
  return e.seqOrder !== undefined ? 'seqOrder' : 'none';
}

describe('checkGuardedRequestFile', () => {
  it.each(CASES)('%s: the envelope of the shared scan is the one of a scan of its own', async (_what, content, fault) => {
    const path = join(tmp, `r${n++}.xml`);
    writeFileSync(path, content);
    // small slices and reads: the big files are cut into many slices, and read 4 KiB at a time
    const checked = await checkGuardedRequestFile(path, { maxRecords: 500, readChunk: 4096 });
    expect(checked.validation).toEqual({ ok: true });
    expect(checked.envelope).toEqual(await scanEnvelope(path));
    expect(faultOf(checked.envelope as NonNullable<typeof checked.envelope>)).toBe(fault);
  });

  it('gives no envelope for an invalid file', async () => {
    const path = join(tmp, `r${n++}.xml`);
    writeFileSync(path, generateRequest({ count: 3, request: (seq, xml) => (seq === 2 ? xml.replace('<Ssin>', '<Extra/><Ssin>') : xml) }));
    const checked = await checkGuardedRequestFile(path);
    expect(checked.validation.ok).toBe(false);
    expect(checked.envelope).toBeUndefined();
  });
});
