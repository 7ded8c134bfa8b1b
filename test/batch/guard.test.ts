// DTDs and entity declarations are refused before any parser sees them; only UTF-8 is read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardRequestFile } from '../../src/batch/guard.js';
import { validateRequestFile } from '../../src/batch/validate.js';
import { checkEnvelope } from '../../src/batch/envelope.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-guard-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(tmp, `g${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const VALID = generateRequest({ count: 3 });
const BODY = VALID.slice(DECL.length);

const BILLION_LAUGHS = [
  '<!DOCTYPE BatchRequest [',
  ' <!ENTITY lol "lol">',
  ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
  ']>',
].join('\n');

describe('DTDs and entities', () => {
  it('a DTD with an internal subset is DTD_FORBIDDEN, at its position', async () => {
    const path = file(`${DECL}<!DOCTYPE BatchRequest [\n  <!ELEMENT BatchRequest ANY>\n]>\n${BODY}`);
    expect(await validateRequestFile(path)).toEqual({
      ok: false,
      code: 'DTD_FORBIDDEN',
      errors: [{ line: 2, column: 1, message: expect.stringContaining('DOCTYPE') }],
    });
  });

  it('an external entity (XXE) is refused and never read', async () => {
    const secret = file('TOP-SECRET-CONTENT');
    const xml = `${DECL}<!DOCTYPE BatchRequest [ <!ENTITY xxe SYSTEM "file://${secret}"> ]>\n${BODY.replace('GEN-0001', '&xxe;')}`;
    const r = await validateRequestFile(file(xml));
    expect(r).toMatchObject({ ok: false, code: 'DTD_FORBIDDEN', errors: [{ line: 2, column: 1 }] });
    expect(JSON.stringify(r)).not.toContain('TOP-SECRET');
    // the envelope pass does not expand it either
    const env = await checkEnvelope(file(xml));
    expect(JSON.stringify(env)).not.toContain('TOP-SECRET');
  });

  it('billion laughs is refused at once, without expansion', async () => {
    const path = file(`${DECL}${BILLION_LAUGHS}\n${BODY.replace('GEN-0001', '&lol9;')}`);
    const t0 = performance.now();
    const r = await validateRequestFile(path);
    const ms = performance.now() - t0;
    expect(r).toMatchObject({ ok: false, code: 'DTD_FORBIDDEN', errors: [{ line: 2, column: 1 }] });
    expect(ms).toBeLessThan(500);
    const env = await checkEnvelope(path);
    expect(env.fileId).toBeUndefined(); // '&lol9;' is no FileId
  });

  it('a DTD is refused even at the end of a long prolog and after a comment that mentions it', async () => {
    const prolog = `${DECL}<!-- no <!DOCTYPE here -->\n<?pi <!DOCTYPE?>\n${'\n'.repeat(5000)}  <!DOCTYPE x SYSTEM "x.dtd">\n`;
    const r = await guardRequestFile(file(prolog + BODY));
    expect(r).toMatchObject({ ok: false, code: 'DTD_FORBIDDEN', error: { line: 5004, column: 3 } });
  });

  it('other declarations in the prolog are refused too', async () => {
    for (const decl of ['<!ENTITY x "y">', '<!ELEMENT x ANY>', '<!ATTLIST x a CDATA #IMPLIED>', '<!doctype x>']) {
      const r = await guardRequestFile(file(`${DECL}${decl}\n${BODY}`));
      expect(r, decl).toMatchObject({ ok: false, code: 'DTD_FORBIDDEN', error: { line: 2, column: 1 } });
    }
  });

  it('a comment or processing instruction alone passes', async () => {
    const r = await guardRequestFile(file(`${DECL}<!-- <!DOCTYPE x> -->\n<?x <!ENTITY?>\n${BODY}`));
    expect(r).toMatchObject({ ok: true, bom: false, root: { line: 4, column: 1 } });
    expect(await validateRequestFile(file(`${DECL}<!-- <!DOCTYPE x> -->\n${BODY}`))).toEqual({ ok: true });
  });

  it('a DOCTYPE after the root start tag is not well-formed (libxml2 never reads it as a DTD)', async () => {
    const r = await validateRequestFile(file(VALID.replace('<Requests>', '<Requests><!DOCTYPE x [<!ENTITY a "b">]>')));
    expect(r).toMatchObject({ ok: false, code: 'NOT_WELL_FORMED' });
  });
});

