// The verifier's own XML reader (src/response/xmlReader.ts): it must agree with libxml2 on what
// is well-formed, and its canonical digest must not depend on where reads cut the document.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseLine } from '../../src/interfaces.js';
import { digestOfPieces } from '../../src/response/verify.js';
import { ReaderError, XmlReader } from '../../src/response/xmlReader.js';
import { removeTestKeys, testKeys } from '../helpers/keys.js';
import { HAVE_XMLLINT, LINES, NO_XMLLINT, XMLLINT, writeFile } from './fixtures.js';

let dir: string;
let tricky: Buffer;

/** A prng with a seed, so a failure can be replayed. */
function prng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-xmlreader-'));
  const keys = await testKeys();
  const lines: ResponseLine[] = [...LINES, { seq: 9, ticket: `a&b<c>d"e'f\rg\th\ni]]>j é€𝄞`, ssin: '85073003328', status: 'MSG00100' }];
  await writeFile(join(dir, 'genuine.xml'), lines, keys.signer);
  // the same document written otherwise: CRLF, comments, a PI, CDATA, references, quotes, self-closing tags
  const xml = readFileSync(join(dir, 'genuine.xml'), 'utf8')
    .replace(/\n/g, '\r\n')
    .replace('<Header>', '<Header><!-- a comment - with a dash -->')
    .replace(/<InReplyTo>FIN-/, '<InReplyTo><![CDATA[F]]>&#x49;N-')
    .replace(/ ocmw="0/g, " ocmw = '&#48;")
    .replace(/(ocmw = '[^"']*)"/g, "$1'")
    .replace(/<([\w:]+)([^<>]*)><\/\1>/g, '<$1$2 />');
  tricky = Buffer.from(xml, 'utf8');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

describe('the digest does not depend on where the document is cut', () => {
  it('the document is an equivalent of the genuine one (same digest)', async () => {
    const genuine = await digestOfPieces([readFileSync(join(dir, 'genuine.xml'))]);
    expect(genuine).toMatch(/^[0-9a-f]{64}$/);
    expect(await digestOfPieces([tricky])).toBe(genuine);
  });

  it('cut in two at every byte', async () => {
    const whole = await digestOfPieces([tricky]);
    for (let k = 0; k <= tricky.length; k++) {
      const d = await digestOfPieces([tricky.subarray(0, k), tricky.subarray(k)]);
      if (d !== whole) expect(`cut at ${k}: ${d}`).toBe(whole);
    }
  });

  it('one byte at a time, and in random pieces', async () => {
    const whole = await digestOfPieces([tricky]);
    const bytes = Array.from({ length: tricky.length }, (_, i) => tricky.subarray(i, i + 1));
    expect(await digestOfPieces(bytes)).toBe(whole);
    const r = prng(7);
    for (let n = 0; n < 100; n++) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < tricky.length; ) {
        const len = 1 + r(300);
        pieces.push(tricky.subarray(at, at + len));
        at += len;
      }
      expect(await digestOfPieces(pieces)).toBe(whole);
    }
  });

  it('a text node longer than a read is read in parts; one markup token over 16 MiB is refused', async () => {
    const src = readFileSync(join(dir, 'genuine.xml'), 'utf8');
    const inPieces = (s: string, size: number): Buffer[] => {
      const b = Buffer.from(s, 'utf8');
      const out: Buffer[] = [];
      for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
      return out;
    };
    const long = src.replace('</Header>', `<Note>${'x&amp;y]]&gt;é'.repeat(300_000)}</Note></Header>`);
    const whole = await digestOfPieces([Buffer.from(long, 'utf8')]);
    expect(whole).toMatch(/^[0-9a-f]{64}$/);
    expect(await digestOfPieces(inPieces(long, 65_537))).toBe(whole);
    const huge = src.replace('</Header>', `<!--${'x'.repeat(17 << 20)}--></Header>`);
    expect(await digestOfPieces(inPieces(huge, 1 << 20))).toMatch(/^refused: not well-formed XML: a single markup token is larger than 16 MiB/);
  });

  it('a tag is hashed as written only when that is its canonical form (a declaration among plain attributes is not)', async () => {
    const src = readFileSync(join(dir, 'genuine.xml'), 'utf8');
    const digest = async (note: string): Promise<string> => digestOfPieces([Buffer.from(src.replace('</Header>', `${note}</Header>`), 'utf8')]);
    const declared = await digest('<Note xmlns="urn:other" a="1" b="2">x</Note>');
    expect(await digest('<Note a="1" b="2" xmlns="urn:other">x</Note>')).toBe(declared);
    expect(await digest('<Note a="1" xmlns="urn:other" b="2">x</Note>')).toBe(declared);
    expect(await digest("<Note b='2' a='1' xmlns='urn:other'>x</Note>")).toBe(declared);
    expect(await digest('<Note a="1" b="2">x</Note>')).not.toBe(declared);
    // ... and the same for a prefix: declared where it is first used, whatever the order written
    const prefixed = await digest('<Note xmlns:p="urn:p" a="1" p:b="2">x</Note>');
    expect(await digest('<Note a="1" p:b="2" xmlns:p="urn:p">x</Note>')).toBe(prefixed);
    expect(await digest('<Note xmlns:p="urn:p" xmlns:q="urn:unused" a="1" p:b="2">x</Note>')).toBe(prefixed);
  });

  it('a DOCTYPE inside the root is refused too', async () => {
    const src = readFileSync(join(dir, 'genuine.xml'), 'utf8');
    expect(await digestOfPieces([Buffer.from(src.replace('</Header>', '<!DOCTYPE x></Header>'))])).toMatch(/^refused: a DOCTYPE is not allowed/);
  });

  it('malformed input is refused wherever it is cut', async () => {
    const src = readFileSync(join(dir, 'genuine.xml'), 'utf8');
    for (const bad of ['a]]>b', '&#0;', '<!-- a -- b -->', '&nbsp;', '\u0001', '<x:y/>', '<a b="1" b="2"/>']) {
      const doc = Buffer.from(src.replace('</Header>', `<Note>${bad}</Note></Header>`), 'utf8');
      const at = doc.indexOf('<Note>');
      for (let k = at; k <= at + 30; k++) {
        expect(await digestOfPieces([doc.subarray(0, k), doc.subarray(k)]), `${bad} cut at ${k - at}`).toMatch(/^refused: not well-formed XML/);
      }
    }
  });
});

