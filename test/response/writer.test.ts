import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SaxesParser } from 'saxes';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseLine } from '../../src/interfaces.js';
import { verifyResponse } from '../../src/response/verify.js';
import { writeResponse } from '../../src/response/writer.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import {
  HAVE_XMLLINT,
  HAVE_XMLSEC1,
  HEADER,
  LINES,
  NO_XMLLINT,
  NO_XMLSEC1,
  REJECTION,
  writeFile,
  xmlCryptoVerify,
  xmllint,
  xmlsec1Verify,
} from './fixtures.js';

let dir: string;
let keys: TestKeys;
let other: TestKeys;
let dataFile: string;
let rejectionFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-resp-'));
  [keys, other] = await Promise.all([testKeys(), testKeys('other')]);
  dataFile = join(dir, 'data.response.xml');
  rejectionFile = join(dir, 'rejection.response.xml');
  await writeFile(dataFile, LINES, keys.signer);
  await writeFile(rejectionFile, REJECTION, keys.signer, { ...HEADER, inReplyTo: undefined, service: undefined });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

/** A copy of `src` with `from` (which must occur) replaced by `to`. */
function tampered(src: string, name: string, from: string | RegExp, to: string | ((m: string, c: string) => string)): string {
  const text = readFileSync(src, 'utf8');
  const changed = typeof to === 'string' ? text.replace(from, to) : text.replace(from, to);
  expect(changed).not.toBe(text);
  const path = join(dir, name);
  writeFileSync(path, changed);
  return path;
}

