// The pieces under validation: the byte scanner, the slicer and the error locator.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XmlDocument } from 'libxml2-wasm';
import { describe, expect, it } from 'vitest';
import { locatePaths } from '../../src/batch/locate.js';
import { DEFAULT_SLICE_OPTIONS, mapToFile, sliceFile, type Slice } from '../../src/batch/slices.js';
import { decodeXmlText, XmlByteScanner } from '../../src/batch/xmlScan.js';
import { PARSE_OPTIONS } from '../../src/batch/validate.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-slices-'));
let n = 0;
function file(content: string): string {
  const path = join(tmp, `s${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

interface Seen {
  kind: 'start' | 'end';
  name: string;
  depth: number;
  line: number;
  column: number;
  attrs?: { name: string; value: string; line: number; column: number }[];
  text?: string;
}

function scan(xml: string, chunk = 7): Seen[] {
  const seen: Seen[] = [];
  const s = new XmlByteScanner({
    startName: (sc) => {
      sc.captureAttrs = true;
    },
    startTag: (sc, depth) => {
      seen.push({ kind: 'start', name: sc.name, depth, line: sc.tagLine, column: sc.tagColumn, attrs: sc.attrs.map((a) => ({ ...a })) });
      sc.resetText();
      sc.captureText = true;
    },
    endTag: (sc, depth) => {
      seen.push({ kind: 'end', name: sc.name, depth, line: sc.tagLine, column: sc.tagColumn, text: sc.text() });
      sc.captureText = false;
    },
  });
  const bytes = Buffer.from(xml);
  for (let i = 0; i < bytes.length; i += chunk) s.feed(bytes.subarray(i, i + chunk)); // tokens cut anywhere
  return seen;
}

describe('XmlByteScanner', () => {
  it('finds tags, depths, positions, attributes and text, whatever the chunking', () => {
    const xml = [
      '<?xml version="1.0"?><!-- <fake> -- -->',
      '<r a="x>y" b=\'1\'>',
      '  <é:b c = "&amp;"/><?pi <no>?>',
      '  <d>t<![CDATA[<x>]]]]><![CDATA[>]]>&lt;</d>',
      '</r>',
    ].join('\n');
    const seen = scan(xml);
    expect(seen.map((e) => `${e.kind} ${e.name} ${e.depth} ${e.line}:${e.column}`)).toEqual([
      'start r 0 2:1',
      'start é:b 1 3:3',
      'end é:b 1 3:3',
      'start d 1 4:3',
      'end d 1 4:41',
      'end r 0 5:1',
    ]);
    expect(seen[0].attrs).toEqual([
      { name: 'a', value: 'x>y', line: 2, column: 4 },
      { name: 'b', value: '1', line: 2, column: 12 },
    ]);
    expect(seen[1].attrs).toEqual([{ name: 'c', value: '&amp;', line: 3, column: 8 }]);
    expect(seen[4].text).toBe('t<x>]]>&lt;');
    for (const chunk of [1, 2, 3, 1000]) expect(scan(xml, chunk)).toEqual(seen);
  });

  it('counts columns in characters and lines at LF only, as libxml2 does', () => {
    const seen = scan('<r>\r\n é😀<a/>\r<b/></r>');
    expect(seen.filter((e) => e.kind === 'start').map((e) => `${e.name} ${e.line}:${e.column}`)).toEqual(['r 1:1', 'a 2:4', 'b 2:9']);
  });

  it('decodes predefined entities and character references', () => {
    expect(decodeXmlText('a &amp; b &lt;&gt;&quot;&apos; &#65;&#x20AC; &unknown; \r\n')).toBe('a & b <>"\' A€ &unknown; \n');
  });
});

describe('sliceFile', () => {
  async function slices(path: string, opts: Partial<typeof DEFAULT_SLICE_OPTIONS>): Promise<Slice[]> {
    const out: Slice[] = [];
    for await (const s of sliceFile(path, { ...DEFAULT_SLICE_OPTIONS, container: 'Requests', readChunk: 64, ...opts })) out.push(s);
    return out;
  }

  it('cuts between records: every slice is a well-formed document, and together they are the file', async () => {
    const xml = generateRequest({ count: 25 });
    const all = await slices(file(xml), { maxRecords: 2 });
    expect(all).toHaveLength(13);
    const prefix = xml.slice(0, xml.indexOf('<Requests>') + '<Requests>'.length);
    const tail = '</Requests><Trailer xmlns="urn:ldm-batch:v1"><RecordCount>0</RecordCount></Trailer></BatchRequest>';
    let rebuilt = prefix;
    for (const [i, s] of all.entries()) {
      const text = s.bytes.toString();
      expect(text.startsWith(prefix)).toBe(true);
      const last = i === all.length - 1;
      if (!last) expect(text.endsWith(tail)).toBe(true);
      rebuilt += text.slice(prefix.length, last ? undefined : -tail.length);
      XmlDocument.fromBuffer(s.bytes, { option: PARSE_OPTIONS }).dispose();
      expect((text.match(/<Request /g) ?? []).length).toBe(last ? 1 : 2);
    }
    expect(rebuilt).toBe(xml);
  });

  it('maps slice positions back to the file', async () => {
    const xml = generateRequest({ count: 9 });
    const all = await slices(file(xml), { maxRecords: 4 });
    expect(all).toHaveLength(3);
    const second = all[1];
    // the first record of the second slice: Request 5, line 32 of the file, line 12 of the slice
    expect(second.bytes.toString().split('\n')[11]).toBe('    <Request seq="5">');
    expect(mapToFile(second.map, 12, 5)).toEqual({ line: 32, column: 5, region: 'records' });
    expect(mapToFile(second.map, 4, 5)).toEqual({ line: 4, column: 5, region: 'prefix' });
    const tailLine = second.bytes.toString().split('\n').length;
    expect(mapToFile(second.map, tailLine, 20)).toBeNull(); // the synthetic end
    expect(all[2].map.docEnd).toBeNull();
  });

  it('keeps a file whole when it has no Requests, or the prefix is too large', async () => {
    const noContainer = generateRequest({ count: 5 }).replace(/<\/?Requests>/g, '');
    expect(await slices(file(noContainer), { maxRecords: 1 })).toHaveLength(1);
    const xml = generateRequest({ count: 5 });
    const whole = await slices(file(xml), { maxRecords: 1, maxPrefixBytes: 100 });
    expect(whole).toHaveLength(1);
    expect(whole[0].bytes.toString()).toBe(xml);
  });

  it('never leaves the last slice without a record', async () => {
    const all = await slices(file(generateRequest({ count: 4 })), { maxRecords: 2 });
    expect(all.map((s) => (s.bytes.toString().match(/<Request /g) ?? []).length)).toEqual([2, 2]);
  });

  it('reads a real file with 1 MiB chunks', async () => {
    const path = file(generateRequest({ count: 30_000 }));
    const all = [];
    for await (const s of sliceFile(path, { ...DEFAULT_SLICE_OPTIONS, container: 'Requests' })) all.push(s.bytes.length);
    expect(all.length).toBe(8);
    expect(readFileSync(path).length).toBeLessThan(all.reduce((a, b) => a + b, 0));
  });
});

describe('locatePaths', () => {
  it('resolves libxml2 node paths to start tags and attributes', () => {
    const doc = Buffer.from(
      ['<r xmlns="u" xmlns:p="v">', '  <a/><b x="1"/>', '  <p:c/><p:c y="2"><d/></p:c>', '  <e xmlns=""><f/><f/></e>', '</r>'].join('\n'),
    );
    const found = locatePaths(doc, ['/*', '/*/*[2]', '/*/*[2]/@x', '/*/p:c[2]', '/*/p:c[2]/@y', '/*/p:c[2]/*', '/*/e/f[2]', '/*/*[9]', 'garbage']);
    expect(Object.fromEntries(found)).toEqual({
      '/*': { line: 1, column: 1 },
      '/*/*[2]': { line: 2, column: 7 },
      '/*/*[2]/@x': { line: 2, column: 10 },
      '/*/p:c[2]': { line: 3, column: 9 },
      '/*/p:c[2]/@y': { line: 3, column: 14 },
      '/*/p:c[2]/*': { line: 3, column: 20 },
      '/*/e/f[2]': { line: 4, column: 19 },
    });
  });
});

describe('byte order mark', () => {
  it('is no column, as for libxml2', () => {
    const seen = scan('\uFEFF<r><a/></r>', 1);
    expect(seen.filter((e) => e.kind === 'start').map((e) => `${e.name} ${e.line}:${e.column}`)).toEqual(['r 1:1', 'a 1:4']);
  });
});
