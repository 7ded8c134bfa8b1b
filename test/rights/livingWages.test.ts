// LivingWages end to end through the compiled CLI on a real instance: `import rights` (with the
// Herstappe refusal), `process` of a rights request, every per-line code in the §4 order, the
// Rights answer (creation, shortening, cancellation, two OCMW's, clipping), the audit trail, and
// the independent checkers (xmlsec1, xmllint with the response XSD, ldm-batch verify).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { hasTool, makeInstance, run, ROOT, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { validateResponseFile } from '../../src/batch/validate.js';
import * as R from './scenario.js';

const XMLSEC = '/usr/bin/xmlsec1';
const XMLLINT = '/usr/bin/xmllint';
const RESPONSE_XSD = join(ROOT, 'schemas', 'ldm-batch-response.xsd');

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['Response', 'Right', 'Period', 'StatusCount'].includes(name) });

// Parsed XML is loose by nature; the assertions say what must be there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

let inst: Instance;

beforeAll(async () => {
  inst = await makeInstance();
  await R.importRightsScenario(inst);
});
afterAll(async () => inst?.cleanup());

describe('import rights through the CLI', () => {
  it('refuses a right granted by Herstappe (no OCMW) with the line and a clear reason, exit 1', async () => {
    const file = await inst.writeCsv('herstappe.csv', [R.RIGHTS_HEADER, `H-1,1,${R.CREATED},${R.HERSTAPPE},LEEFLOON,2025-01-01,,CREATED,2025-01-02`].join('\n'));
    const r = await inst.cli(['import', 'rights', file, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.badRows[0].line).toBe(2);
    expect(out.badRows[0].reason).toMatch(/not on the OCMW list.*Herstappe/);
  });
});

describe('a LivingWages response', () => {
  let out: string;
  let doc: Loose;
  let code: number;
  let stderr: string;
  beforeAll(async () => {
    const req = join(inst.dir, 'rights.xml');
    out = join(inst.dir, 'rights.response.xml');
    await writeRequestFile(req, R.header(), R.lines);
    const r = await inst.cli(['process', req, '-o', out, '--as-of', R.AS_OF]);
    code = r.code;
    stderr = r.stderr;
    doc = parser.parse(await readFile(out, 'utf8'));
  });

  it('answers every line with the expected code, in seq order, echoing tickets', () => {
    expect(code, stderr).toBe(0);
    const responses: Loose[] = doc.BatchResponse.Responses.Response;
    expect(responses.map((r) => Number(r['@seq']))).toEqual(R.lines.map((_, i) => i + 1));
    expect(responses.map((r) => [r.Ticket, r.Status['@code']])).toEqual(R.lines.map((l) => [l.ticket, l.expect]));
    expect(responses.find((r) => r.Ticket === 'replaced').Status['@newSsin']).toBe(R.NEWER);
    expect(doc.BatchResponse.Header.Service).toBe('LivingWages');
  });

  it('returns the current rights clipped to the range, with type and OCMW, and no amounts', () => {
    const responses: Loose[] = doc.BatchResponse.Responses.Response;
    R.lines.forEach((l, i) => {
      const r = responses[i];
      if (l.rights === undefined) {
        expect(r.Rights, l.ticket).toBeUndefined();
        return;
      }
      const got = r.Rights.Right.map((x: Loose) => `${x['@rightId']} ${x['@ocmw']} ${x['@type']} ${x.Period.map((p: Loose) => `${p['@from']}..${p['@to']}`).join(',')}`);
      expect(got, l.ticket).toEqual(l.rights);
    });
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/amountCents|Month|Year"/);
  });

  it('counts the codes in the trailer', () => {
    const t = doc.BatchResponse.Trailer;
    expect(Number(t.RecordCount)).toBe(R.lines.length);
    const counts = Object.fromEntries(t.StatusCount.map((c: Loose) => [c['@code'], Number(c['#text'])]));
    const expected: Record<string, number> = {};
    for (const l of R.lines) expected[l.expect] = (expected[l.expect] ?? 0) + 1;
    expect(counts).toEqual(expected);
  });

  it('logs every line with a valid SSIN in the audit trail, as LivingWages', async () => {
    const r = await inst.cli(['audit', '--ssin', R.CREATED, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const views: Loose[] = JSON.parse(r.stdout);
    const createdLines = R.lines.filter((l) => l.ssin === R.CREATED);
    expect(views).toHaveLength(createdLines.length);
    expect(new Set(views.map((v) => v.service))).toEqual(new Set(['LivingWages']));
    expect(views.map((v) => v.status.code).sort()).toEqual(createdLines.map((l) => l.expect).sort());
    // The quality code of the integration that allowed the line is recorded only for answered lines.
    expect(views.filter((v) => v.qualityCode !== null).map((v) => v.qualityCode.code)).toEqual(['003']);
    const bad = await inst.cli(['audit', '--ssin', R.NOINT, '--json']);
    expect(JSON.parse(bad.stdout).map((v: Loose) => v.status.code).sort()).toEqual(['MSG00008', 'MSG00012']);
  });

  it('validates against the response XSD (libxml2 in-process)', async () => {
    expect(await validateResponseFile(out)).toEqual({ ok: true });
  });

  it.skipIf(!hasTool(XMLLINT))(`validates against the response XSD with xmllint${hasTool(XMLLINT) ? '' : ' (skipped: xmllint not installed)'}`, async () => {
    const r = await run(XMLLINT, ['--noout', '--schema', RESPONSE_XSD, out]);
    expect(r.code, r.stderr).toBe(0);
  });

  it.skipIf(!hasTool(XMLSEC))('is accepted by xmlsec1 --verify (skipped: xmlsec1 not installed)', async () => {
    const r = await run(XMLSEC, ['--verify', '--trusted-pem', inst.cert, out]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('is accepted by ldm-batch verify, and a changed period is refused', async () => {
    const ok = await inst.cli(['verify', out]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const text = await readFile(out, 'utf8');
    const tampered = join(inst.dir, 'rights-tampered.response.xml');
    await writeFile(tampered, text.replace('to="2025-06-30"', 'to="2025-07-31"'));
    const bad = await inst.cli(['verify', tampered]);
    expect(bad.code).toBe(1);
    if (hasTool(XMLSEC)) expect((await run(XMLSEC, ['--verify', '--trusted-pem', inst.cert, tampered])).code).not.toBe(0);
  });

  it('refuses LivingWages for a sender authorized only for LivingWagesWithAmount (MSG00013)', async () => {
    const req = join(inst.dir, 'rights-fin.xml');
    await writeRequestFile(req, R.header({ fileId: 'FIN-RIGHTS-1', senderCbe: R.FIN.cbe, legalContext: R.FIN.legalContext }), R.lines.slice(0, 1));
    const res = join(inst.dir, 'rights-fin.response.xml');
    const r = await inst.cli(['process', req, '-o', res, '--as-of', R.AS_OF]);
    expect(r.code).toBe(1);
    expect(parser.parse(await readFile(res, 'utf8')).BatchResponse.Rejection['@code']).toBe('MSG00013');
  });
});

describe('rights change over time', () => {
  it('a new version (cancellation) imported later removes the right from the next answer', async () => {
    const file = await inst.writeCsv('cancel-created.csv', [R.RIGHTS_HEADER, `R-CREATED,2,${R.CREATED},${R.ANTWERPEN},LEEFLOON,2025-02-01,2025-12-31,CANCELLED,2026-01-10`].join('\n'));
    expect((await inst.cli(['import', 'rights', file])).code).toBe(0);
    const req = join(inst.dir, 'rights-2.xml');
    const out = join(inst.dir, 'rights-2.response.xml');
    await writeRequestFile(req, R.header({ fileId: 'MUT-2026-RIGHTS-2' }), R.lines.slice(0, 1));
    const r = await inst.cli(['process', req, '-o', out, '--as-of', R.AS_OF]);
    expect(r.code, r.stderr).toBe(0);
    expect(parser.parse(await readFile(out, 'utf8')).BatchResponse.Responses.Response[0].Status['@code']).toBe('MSG00100');
  });
});