describe('written response: shape', () => {
  it('has the contract §7 layout in canonical form', () => {
    const xml = readFileSync(dataFile, 'utf8');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<BatchResponse xmlns="urn:ldm-batch:v1">\n')).toBe(true);
    expect(xml).toContain('<InReplyTo>FIN-2026-000001</InReplyTo>');
    expect(xml).toContain('<Status code="MSG00000" value="DATA_FOUND"></Status>');
    expect(xml).toContain('<Status code="MSG00006" newSsin="85073003427" value="NO_RESULT"></Status>');
    expect(xml).toContain(
      '<Total amountCents="1234567" benefitType="LEEFLOON" category="ISOLATED" fullYear="true" months="12" ' +
        'ocmw="0212345678" partnerSsin="90010100123" provisional="false"></Total>',
    );
    expect(xml).toMatch(/<Total amountCents="-250"[^>]*>\n\s*<Partner ssin="90010100123"><\/Partner>\n\s*<Partner ssin="91020200234"><\/Partner>\n\s*<\/Total>/);
    expect(xml).toContain(
      '<Month amountCents="98765" beneficiarySsin="70123100145" benefitType="LEEFLOON" category="COHABITANT" ' +
        'from="2025-01-01" fullMonth="true" month="2025-01" ocmw="0212345678" provisional="false" to="2025-01-31"></Month>',
    );
    expect(xml).toContain('<Months lastMonthIsLastPaid="false">');
    expect(xml).toMatch(
      /<Trailer>\n\s*<RecordCount>4<\/RecordCount>\n\s*<StatusCount code="MSG00000">2<\/StatusCount>\n\s*<StatusCount code="MSG00006">1<\/StatusCount>\n\s*<StatusCount code="MSG00011">1<\/StatusCount>\n\s*<\/Trailer>\n<ds:Signature /,
    );
    expect(xml.endsWith('</ds:Signature></BatchResponse>\n')).toBe(true);
    expect(xml).not.toMatch(/\/>/); // no self-closing tags anywhere
    expect(xml.slice(0, xml.indexOf('<ds:Signature'))).not.toMatch(/=""/); // optional attributes left out, never empty
    expect(xml.match(/xmlns=/g)).toHaveLength(1);
  });

  it('writes a rejection without Responses, InReplyTo or Service', () => {
    const xml = readFileSync(rejectionFile, 'utf8');
    expect(xml).toContain('<Rejection code="SCHEMA_INVALID">');
    expect(xml).toContain(`<Error column="5" line="12">element 'Ssin': '1234' is not a valid value</Error>`);
    expect(xml).toContain('<Error column="7" line="20">missing &lt;Role&gt; &amp; &lt;Period&gt;</Error>');
    expect(xml).toMatch(/<Trailer>\n\s*<RecordCount>0<\/RecordCount>\n\s*<\/Trailer>/);
    expect(xml).not.toContain('<Responses>');
    expect(xml).not.toContain('InReplyTo');
    expect(xml).not.toContain('<Service>');
  });

  it('returns the digest it signed, the counts, and the SHA-256 of the file', async () => {
    const path = join(dir, 'result.xml');
    const r = await writeFile(path, LINES, keys.signer);
    const xml = readFileSync(path);
    expect(r.recordCount).toBe(4);
    expect(r.statusCounts).toEqual({ MSG00000: 2, MSG00006: 1, MSG00011: 1 });
    expect(xml.toString('utf8')).toContain(`<ds:DigestValue>${r.digest}</ds:DigestValue>`);
    expect(r.fileSha256).toBe(createHash('sha256').update(xml).digest('hex'));
    // The digest is over the document minus the signature, i.e. exactly the bytes described in writer.ts.
    const text = xml.toString('utf8');
    const canonical = text.slice(text.indexOf('<BatchResponse'), text.indexOf('<ds:Signature')) + '</BatchResponse>';
    expect(createHash('sha256').update(canonical).digest('base64')).toBe(r.digest);
    const cert = new X509Certificate(keys.signer.certificatePem);
    expect(text).toContain(`<ds:X509Certificate>${cert.raw.toString('base64')}</ds:X509Certificate>`);
  });

  it('is byte-identical when written twice from the same input', async () => {
    const a = join(dir, 'twice-a.xml');
    const b = join(dir, 'twice-b.xml');
    await writeFile(a, LINES, keys.signer);
    await writeFile(b, LINES, keys.signer);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(dataFile))).toBe(true);
  });

  it('accepts an async iterable and an empty body', async () => {
    async function* gen(): AsyncGenerator<ResponseLine> {
      for (const l of LINES) yield l;
    }
    const a = join(dir, 'async.xml');
    await writeFile(a, gen(), keys.signer);
    expect(readFileSync(a).equals(readFileSync(dataFile))).toBe(true);

    const e = join(dir, 'empty.xml');
    const r = await writeFile(e, [], keys.signer);
    expect(r.recordCount).toBe(0);
    expect(readFileSync(e, 'utf8')).toContain('<Responses>\n  </Responses>');
    expect(await verifyResponse(e, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true, recordCount: 0 });
  });
});

describe('independent checkers accept our files', () => {
  it.skipIf(!HAVE_XMLSEC1)(`xmlsec1 --verify accepts the data response${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`, async () => {
    const r = await xmlsec1Verify(dataFile, keys.certPath);
    expect(r.output).toContain('OK');
    expect(r.code).toBe(0);
  });

  it.skipIf(!HAVE_XMLSEC1)(`xmlsec1 --verify accepts the rejection response${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`, async () => {
    const r = await xmlsec1Verify(rejectionFile, keys.certPath);
    expect(r.code).toBe(0);
  });

  it('xml-crypto SignedXml validates both', () => {
    expect(xmlCryptoVerify(dataFile, keys.signer.certificatePem)).toBe(true);
    expect(xmlCryptoVerify(rejectionFile, keys.signer.certificatePem)).toBe(true);
  });

  it.skipIf(!HAVE_XMLLINT)(`xmllint --noout finds both well-formed${HAVE_XMLLINT ? '' : ` (skipped: ${NO_XMLLINT})`}`, async () => {
    expect((await xmllint(dataFile)).code).toBe(0);
    expect((await xmllint(rejectionFile)).code).toBe(0);
  });

  it('verifyResponse accepts both and reports FileId and RecordCount', async () => {
    const opts = { trustedCertPem: keys.signer.certificatePem };
    expect(await verifyResponse(dataFile, opts)).toMatchObject({ ok: true, fileId: 'FIN-2026-000001', recordCount: 4 });
    const rej = await verifyResponse(rejectionFile, opts);
    expect(rej).toMatchObject({ ok: true, recordCount: 0 });
    expect(rej.ok && rej.fileId).toBeUndefined();
  });
});

