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

  it('reads plain Requests in one go, and every Request that strays from the plain form tag by tag, as readRequest does', async () => {
    // Each variant strays from the plain form in one way (or stays in it: `plain`), between plain lines.
    const variants: [plain: boolean, xml: string][] = [
      [true, '<Request seq="{s}"><Ticket>ref-{s}</Ticket><Ssin>85073003328</Ssin><Role>PARTNER</Role><Period><Year>2025</Year></Period></Request>'],
      [true, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Months><From>2025-01</From><To>2025-06</To></Months></Period></Request>'],
      [true, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Dates><From>2025-01-01</From><To>2025-06-30</To></Dates></Period></Request>'],
      [true, '<Request seq="{s}"><Ticket> a  b > c </Ticket><Ssin>85073003328</Ssin><Period><Year>02025</Year></Period></Request>'],
      [true, '<Request seq="00{s}"><Ticket></Ticket><Ssin>x</Ssin><Role>BENEFICIARY</Role><Period><Months><From>x-1</From><To>2025-13-99</To></Months></Period></Request>'],
      [false, '<Request seq="{s}"><Ticket>a &amp; b</Ticket><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ticket>héllo</Ticket><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ticket>a\tb</Ticket><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin> 85073003328 </Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Role> PARTNER</Role><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Months><From>2025-01 </From><To>2025-06</To></Months></Period></Request>'],
      [false, '<Request seq="{s}" x="1"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request  seq="{s}"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>'],
      [false, "<Request seq='{s}'><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request>"],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period>\n</Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Year>1234567890</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Year> 2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request >'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period ></Request>'],
      [false, '<Request seq="{s}"><Ssin>85073003328</Ssin><!-- c --><Period><Year>2025</Year></Period></Request>'],
      [false, '<Request seq="{s}"><Ssin><![CDATA[85073003328]]></Ssin><Period><Year>2025</Year></Period></Request>'],
      [true, '<Request seq="{s}"><Ssin>85073003328</Ssin><Period><Months><From>2025-01</From><To>2025-06</To></Months></Period></Request><!--x-->'], // plain, then a comment
    ];
    let seq = 0;
    const plainSeq = (): string => `    <Request seq="${++seq}"><Ssin>85073003328</Ssin><Period><Year>2024</Year></Period></Request>`;
    const body: string[] = [];
    let plainCount = 0;
    for (const [plain, xml] of variants) {
      body.push(plainSeq(), `    ${xml.replace(/\{s\}/g, String(++seq))}`);
      plainCount += plain ? 2 : 1;
    }
    body.push(`    ${variants.map(([, xml]) => xml.replace(/\{s\}/g, String(++seq))).join('')}`); // all on one line
    plainCount += variants.filter(([plain]) => plain).length;
    const xml = generateRequest({ count: 0, recordCount: seq }).replace('  <Requests>\n', `  <Requests>\n${body.join('\n')}\n`);
    const path = file(xml);
    const expected = await saxesLines(path);
    expect(expected.length).toBe(3 * variants.length);
    const whole = new FastRequestParser();
    whole.feed(Buffer.from(xml, 'utf8'));
    whole.finish();
    expect(whole.out).toEqual(expected);
    expect(whole.plainLines).toBe(plainCount); // the plain path was taken where it may be, and only there
    expect(await fastLines(path)).toEqual(expected);
    const bytes = Buffer.from(xml, 'utf8');
    for (const sizes of [[1], [5, 3], [17], [64, 1, 200], [333]]) expect(fedInPieces(bytes, sizes)).toEqual(expected);
    // seqs the schema refuses go tag by tag too (the reference reader refuses the file outright)
    for (const [bad, seq] of [['0', NaN], ['1234567890123456', 1234567890123456]] as const) {
      const p = new FastRequestParser();
      p.feed(Buffer.from(xml.replace('<Request seq="1">', `<Request seq="${bad}">`), 'utf8'));
      p.finish();
      expect(p.out[0].seq).toBe(seq);
      expect(p.plainLines).toBe(plainCount - 1);
    }
  });

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
