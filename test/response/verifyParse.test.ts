// The full check's parsing: a document serialized another way but with the same canonical form
// verifies (the signature covers the canonical form, not the bytes), and a document that is not
// well-formed XML is refused as such - never read leniently and then judged by its digest.
// xmllint and xmlsec1 are the outside check of which is which.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyResponse } from '../../src/response/verify.js';
import { genuineResponse, HAVE_XMLLINT, HAVE_XMLSEC1, LINES, writeFile, xmllint, xmlsec1Verify } from './fixtures.js';

const genuine = genuineResponse('ldm-vparse-');
const path = genuine.path;

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

/** Every start tag with two or more attributes, its attributes in reverse order. */
function reverseAttributes(x: string): string {
  return x.replace(/<([\w:]+)((?: [\w:]+="[^"]*"){2,})(\/?)>/g, (_m, name: string, attrs: string, slash: string) => {
    const list = attrs.match(/ [\w:]+="[^"]*"/g) ?? [];
    return `<${name}${list.reverse().join('')}${slash}>`;
  });
}

const EQUIVALENT: { name: string; edit: (xml: string) => string }[] = [
  { name: 'CRLF line ends', edit: (x) => x.replace(/\n/g, '\r\n') },
  { name: 'CR line ends', edit: (x) => x.replace(/\n/g, '\r') },
  { name: 'attributes in another order', edit: reverseAttributes },
  { name: "single quotes and spaces around '='", edit: (x) => x.replace(/ ([\w:]+)="([^"']*)"/g, " $1 =\t'$2'") },
  { name: 'empty elements self-closed', edit: (x) => x.replace(/<([\w:]+)([^<>]*)><\/\1>/g, '<$1$2/>') },
  { name: 'whitespace before the end of end tags', edit: (x) => x.replace(/<\/([\w:]+)>/g, '</$1 \n>') },
  { name: 'character references in text and attributes', edit: (x) => x.replace(/<Ssin>8/g, '<Ssin>&#56;').replace(/ocmw="0/g, 'ocmw="&#x30;').replace('FIN-', 'F&#x49;N-') },
  { name: 'entity references for characters that need none', edit: (x) => x.replace('FIN-', 'FIN&#45;').replace(/"LEEFLOON"/g, '"LEEF&#x4c;OON"') },
  { name: 'CDATA sections', edit: (x) => x.replace(/<InReplyTo>([^<]*)<\/InReplyTo>/, '<InReplyTo><![CDATA[FIN]]><![CDATA[-]]>$1</InReplyTo>'.replace('$1', '2026-000001')) },
  {
    name: 'comments everywhere, the Signature included',
    edit: (x) =>
      x
        .replace(DECL, `${DECL}<!-- before -->`)
        .replace('<Header>', '<Header><!-- in the header - with a dash -->')
        .replace('<ds:SignedInfo>', '<ds:SignedInfo><!---->')
        .replace('</ds:KeyInfo>', '<!-- k --></ds:KeyInfo>')
        .replace(/\n?$/, '\n<!-- after -->\n'),
  },
  { name: 'a redundant namespace declaration', edit: (x) => x.replace('<Header>', '<Header xmlns="urn:ldm-batch:v1" xmlns:unused="urn:unused">') },
  { name: 'no XML declaration', edit: (x) => x.replace(`${DECL}\n`, '') },
  { name: 'another spelling of the declaration', edit: (x) => x.replace(DECL, "<?xml version='1.0'  encoding='utf-8' standalone='yes' ?>") },
  { name: 'a byte order mark', edit: (x) => `\uFEFF${x}` },
  { name: 'whitespace after the root', edit: (x) => `${x}\n \t\r\n` },
];

describe('an equivalent serialization verifies (same canonical form)', () => {
  const together = EQUIVALENT.filter((e) => e.name !== 'CR line ends'); // CR after CRLF would double the line ends
  for (const v of [...EQUIVALENT, { name: 'all of these at once but CR', edit: (x: string) => together.reduce((acc, e) => e.edit(acc), x) }]) {
    it(v.name, async () => {
      const p = path(`eq-${v.name.replace(/\W+/g, '-')}.xml`);
      const xml = v.edit(genuine.original);
      expect(xml).not.toBe(genuine.original);
      writeFileSync(p, xml);
      const r = await verifyResponse(p);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true, recordCount: 4 });
      expect(await verifyResponse(p, { trustedCertPem: genuine.keys.signer.certificatePem })).toMatchObject({ ok: true, trusted: true });
      if (HAVE_XMLSEC1) expect((await xmlsec1Verify(p, genuine.keys.certPath)).code, 'xmlsec1 agrees').toBe(0);
    });
  }
});

/** Inside the signed content, so a lenient parser would get as far as a digest mismatch. */
const inHeader = (x: string, extra: string): string => x.replace('</Header>', `${extra}</Header>`);

/** ns: a namespace error, which xmllint reports but still exits 0 for. */
const MALFORMED: { name: string; edit: (xml: string) => string; reason?: RegExp; ns?: true }[] = [
  { name: 'a mismatched end tag', edit: (x) => x.replace('</Trailer>', '</Trailr>') },
  { name: 'an unbound element prefix', edit: (x) => inHeader(x, '<x:Note>1</x:Note>'), ns: true },
  { name: 'an unbound attribute prefix', edit: (x) => inHeader(x, '<Note x:a="1">1</Note>'), ns: true },
  { name: 'a duplicate attribute', edit: (x) => inHeader(x, '<Note a="1" a="2">1</Note>') },
  { name: 'a duplicate attribute among many', edit: (x) => inHeader(x, `<Note ${Array.from({ length: 20 }, (_, i) => `a${i}="1"`).join(' ')} a7="2">1</Note>`) },
  { name: 'a duplicate attribute under two prefixes of one namespace', edit: (x) => inHeader(x, '<Note xmlns:p="urn:p" xmlns:q="urn:p" p:a="1" q:a="2">1</Note>'), ns: true },
  { name: 'an undeclared prefix (xmlns:p="")', edit: (x) => inHeader(x, '<Note xmlns:p="">1</Note>'), ns: true },
  { name: 'the xmlns prefix bound', edit: (x) => inHeader(x, '<Note xmlns:xmlns="urn:p">1</Note>'), ns: true },
  { name: 'a < in an attribute value', edit: (x) => inHeader(x, '<Note a="<">1</Note>') },
  { name: 'an unquoted attribute value', edit: (x) => inHeader(x, '<Note a=1>1</Note>') },
  { name: 'attributes without whitespace between them', edit: (x) => inHeader(x, '<Note a="1"b="2">1</Note>') },
  { name: 'an undefined entity', edit: (x) => inHeader(x, '<Note>&nbsp;</Note>') },
  { name: 'a bare ampersand', edit: (x) => inHeader(x, '<Note>a & b</Note>') },
  { name: 'a character reference to NUL', edit: (x) => inHeader(x, '<Note>&#0;</Note>') },
  { name: 'a character reference beyond Unicode', edit: (x) => inHeader(x, '<Note>&#x110000;</Note>') },
  { name: 'a control character', edit: (x) => inHeader(x, '<Note>a\u0001b</Note>') },
  { name: 'U+FFFE', edit: (x) => inHeader(x, '<Note>a\uFFFEb</Note>') },
  { name: ']]> in text', edit: (x) => inHeader(x, '<Note>a]]>b</Note>') },
  { name: '-- inside a comment', edit: (x) => inHeader(x, '<!-- a -- b -->') },
  { name: 'a comment ending in --->', edit: (x) => inHeader(x, '<!-- a --->') },
  { name: 'a processing instruction named xml inside', edit: (x) => inHeader(x, '<?xml version="1.0"?>') },
  { name: 'an unterminated CDATA section', edit: (x) => inHeader(x, '<![CDATA[abc') },
  { name: 'a name starting with a digit', edit: (x) => inHeader(x, '<1Note>1</1Note>') },
  { name: 'text after the root', edit: (x) => `${x}trailing` },
  { name: 'a second root element', edit: (x) => `${x}<BatchResponse xmlns="urn:ldm-batch:v1"/>` },
  { name: 'a truncated file', edit: (x) => x.slice(0, x.length - 10) },
  { name: 'whitespace before the declaration', edit: (x) => ` ${x}` },
  { name: 'a DOCTYPE', edit: (x) => x.replace('<BatchResponse', '<!DOCTYPE BatchResponse>\n<BatchResponse'), reason: /DOCTYPE/ },
  {
    name: 'a DOCTYPE declaring an entity',
    edit: (x) => x.replace('<BatchResponse', '<!DOCTYPE BatchResponse [<!ENTITY e "FIN">]>\n<BatchResponse').replace('>FIN-', '>&e;-'),
    reason: /DOCTYPE/,
  },
];

describe('a document that is not well-formed is refused as such', () => {
  for (const m of MALFORMED) {
    it(m.name, async () => {
      const p = path(`bad-${m.name.replace(/\W+/g, '-')}.xml`);
      writeFileSync(p, m.edit(genuine.original));
      if (HAVE_XMLLINT && m.reason === undefined) {
        const lint = await xmllint(p);
        if (m.ns) expect(lint.output, 'xmllint reports it too').toMatch(/namespace error/i);
        else expect(lint.code, 'xmllint refuses it too').not.toBe(0);
      }
      for (const opts of [{}, { trustedCertPem: genuine.keys.signer.certificatePem }]) {
        const r = await verifyResponse(p, opts);
        expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(m.reason ?? /not well-formed/) });
      }
    });
  }

  it('an XML version other than 1.0 and an encoding other than UTF-8 are refused', async () => {
    for (const [decl, reason] of [
      ['<?xml version="1.1" encoding="UTF-8"?>', /XML version 1.1/],
      ['<?xml version="1.0" encoding="ISO-8859-1"?>', /encoding ISO-8859-1/],
    ] as const) {
      const p = path('decl.xml');
      writeFileSync(p, genuine.original.replace(DECL, decl));
      expect(await verifyResponse(p)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
    }
  });
});