describe('tampering is detected', () => {
  const cases: Array<[string, string | RegExp, string]> = [
    ['a digit of an amountCents', 'amountCents="1234567"', 'amountCents="1234568"'],
    ['a character in a text node', '<Ssin>12345678901</Ssin>', '<Ssin>12345678900</Ssin>'],
    ['an attribute value in the header area', '<RequestSha256>aaaa', '<RequestSha256>baaa'],
    ['whitespace between elements', '</Header>\n', '</Header>\n\n'],
    ['the status count', '<StatusCount code="MSG00011">1<', '<StatusCount code="MSG00011">2<'],
  ];
  for (const [what, from, to] of cases) {
    it(`changing ${what} fails verifyResponse${HAVE_XMLSEC1 ? ' and xmlsec1' : ''}`, async () => {
      const path = tampered(dataFile, `t-${what.replace(/\W+/g, '-')}.xml`, from, to);
      const v = await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem });
      expect(v).toMatchObject({ ok: false, reason: expect.stringMatching(/digest mismatch/) });
      if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).not.toBe(0);
      expect(xmlCryptoVerify(path, keys.signer.certificatePem)).toBe(false);
    });
  }

  it('changing the SignatureValue fails', async () => {
    const path = tampered(dataFile, 't-sigvalue.xml', /<ds:SignatureValue>(.)/, (_m: string, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`);
    expect(await verifyResponse(path, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/signature mismatch/) });
    if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).not.toBe(0);
  });

  it('SignedInfo is re-canonicalized: a redundant declaration still verifies, a changed algorithm is refused', async () => {
    // Equivalent XML (a redundant declaration) canonicalizes to the same SignedInfo: still valid.
    const same = tampered(dataFile, 't-redundant-ns.xml', '<ds:SignedInfo>', '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">');
    expect(await verifyResponse(same, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true });
    if (HAVE_XMLSEC1) expect((await xmlsec1Verify(same, keys.certPath)).code).toBe(0);
    // A changed algorithm attribute is refused.
    const changed = tampered(dataFile, 't-alg.xml', 'xmlenc#sha256', 'xmldsig#sha1');
    expect((await verifyResponse(changed, {})).ok).toBe(false);
  });

  it('a file signed with another certificate fails against the trusted one', async () => {
    const path = join(dir, 'other-signer.xml');
    await writeFile(path, LINES, other.signer);
    expect(await verifyResponse(path, {})).toMatchObject({ ok: true }); // self-consistent...
    const v = await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem });
    expect(v).toMatchObject({ ok: false, reason: expect.stringMatching(/untrusted certificate/) }); // ...but not ours
    if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).not.toBe(0);
  });

  it('swapping the KeyInfo certificate for another one fails', async () => {
    const mine = new X509Certificate(keys.signer.certificatePem).raw.toString('base64');
    const theirs = new X509Certificate(other.signer.certificatePem).raw.toString('base64');
    const path = tampered(dataFile, 't-cert.xml', mine, theirs);
    expect((await verifyResponse(path, {})).ok).toBe(false);
    expect((await verifyResponse(path, { trustedCertPem: other.signer.certificatePem })).ok).toBe(false);
    expect((await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem })).ok).toBe(false);
  });

  it('refuses a DOCTYPE, a missing signature, and non-XML', async () => {
    const dt = tampered(dataFile, 't-doctype.xml', '<BatchResponse', '<!DOCTYPE BatchResponse>\n<BatchResponse');
    expect(await verifyResponse(dt, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/DOCTYPE/) });
    const nosig = tampered(dataFile, 't-nosig.xml', /<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    expect(await verifyResponse(nosig, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/no ds:Signature/) });
    const broken = tampered(dataFile, 't-broken.xml', '</Trailer>', '</Trailr>');
    expect(await verifyResponse(broken, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/not well-formed/) });
    const latin = join(dir, 't-utf8.xml');
    const bytes = readFileSync(dataFile);
    const at = bytes.indexOf('client-ref-0001');
    bytes[at] = 0xff; // an invalid UTF-8 byte inside signed text
    writeFileSync(latin, bytes);
    expect(await verifyResponse(latin, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/UTF-8/) });
    expect(await verifyResponse(join(dir, 'does-not-exist.xml'), {})).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot read/) });
  });

  it('whitespace and the declaration outside the root do not matter', async () => {
    const path = tampered(dataFile, 't-outside.xml', /\n$/, '\n\n\n');
    expect((await verifyResponse(path, {})).ok).toBe(true);
    if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).toBe(0);
  });
});

describe('escaping', () => {
  const nasty = `a&b<c>d"e'f\rg\th\ni]]>j`;
  const lines: ResponseLine[] = [
    { seq: 1, ticket: nasty, ssin: '85073003328', status: 'MSG00100' },
    {
      seq: 2,
      ticket: 'é€𝄞',
      ssin: '85073003328',
      status: 'MSG00000',
      months: {
        lastMonthIsLastPaid: true,
        entries: [
          {
            month: '2025-02',
            ocmw: `0"2<1&2\t\r\n`,
            benefitType: 'LEEFLOON',
            category: 'ISOLATED',
            amountCents: 1,
            from: '2025-02-01',
            to: '2025-02-28',
            fullMonth: true,
            provisional: true,
          },
        ],
      },
    },
  ];

  it('escapes text and attributes canonically, round-trips, and still verifies', async () => {
    const path = join(dir, 'escape.xml');
    await writeFile(path, lines, keys.signer);
    const xml = readFileSync(path, 'utf8');
    expect(xml).toContain(`<Ticket>a&amp;b&lt;c&gt;d"e'f&#xD;g\th\ni]]&gt;j</Ticket>`);
    expect(xml).toContain(`ocmw="0&quot;2&lt;1&amp;2&#x9;&#xD;&#xA;"`);
    expect(xml).toContain('<Ticket>é€𝄞</Ticket>');
    expect((await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem })).ok).toBe(true);
    expect(xmlCryptoVerify(path, keys.signer.certificatePem)).toBe(true);
    if (HAVE_XMLSEC1) {
      const r = await xmlsec1Verify(path, keys.certPath);
      expect(r.output).toContain('OK');
      expect(r.code).toBe(0);
    }
    if (HAVE_XMLLINT) expect((await xmllint(path)).code).toBe(0);
    // Round trip: an XML parser gives back the original strings.
    const tickets: string[] = [];
    let ocmw: string | undefined;
    let inTicket = false;
    const p = new SaxesParser();
    p.on('opentag', (t) => {
      inTicket = t.name === 'Ticket';
      if (inTicket) tickets.push('');
      if (t.name === 'Month') ocmw = t.attributes.ocmw;
    });
    p.on('text', (t) => {
      if (inTicket) tickets[tickets.length - 1] += t;
    });
    p.on('closetag', () => {
      inTicket = false;
    });
    p.write(xml).close();
    expect(tickets).toEqual([nasty, 'é€𝄞']);
    expect(ocmw).toBe(`0"2<1&2\t\r\n`);
  });

  it.skipIf(!HAVE_XMLSEC1)('xmlsec1 rejects the escaped file once a byte of the ticket changes', async () => {
    const path = join(dir, 'escape2.xml');
    await writeFile(path, lines, keys.signer);
    const t = tampered(path, 'escape2-t.xml', 'f&#xD;g', 'f&#xA;g');
    expect((await xmlsec1Verify(t, keys.certPath)).code).not.toBe(0);
    expect((await verifyResponse(t, {})).ok).toBe(false);
  });

  it('refuses characters XML cannot carry', async () => {
    const path = join(dir, 'bad-char.xml');
    await expect(writeFile(path, [{ seq: 1, ticket: 'a\u0001b', ssin: '1', status: 'MSG00100' }], keys.signer)).rejects.toThrow(/XML 1.0/);
    await expect(writeFile(path, [{ seq: 1, ticket: 'a\uD800b', ssin: '1', status: 'MSG00100' }], keys.signer)).rejects.toThrow(/XML 1.0/);
  });
});

