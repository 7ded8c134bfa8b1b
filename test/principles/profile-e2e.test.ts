// Proportionality end to end: a client whose authorization lists only some response fields
// never receives the others — not as an attribute, not as a <Partner> child, not as an element.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeInstance, run, hasTool, ROOT, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

let inst: Instance;
// fin may receive yearly totals without partner data; monthly detail is outside its profile.
const clients = S.clientsCsv.replace(
  /^fin,(.*),$/m,
  'fin,$1,Year amountCents months fullYear provisional ocmw benefitType category beneficiarySsin',
);

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst, { clients });
}, 60_000);
afterAll(async () => inst?.cleanup());

describe('a field profile', () => {
  it('keeps every field outside it out of the response', async () => {
    await writeRequestFile(join(inst.dir, 'p.xml'), S.header(), S.lines);
    const out = join(inst.dir, 'p.response.xml');
    const r = await inst.cli(['process', join(inst.dir, 'p.xml'), '-o', out, '--as-of', S.AS_OF]);
    expect(r.code, r.stderr).toBe(0);
    const xml = await readFile(out, 'utf8');
    const body = xml.slice(xml.indexOf('<Responses>'), xml.indexOf('</Responses>'));
    expect(body).toContain('<Year year="2025">');
    expect(body).toContain('amountCents="1200000"');
    expect(body).not.toContain('partnerSsin');
    expect(body).not.toContain('<Partner ');
    expect(body).not.toContain(S.P + '"'); // A's partner is never named
    expect(body).not.toContain('<Months');
    expect(body).not.toContain('<Month ');
    // The monthly lines are answered MSG00008 (a period kind outside the authorization).
    expect(body).toMatch(/<Response seq="2">[\s\S]*?<Status code="MSG00008"/);
    if (hasTool('/usr/bin/xmllint')) {
      expect((await run('/usr/bin/xmllint', ['--noout', '--schema', join(ROOT, 'schemas', 'ldm-batch-response.xsd'), out])).code).toBe(0);
    }
  });

  it('refuses an unknown field name at import, naming the vocabulary', async () => {
    const bad = S.clientsCsv.replace(/^fin,(.*),$/m, 'fin,$1,Year amount');
    const r = await inst.cli(['import', 'clients', await inst.writeCsv('bad-clients.csv', bad)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown name\(s\) amount/);
  });
});