/** Our reader's verdict: well-formed or not (with the verifier's refusal of other encodings); read in two pieces cut at `cut`. */
function ours(doc: string, cut: number): boolean {
  const r = new XmlReader({
    start() {},
    end() {},
    text() {},
    pi() {},
    decl(d) {
      if (d.encoding !== undefined && !/^utf-?8$/i.test(d.encoding)) throw new ReaderError('another encoding');
    },
    doctype() {
      throw new ReaderError('a DOCTYPE');
    },
  });
  try {
    r.write(doc.slice(0, cut));
    r.write(doc.slice(cut), true);
    return true;
  } catch (err) {
    if (err instanceof ReaderError) return false;
    throw err;
  }
}

/** libxml2's verdict; namespace errors count (xmllint reports them but exits 0), a namespace name that is not a URI does not (saxes and the Namespaces spec's grammar allow it). */
function theirs(path: string): boolean {
  const r = spawnSync(XMLLINT, ['--noout', '--nonet', path], { encoding: 'utf8' });
  const nsErrors = r.stderr.split('\n').filter((l) => /namespace error/.test(l) && !/is not a valid URI/.test(l));
  return r.status === 0 && nsErrors.length === 0;
}

const SEEDS = [
  `<?xml version="1.0" encoding="UTF-8"?>
<!-- c --><?pi body?>
<R xmlns="urn:r" xmlns:p="urn:p" a="1" p:b='2'>
  <H>t&amp;&#x41;&#66;<![CDATA[<x>]]></H>
  <p:E z="&lt;&#9;" y="v"/><e k="1" l="2">x</e >
</R>
<?after?>
`,
  `<?xml version="1.0"?>\r\n<a:R xmlns:a="urn:a" xml:lang="en"><b xmlns="urn:b" c='&quot;&apos;&gt;&#x10000;'>𝄞é<!--x-y--><?t  b ?>]] ></b><c xmlns="">&#13;</c><!---->\r</a:R>`,
];
const CHARS = ['<', '>', '&', ';', '"', "'", '=', '/', '!', '?', '-', ']', '[', ':', ' ', 'a', '\u0001', '#', 'x', '\n', 'p', '1', 'é', '\r', '\t', 'm', 'l', '\uFFFE', '.', 'X'];

describe.skipIf(!HAVE_XMLLINT)(`the reader agrees with xmllint on well-formedness${HAVE_XMLLINT ? '' : ` (skipped: ${NO_XMLLINT})`}`, () => {
  it('on the seed documents and 600 seeded mutations of them', () => {
    const r = prng(20261130);
    const code = (s: string): string[] => Array.from(s); // whole code points: never a lone surrogate
    const disagreements: string[] = [];
    let refused = 0;
    for (let n = 0; n < 602; n++) {
      let doc = code(SEEDS[n % SEEDS.length] as string);
      if (n >= SEEDS.length) {
        for (let m = 1 + r(3); m > 0; m--) {
          const i = r(doc.length);
          const k = r(4);
          if (k === 0) doc.splice(i, 1);
          else if (k === 1) doc.splice(i, 0, CHARS[r(CHARS.length)] as string);
          else if (k === 2) doc.splice(i, 0, ...doc.slice(r(doc.length)).slice(0, 1 + r(8)));
          else doc[i] = CHARS[r(CHARS.length)] as string;
        }
      }
      const text = doc.join('');
      if (/^<\?xml version="(?!1\.0")/.test(text)) continue; // libxml2 takes 1.x and "1."; the verifier only 1.0
      const p = join(dir, 'fuzz.xml');
      writeFileSync(p, text);
      let cut = r(text.length + 1);
      if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut--; // a decoder never cuts a surrogate pair
      const a = ours(text, cut);
      if (!a) refused++;
      if (a !== theirs(p)) disagreements.push(`ours ${a ? 'accepts' : 'refuses'}: ${JSON.stringify(text)}`);
    }
    expect(disagreements).toEqual([]);
    expect(refused).toBeGreaterThan(200); // the mutations did reach the error paths
  });
});
