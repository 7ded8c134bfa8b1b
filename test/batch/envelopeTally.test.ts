// The envelope's tally on the line reader's way (envelope.ts EnvelopeTally, fastReader.ts) may
// vouch for a file's envelope — then the pipeline makes no scan of its own — but only when the
// scan of its own (scanEnvelope, a different parser) finds no fault either. Every file here is
// schema-valid (checked), as the tally is only asked about valid files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvelopeTally, scanEnvelope, type Envelope } from '../../src/batch/envelope.js';
import { readRequestLineBatches } from '../../src/batch/fastReader.js';
import { validateRequestFile } from '../../src/batch/validate.js';
import { generateRequest, requestXml } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-tally-'));
let n = 0;

const seqAttr = (seq: number): string => `seq="${seq}"`;
const at = (target: number, edit: (xml: string, seq: number) => string) => (seq: number, xml: string) => (seq === target ? edit(xml, seq) : undefined);

type Fault = 'none' | 'recordCount' | 'duplicateSeq' | 'seqOrder';

function faultOf(e: Envelope): Fault {
  if (e.recordCount !== e.requestCount) return 'recordCount';
  if (e.duplicateSeq !== undefined) return 'duplicateSeq';
  return e.seqOrder !== undefined ? 'seqOrder' : 'none';
}

/** What, the request, the fault the envelope carries (the scan of its own is asked too). */
const CASES: [string, string, Fault][] = [
  ['plain', generateRequest({ count: 3 }), 'none'],
  ['many lines, one per Request', generateRequest({ count: 20_000, compact: true }), 'none'],
  ['RecordCount off by one', generateRequest({ count: 2_000, recordCount: 1_999 }), 'recordCount'],
  ['RecordCount one too many', generateRequest({ count: 5, recordCount: 6 }), 'recordCount'],
  ['RecordCount with spaces around it', generateRequest({ count: 5, recordCount: '  5 ' }), 'none'],
  ['RecordCount with leading zeros', generateRequest({ count: 5, recordCount: '0005' }), 'none'],
  ['RecordCount with a plus sign', generateRequest({ count: 5, recordCount: '+5' }), 'none'],
  ['RecordCount in CDATA', generateRequest({ count: 5, recordCount: '<![CDATA[5]]>' }), 'none'],
  ['RecordCount cut by a comment', generateRequest({ count: 12, recordCount: '1<!-- x -->2' }), 'none'],
  ['RecordCount as a character reference', generateRequest({ count: 5, recordCount: '&#53;' }), 'none'],
  ['a seq used twice, late in the file', generateRequest({ count: 2_000, request: at(1_900, (x, s) => x.replace(seqAttr(s), seqAttr(7))) }), 'duplicateSeq'],
  ['a seq out of order', generateRequest({ count: 2_000, request: at(1_234, (x, s) => x.replace(seqAttr(s), seqAttr(99_999))) }), 'seqOrder'],
  ['two seqs swapped', generateRequest({ count: 10, request: (s, x) => (s === 4 ? x.replace(seqAttr(4), seqAttr(5)) : s === 5 ? x.replace(seqAttr(5), seqAttr(4)) : undefined) }), 'seqOrder'],
  ['the first seq is 0-based', generateRequest({ count: 3, request: (s, x) => x.replace(seqAttr(s), seqAttr(s + 1)) }), 'seqOrder'],
  ['seq with a plus sign and spaces', generateRequest({ count: 4, request: at(2, (x) => x.replace(seqAttr(2), 'seq=" +2 "')) }), 'none'],
  ['seq with leading zeros', generateRequest({ count: 4, request: at(3, (x) => x.replace(seqAttr(3), 'seq="003"')) }), 'none'],
  ['seq as a character reference', generateRequest({ count: 4, request: at(2, (x) => x.replace(seqAttr(2), 'seq="&#50;"')) }), 'none'],
  ['seq in single quotes, after another attribute', generateRequest({ count: 4, request: at(2, (x) => x.replace(seqAttr(2), `xmlns:q="urn:q" seq='2'`)) }), 'none'],
  [
    'prefixed elements',
    generateRequest({ count: 3, rootOpen: '<l:BatchRequest xmlns:l="urn:ldm-batch:v1">', rootClose: '</l:BatchRequest>', recordCount: '3' })
      .replace(/<(\/?)(?!l:|\?)([A-Za-z])/g, '<$1l:$2'),
    'none',
  ],
  ['CR LF line ends', generateRequest({ count: 30 }).replace(/\n/g, '\r\n'), 'none'],
  ['comments and a processing instruction between Requests', generateRequest({ count: 6, request: at(3, (x) => `<!-- <Request seq="9"/> -->\n<?pi <Request seq="9"> ?>\n${x}`) }), 'none'],
  ['a comment after the Trailer naming another RecordCount', generateRequest({ count: 4 }).replace('</BatchRequest>', '<!-- <Trailer><RecordCount>9</RecordCount></Trailer> -->\n</BatchRequest>'), 'none'],
];