describe('writer contract', () => {
  it('checks that seq values ascend, and destroys the stream on failure', async () => {
    const path = join(dir, 'order.xml');
    const { createWriteStream } = await import('node:fs');
    const out = createWriteStream(path);
    const bad = [LINES[1], LINES[0]] as ResponseLine[];
    await expect(writeResponse(out, HEADER, bad, keys.signer)).rejects.toThrow(/ascending seq order: seq 1 after seq 2/);
    expect(out.destroyed).toBe(true);
    await expect(writeFile(path, [{ ...LINES[0]!, seq: 1.5 }], keys.signer)).rejects.toThrow(/integer/);
    await expect(writeFile(path, [{ ...LINES[0]!, seq: 1, months: LINES[1]!.months }], keys.signer)).rejects.toThrow(/not both/);
  });

  it('rejects when the body iterator throws', async () => {
    function* failing(): Generator<ResponseLine> {
      yield LINES[0]!;
      throw new Error('database went away');
    }
    await expect(writeFile(join(dir, 'fail.xml'), failing(), keys.signer)).rejects.toThrow('database went away');
  });

  it('respects backpressure (bounded queue), writes ~64 KiB chunks, and ends the stream', async () => {
    const chunks: number[] = [];
    let drains = 0;
    let maxQueued = 0;
    const out = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.length);
        maxQueued = Math.max(maxQueued, out.writableLength);
        setTimeout(cb, 1); // slow consumer: the writer must wait for it
      },
    });
    out.on('drain', () => drains++);
    const many: ResponseLine[] = Array.from({ length: 20_000 }, (_, i) => ({ ...LINES[0]!, seq: i + 1 }));
    const r = await writeResponse(out, HEADER, many, keys.signer);
    expect(r.recordCount).toBe(20_000);
    expect(out.writableFinished).toBe(true);
    expect(drains).toBeGreaterThan(2);
    // at most ~1 MiB queued plus one chunk (UTF-16 units vs bytes: ASCII here)
    expect(maxQueued).toBeLessThan(1024 * 1024 + 2 * 64 * 1024);
    // one write for the declaration, then chunks of >= 64 KiB (the last ones smaller)
    expect(chunks.length).toBeLessThan(20_000 / 50);
    expect(chunks.slice(1, -3).every((n) => n >= 64 * 1024)).toBe(true);
  });

  it('rejects when the stream fails', async () => {
    const out = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('ENOSPC: no space left on device'));
      },
    });
    await expect(writeResponse(out, HEADER, LINES, keys.signer)).rejects.toThrow(/ENOSPC/);
  });
});

