// libxml2's streaming validator (xmllint --stream, streamValidate.ts) gives the pipeline's verdict on
// valid files; libxml2-wasm decides everything else. That is only sound if the two engines agree:
// here on valid files of every shape and on broken ones of every kind (schema facets, structure,
// namespaces, well-formedness, one error deep in a big file), each with both engines.
// xmllint comes with the test setup (scripts/test-setup.sh); without it these tests fail, they do not skip.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_XMLLINT, streamTimeoutMs, streamValidate, xmllintBinary, XMLLINT_ENV } from '../../src/batch/streamValidate.js';
import { startRequestValidation } from '../../src/batch/validateInBackground.js';
import { validateRequestFile } from '../../src/batch/validate.js';
import { schemaPath } from '../../src/batch/schemaFiles.js';
import { generateRequest } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-stream-'));
let n = 0;
function file(content: string): string {
  const path = join(tmp, `f${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

const base = generateRequest({ count: 3 });
const edit = (from: string | RegExp, to: string) => base.replace(from, to);

const VALID: [string, string][] = [
  ['plain', base],
  ['one line per Request', generateRequest({ count: 50, compact: true })],
  ['LivingWages', generateRequest({ count: 2, service: 'LivingWages' })],
  ['prefixed namespace', generateRequest({ count: 2, rootOpen: '<l:BatchRequest xmlns:l="urn:ldm-batch:v1" xmlns="urn:ldm-batch:v1">', rootClose: '</l:BatchRequest>' })],
  ['seq with leading zeros and spaces', edit('seq="1"', 'seq=" 0001 "')],
  ['comments, processing instructions, CDATA', edit('<Requests>', '<Requests><!-- c --><?pi x?>').replace('<Year>2025</Year>', '<Year><![CDATA[2025]]></Year>')],
  ['CR LF line ends', base.replace(/\n/g, '\r\n')],
  ['character references', edit('GEN-0001', 'GEN&#45;0001')],
  ['a big file (many of the wasm validator slices)', generateRequest({ count: 12_000, compact: true })],
];

const BROKEN: [string, string][] = [
  ['FileId too long', edit('GEN-0001', 'x'.repeat(65))],
  ['CBE of 9 digits', edit('0308357159', '030835715')],
  ['Arabic-Indic digits in the CBE', edit('0308357159', '٠٣٠٨٣٥٧١٥٩')],
  ['unknown service', edit('>LivingWagesWithAmount<', '>Amounts<')],
  ['CreatedAt not a dateTime', edit('2026-01-15T03:00:00Z', '2026-01-15')],
  ['seq 0', edit('seq="1"', 'seq="0"')],
  ['seq missing', edit('seq="1"', '')],
  ['Ssin of 10 digits', base.replace(/<Ssin>\d/, '<Ssin>')],
  ['unknown Role', edit('BENEFICIARY', 'SPOUSE')],
  ['month 13', edit('<To>2025-06</To>', '<To>2025-13</To>')],
  ['Dates on 30 February', edit('<Year>2025</Year>', '<Dates><From>2025-02-30</From><To>2025-03-01</To></Dates>')],
  ['Year and Months together', edit('<Year>2025</Year>', '<Year>2025</Year><Months><From>2025-01</From><To>2025-02</To></Months>')],
  ['an unknown element', edit('<Ssin>', '<Extra/><Ssin>')],
  ['an unknown attribute', edit('seq="1"', 'seq="1" x="y"')],
  ['no Requests', base.replace(/<Requests>[\s\S]*<\/Requests>/, '<Requests/>')],
  ['no Trailer', base.replace(/<Trailer>.*<\/Trailer>/, '')],
  ['RecordCount negative', base.replace(/<RecordCount>\d+/, '<RecordCount>-1')],
  ['wrong root namespace', edit('urn:ldm-batch:v1', 'urn:ldm-batch:v2')],
  ['element without namespace', edit('<Ssin>', '<Ssin xmlns="">')],
  ['another root element', '<?xml version="1.0"?>\n<a><b/></a>\n'],
  ['mismatched end tag', edit('</Ticket>', '</Tiket>')],
  ['unclosed element', edit('</Requests>', '')],
  ['text after the root', `${base}trailing text\n`],
  ['a second root', `${base}<BatchRequest xmlns="urn:ldm-batch:v1"/>\n`],
  ['an attribute twice', edit('seq="1"', 'seq="1" seq="1"')],
  ['an undeclared prefix', edit('<Ssin>', '<q:Ssin>').replace('</Ssin>', '</q:Ssin>')],
  ['a control character', edit('GEN-0001', 'GEN\u0001')],
  ['one error deep in a big file', generateRequest({ count: 12_000, compact: true, request: (seq, xml) => (seq === 11_000 ? xml.replace('<Ssin>', '<Ssin>X') : undefined) })],
];

describe('libxml2 streaming validator against libxml2-wasm', () => {
  it.each(VALID)('valid for both: %s', async (_what, content) => {
    const path = file(content);
    expect(await validateRequestFile(path)).toEqual({ ok: true });
    expect(await streamValidate(path, schemaPath('request'), 0).result).toEqual({ verdict: 'valid' });
  });

  it.each(BROKEN)('refused by both: %s', async (_what, content) => {
    const path = file(content);
    expect(content).not.toBe(base);
    const wasm = await validateRequestFile(path);
    expect(wasm.ok).toBe(false);
    const stream = await streamValidate(path, schemaPath('request'), 0).result;
    expect(stream.verdict).toBe('invalid');
  });
});

describe('startRequestValidation', () => {
  it('takes "valid" from the streaming validator', async () => {
    const running = startRequestValidation(file(base), base.length);
    expect(await running.result).toEqual({ ok: true });
    expect(running.engine()).toBe('libxml2-stream');
    expect(running.unavailable()).toBeUndefined();
  });

  it('leaves a file it refuses to libxml2-wasm, whose errors are the answer', async () => {
    const path = file(BROKEN[0][1]);
    const running = startRequestValidation(path, BROKEN[0][1].length);
    expect(await running.result).toEqual(await validateRequestFile(path));
    expect(running.engine()).toBe('libxml2-wasm');
  });

  it.each([
    ['a missing binary', { [XMLLINT_ENV]: '/nonexistent/xmllint' }, /nonexistent.*ENOENT.*install libxml2-utils or set LDM_BATCH_XMLLINT/],
    ['a relative path (never looked up on PATH)', { [XMLLINT_ENV]: 'xmllint' }, /absolute/],
    ['off', { [XMLLINT_ENV]: 'off' }, /off/],
  ])('without the streaming validator (%s), libxml2-wasm decides alone, and says why', async (_what, env, why) => {
    for (const [content, ok] of [[base, true], [BROKEN[5][1], false]] as const) {
      const path = file(content);
      const running = startRequestValidation(path, content.length, env);
      expect((await running.result).ok).toBe(ok);
      expect(running.engine()).toBe('libxml2-wasm');
      expect(running.unavailable()).toMatch(why);
    }
  });

  it('finds xmllint at its usual place unless told otherwise', () => {
    expect(xmllintBinary({})).toEqual({ path: DEFAULT_XMLLINT });
    expect(xmllintBinary({ [XMLLINT_ENV]: '/opt/libxml2/bin/xmllint' })).toEqual({ path: '/opt/libxml2/bin/xmllint' });
  });

  it('a validator that never ends is killed at its time limit, and libxml2-wasm decides', async () => {
    // A stand-in xmllint that notes its pid and never ends (the limit is what stops it, not a race).
    const pidFile = join(tmp, 'hung.pid');
    const hung = join(tmp, 'hung-xmllint');
    writeFileSync(hung, `#!/bin/sh\necho $$ > ${pidFile}\nexec /bin/sleep 3600\n`, { mode: 0o700 });
    for (const [content, ok] of [[base, true], [BROKEN[5][1], false]] as const) {
      rmSync(pidFile, { force: true });
      const path = file(content);
      const running = startRequestValidation(path, content.length, { [XMLLINT_ENV]: hung }, 300);
      expect((await running.result).ok).toBe(ok);
      expect(running.engine()).toBe('libxml2-wasm');
      expect(running.unavailable()).toMatch(/did not finish within .* and was stopped; .*ldm-batch check/);
      expect(running.unavailable()).not.toMatch(/install libxml2-utils/); // the binary is there: that remedy would mislead
      expect(existsSync(pidFile)).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).toThrow(/ESRCH/); // killed and reaped
    }
  });

  it('the time limit grows with the file: a minute, plus 2 s per MB', () => {
    expect(streamTimeoutMs(0)).toBe(60_000);
    expect(streamTimeoutMs(137_700_000)).toBe(60_000 + 138 * 2_000);
    expect(streamTimeoutMs(700_000_000)).toBeGreaterThan(10 * 60_000);
  });

  it('a stopped validation kills its child and starts no other', async () => {
    const content = generateRequest({ count: 12_000, compact: true });
    const running = startRequestValidation(file(content), content.length);
    running.stop();
    await expect(running.result).rejects.toThrow(/stopped/);
    expect(running.engine()).toBeUndefined();
  });
});