async function tallyOf(path: string): Promise<EnvelopeTally> {
  const tally = new EnvelopeTally();
  for await (const batch of readRequestLineBatches(path, tally)) void batch;
  return tally;
}

describe('EnvelopeTally (the line reader vouches for an envelope, or leaves it to a scan)', () => {
  it.each(CASES)('%s', async (_what, content, fault) => {
    const path = join(tmp, `r${n++}.xml`);
    writeFileSync(path, content);
    expect(await validateRequestFile(path)).toEqual({ ok: true });
    const scanned = await scanEnvelope(path);
    expect(faultOf(scanned)).toBe(fault);
    const vouched = (await tallyOf(path)).sound('', scanned.size);
    if (fault === 'none') {
      // A clean envelope the reader can vouch for: every case here is one.
      expect(vouched).toEqual({ requestCount: scanned.requestCount, recordCount: scanned.recordCount, sha256: '', size: scanned.size });
    } else {
      expect(vouched).toBeUndefined();
    }
  });

  it('vouches for nothing before the reader has seen the whole file', async () => {
    const path = join(tmp, `r${n++}.xml`);
    writeFileSync(path, generateRequest({ count: 50_000, compact: true }));
    const tally = new EnvelopeTally();
    for await (const batch of readRequestLineBatches(path, tally)) {
      void batch;
      break; // stopped after the first read chunk
    }
    expect(tally.requestCount).toBeGreaterThan(0);
    expect(tally.sound('', 0)).toBeUndefined();
  });

  it('agrees with the scan on random seq and RecordCount faults (differential, 300 files)', async () => {
    let seed = 7;
    const rnd = (k: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % k;
    };
    const kinds = { none: 0, recordCount: 0, duplicateSeq: 0, seqOrder: 0 };
    for (let f = 0; f < 300; f++) {
      const count = 1 + rnd(40);
      // plain loops over the lines: each one keeps its seq, or takes another small one
      const seqs = Array.from({ length: count }, (_, i) => (rnd(8) === 0 ? 1 + rnd(count + 2) : i + 1));
      const recordCount = rnd(6) === 0 ? count + rnd(3) - 1 : count;
      const body = seqs.map((s, i) => requestXml(i + 1, true).replace(seqAttr(i + 1), seqAttr(s))).join('\n');
      const content = generateRequest({ count: 0, recordCount }).replace('  <Requests>\n', `  <Requests>\n${body}\n`);
      const path = join(tmp, `rand${f}.xml`);
      writeFileSync(path, content);
      expect(await validateRequestFile(path), `file ${f}`).toEqual({ ok: true });
      const expected: Fault = (() => {
        if (recordCount !== count) return 'recordCount';
        const seen = new Set<number>();
        for (const s of seqs) {
          if (seen.has(s)) return 'duplicateSeq';
          seen.add(s);
        }
        return seqs.every((s, i) => s === i + 1) ? 'none' : 'seqOrder';
      })();
      kinds[expected]++;
      const scanned = await scanEnvelope(path);
      expect(faultOf(scanned), `file ${f}`).toBe(expected);
      const vouched = (await tallyOf(path)).sound('', scanned.size);
      expect(vouched !== undefined, `file ${f}`).toBe(expected === 'none');
    }
    // the generator covered every kind
    for (const k of Object.values(kinds)) expect(k).toBeGreaterThan(10);
  });
});
