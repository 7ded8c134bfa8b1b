// The fast reader of the pipeline gives the same lines as the saxes reader (readRequest) for
// every shape of valid file, however the file is cut into read chunks; and it always ends.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestLine } from '../../src/interfaces.js';
import { readRequest } from './requestSax.js';
import { FastRequestParser, readRequestLines } from '../../src/batch/fastReader.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-fast-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(tmp, `f${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

async function saxesLines(path: string): Promise<RequestLine[]> {
  const out: RequestLine[] = [];
  for await (const line of readRequest(path).lines) out.push(line);
  return out;
}

async function fastLines(path: string): Promise<RequestLine[]> {
  const out: RequestLine[] = [];
  for await (const line of readRequestLines(path)) out.push(line);
  return out;
}

/** The fast parser fed in pieces of the given sizes (cycled), to cut every token somewhere. */
function fedInPieces(bytes: Buffer, sizes: number[]): RequestLine[] {
  const p = new FastRequestParser();
  const out: RequestLine[] = [];
  let k = 0;
  for (let i = 0; i < bytes.length; k++) {
    const size = sizes[k % sizes.length];
    p.feed(bytes.subarray(i, i + size));
    out.push(...p.out.splice(0));
    i += size;
  }
  p.finish();
  out.push(...p.out.splice(0));
  return out;
}

/** Valid files of every shape the schema allows (namespaces, entities, CDATA, comments…). */
const SHAPES: Record<string, string> = {
  pretty: generateRequest({ count: 40 }),
  compact: generateRequest({ count: 40, compact: true }),
  rights: generateRequest({ count: 10, service: 'LivingWages' }),
  crlf: generateRequest({ count: 12 }).replace(/\n/g, '\r\n'),
  'lone CR': generateRequest({ count: 12 }).replace(/\n/g, '\r'),
  'BOM, CRLF': `\uFEFF${generateRequest({ count: 5 }).replace(/\n/g, '\r\n')}`,
  prefixed: generateRequest({
    count: 6,
    rootOpen: '<l:BatchRequest xmlns:l="urn:ldm-batch:v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    rootClose: '</l:BatchRequest>',
  })
    .replace(/<(\/?)(?!l:|\?|!)([A-Za-z])/g, '<$1l:$2')
    .replace(/<l:BatchRequest xmlns:l/, '<l:BatchRequest xmlns:l'),
  'entities, CDATA, comments, PIs': generateRequest({
    count: 8,
    request: (seq, x) => {
      if (seq === 2) {
        return x
          .replace('<Request seq="2">', '<Request\n      data-x="a>b" seq=" 02 "\n    >')
          .replace('<Ssin>', '<Ticket>a &amp; b<![CDATA[<c>&amp;</Request>]]>&#x20AC;<!-- note --> &lt;d&gt;</Ticket><Ssin>');
      }
      if (seq === 3) return x.replace('<Request seq="3">', "<Request seq='&#51;'><!-- <Request seq=\"99\"> --><?pi x?>");
      if (seq === 4) return x.replace(/<Ssin>(\d+)<\/Ssin>/, '<Ssin><!--c-->$1<?p?></Ssin>').replace('<Ticket>', '<Ticket><![CDATA[]]>');
      if (seq === 5) return x.replace(/<From>/g, '<From> ').replace(/<\/To>/g, ' </To>');
      if (seq === 6) return x.replace('<Ssin>', '<Ticket>héllo wörld — 日本 \r\n x</Ticket><Ssin>');
      return undefined;
    },
  }),
  'year with white space in tags': generateRequest({ count: 3, request: (seq, x) => x.replace('<Year>', '<Year >').replace('</Year>', '</Year\n>') }),
  'comments between records': generateRequest({ count: 4, compact: true, request: (seq, x) => `<!-- record ${seq} -->${x}<?after ${seq}?>` }),
};

describe('fast reader', () => {
  for (const [name, xml] of Object.entries(SHAPES)) {
    it(`reads the ${name} file as readRequest does, whatever the read chunks`, async () => {
      const path = file(xml);
      const expected = await saxesLines(path);
      expect(expected.length).toBeGreaterThan(0);
      expect(await fastLines(path)).toEqual(expected);
      const bytes = Buffer.from(xml, 'utf8');
      for (const sizes of [[1], [2, 3], [7], [13, 1, 64], [bytes.length]]) {
        expect(fedInPieces(bytes, sizes)).toEqual(expected);
      }
    });
  }

  it('reads a big file across 1 MiB read chunks with exact line numbers', async () => {
    const path = file(generateRequest({ count: 30_000 }));
    const expected = await saxesLines(path);
    const got = await fastLines(path);
    expect(got.length).toBe(30_000);
    expect(got).toEqual(expected);
  });

  it('ends on anything, and throws at worst (an invalid file is rejected by validation anyway)', async () => {
    const valid = generateRequest({ count: 5 });
    const broken = [
      '',
      'not xml at all',
      valid.slice(0, 700),
      valid.slice(0, -100),
      valid.replace(/<!--|-->/g, '').replace('<Requests>', '<Requests><!-- never closed'),
      valid.replace('<Requests>', '<Requests><![CDATA[ never closed'),
      valid.replace('<Request seq="1">', '<Request seq="1'),
      '<'.repeat(10_000),
      '<a b="'.repeat(1000),
    ];
    for (const text of broken) {
      const path = file(text);
      await fastLines(path).catch(() => undefined); // must settle
      const bytes = Buffer.from(text);
      try {
        fedInPieces(bytes, [3]);
      } catch {
        // an Error is fine
      }
    }
  });
});