describe('encoding', () => {
  it('a UTF-8 byte order mark is accepted and recorded', async () => {
    const path = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(VALID)]));
    expect(await guardRequestFile(path)).toMatchObject({ ok: true, bom: true, root: { line: 2, column: 1 } });
    expect(await validateRequestFile(path)).toEqual({ ok: true });
  });

  it('latin-1 bytes are NOT_WELL_FORMED at their position', async () => {
    const bytes = Buffer.from(VALID.replace('FPS_FINANCE:TAX_ASSESSMENT', 'FPS_FINANCE:TAX_ASSESSMENT_\u00e9t\u00e9'), 'latin1');
    const r = await validateRequestFile(file(bytes));
    // <LegalContext> is on line 7; "    <LegalContext>FPS_FINANCE:TAX_ASSESSMENT_" is 45 characters
    expect(r).toEqual({
      ok: false,
      code: 'NOT_WELL_FORMED',
      errors: [{ line: 7, column: 46, message: expect.stringMatching(/not valid UTF-8.*byte offset \d+/) }],
    });
  });

  it('columns count characters, not bytes, before the bad byte', async () => {
    const text = VALID.replace('FPS_FINANCE:TAX_ASSESSMENT', 'Ωé€😀x');
    const bytes = Buffer.from(text);
    const at = bytes.indexOf('x', bytes.indexOf('😀'));
    bytes[at] = 0xff;
    expect(await guardRequestFile(file(bytes))).toMatchObject({ ok: false, code: 'NOT_WELL_FORMED', error: { line: 7, column: 23 } });
  });

  it('a sequence cut by a read chunk boundary is fine; a truncated one at the end is not', async () => {
    const head = `${DECL}<!-- ${'a'.repeat((1 << 20) - DECL.length - 6)}`; // '€' straddles the first 1 MiB
    const path = file(`${head}€ -->\n${BODY}`);
    expect(await guardRequestFile(path)).toMatchObject({ ok: true });
    const truncated = Buffer.concat([Buffer.from(VALID), Buffer.from([0xe2, 0x82])]);
    expect(await guardRequestFile(file(truncated))).toMatchObject({ ok: false, code: 'NOT_WELL_FORMED' });
  });

  it('an encoding declaration other than UTF-8 is NOT_WELL_FORMED', async () => {
    const r = await validateRequestFile(file(VALID.replace('encoding="UTF-8"', "encoding='ISO-8859-1'")));
    expect(r).toEqual({
      ok: false,
      code: 'NOT_WELL_FORMED',
      errors: [{ line: 1, column: 21, message: 'the XML declaration names encoding "ISO-8859-1"; only UTF-8 is accepted' }],
    });
    expect(await guardRequestFile(file(VALID.replace('UTF-8', 'utf-8')))).toMatchObject({ ok: true });
    expect(await guardRequestFile(file(VALID.replace(' encoding="UTF-8"', '')))).toMatchObject({ ok: true });
  });

  it('UTF-16 is NOT_WELL_FORMED', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(VALID.replace('UTF-8', 'UTF-16'), 'utf16le')]);
    expect(await validateRequestFile(file(utf16))).toMatchObject({ ok: false, code: 'NOT_WELL_FORMED', errors: [{ line: 1, column: 1 }] });
  });

  it('an empty file, or one without a root element, is NOT_WELL_FORMED', async () => {
    expect(await validateRequestFile(file(''))).toEqual({
      ok: false,
      code: 'NOT_WELL_FORMED',
      errors: [{ line: 1, column: 1, message: 'the file is empty' }],
    });
    expect(await validateRequestFile(file(`${DECL}<!-- nothing -->\n`))).toMatchObject({
      ok: false,
      code: 'NOT_WELL_FORMED',
      errors: [{ line: 3, message: 'the file holds no root element' }],
    });
  });
});