describe('verifyResponse is an independent verifier', () => {
  /** Our document with its signature removed, re-signed by xml-crypto (DOM-based, another c14n). */
  function signWithXmlCrypto(prefix: string | undefined): string {
    const xml = readFileSync(dataFile, 'utf8').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const sig = new SignedXml({
      privateKey: keys.signer.privateKeyPem,
      publicCert: keys.signer.certificatePem,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    sig.addReference({
      xpath: '/*',
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
      isEmptyUri: true,
    });
    sig.computeSignature(xml, { location: { reference: '/*', action: 'append' }, ...(prefix ? { prefix } : {}) });
    const path = join(dir, `xmlcrypto-${prefix ?? 'default'}.xml`);
    writeFileSync(path, sig.getSignedXml());
    return path;
  }

  for (const prefix of [undefined, 'ds', 'sig']) {
    it(`accepts a signature made by xml-crypto (${prefix ? `prefix ${prefix}:` : 'default namespace'})`, async () => {
      const path = signWithXmlCrypto(prefix);
      if (prefix === undefined) expect(readFileSync(path, 'utf8')).toContain('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">');
      expect(await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true, recordCount: 4 });
      if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).toBe(0);
    });
  }

  it.skipIf(!HAVE_XMLSEC1)(
    `accepts a non-canonical document signed by xmlsec1 (comments, PI, CDATA, self-closing tags, char refs, pretty SignedInfo)${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`,
    async () => {
      const template = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root -->
<?before-root some data?>
<BatchResponse xmlns="urn:ldm-batch:v1" xmlns:unused="urn:unused">
  <Header>
    <InReplyTo>F&#x49;LE-1</InReplyTo><!-- comments are not signed -->
    <RequestSha256>${'b'.repeat(64)}</RequestSha256>
    <ProcessedAt>2026-01-15T03:00:07Z</ProcessedAt>
    <?proc instr?>
    <Note kind='single "quoted"' a="tab&#9;lf&#10;cr&#13;end" b="x > y"><![CDATA[<raw> & ]]]]><![CDATA[> text]]></Note>
    <Empty/>
    <x:Ext xmlns:x="urn:ext" x:attr="1" plain="2"><Inner xmlns="">none</Inner></x:Ext>
  </Header>
  <Trailer>
    <RecordCount>0</RecordCount>
  </Trailer>
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
      <Reference URI="">
        <Transforms>
          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        </Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <DigestValue/>
      </Reference>
    </SignedInfo>
    <SignatureValue/>
    <KeyInfo>
      <X509Data/>
    </KeyInfo>
  </Signature>
</BatchResponse>
<?after-root?>
`;
      const tpl = join(dir, 'xmlsec-template.xml');
      const signed = join(dir, 'xmlsec-signed.xml');
      writeFileSync(tpl, template);
      const { execFile } = await import('node:child_process');
      await new Promise<void>((resolve, reject) =>
        execFile(
          '/usr/bin/xmlsec1',
          ['--sign', '--privkey-pem', `${keys.keyPath},${keys.certPath}`, '--output', signed, tpl],
          (err, _o, e) => (err ? reject(new Error(e)) : resolve()),
        ),
      );
      expect((await xmlsec1Verify(signed, keys.certPath)).code).toBe(0);
      const v = await verifyResponse(signed, { trustedCertPem: keys.signer.certificatePem });
      expect(v).toMatchObject({ ok: true, fileId: 'FILE-1', recordCount: 0 });
      // and one changed byte in the CDATA still breaks it
      const t = tampered(signed, 'xmlsec-signed-t.xml', '<raw> & ]]', '<raw> &  ]]');
      expect((await verifyResponse(t, {})).ok).toBe(false);
    },
  );

  it('fails when SignedInfo bytes change in a way canonicalization does not undo', async () => {
    // Our SignedInfo has no whitespace; adding some changes its canonical form.
    const path = tampered(dataFile, 't-si-ws.xml', '<ds:SignatureMethod', '\n<ds:SignatureMethod');
    expect(await verifyResponse(path, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/signature mismatch/) });
    if (HAVE_XMLSEC1) expect((await xmlsec1Verify(path, keys.certPath)).code).not.toBe(0);
  });
});
