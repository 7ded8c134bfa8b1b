// Rights in a response line (LivingWages): canonical attribute order checked against the
// generic c14n helpers, exclusivity with Year/Months, and a response file that validates.
import { afterAll, describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { responseLineXml, writeResponse } from '../../src/response/writer.js';
import { element, endTag, startTag } from '../../src/response/c14n.js';
import { verifyResponse } from '../../src/response/verify.js';
import { validateResponseFile } from '../../src/batch/validate.js';
import { STATUS_VALUE, type ResponseLine } from '../../src/interfaces.js';
import { removeTestKeys, testKeys } from '../helpers/keys.js';

let dir: string | undefined;
afterAll(async () => {
  removeTestKeys();
  if (dir) await rm(dir, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'ldm-rights-xml-'));
  return dir;
}

// Reference built only from the generic canonical helpers.
function reference(line: ResponseLine): string {
  let s = `    ${startTag('Response', { seq: line.seq })}\n`;
  if (line.ticket !== undefined) s += `      ${element('Ticket', {}, line.ticket)}\n`;
  s += `      ${element('Ssin', {}, line.ssin)}\n`;
  s += `      ${element('Status', { value: STATUS_VALUE[line.status], code: line.status, newSsin: line.newSsin })}\n`;
  if (line.rights) {
    s += `      ${startTag('Rights')}\n`;
    for (const r of line.rights) {
      s += `        ${startTag('Right', { type: r.type, rightId: r.rightId, ocmw: r.ocmw })}\n`;
      for (const p of r.periods) s += `          ${element('Period', { to: p.to, from: p.from })}\n`;
      s += `        ${endTag('Right')}\n`;
    }
    s += `      ${endTag('Rights')}\n`;
  }
  return `${s}    ${endTag('Response')}\n`;
}

describe('Rights in a response line', () => {
  const line: ResponseLine = {
    seq: 3,
    ticket: 'dossier 42/2026',
    ssin: '85073003328',
    status: 'MSG00000',
    rights: [
      { rightId: 'R-2024-000123', type: 'LEEFLOON', ocmw: '0212000032', periods: [{ from: '2025-01-01', to: '2025-03-31' }, { from: '2025-06-01', to: '2025-12-31' }] },
      { rightId: 'R&"<x', type: 'EQUIVALENT_LEEFLOON', ocmw: '0212111779', periods: [{ from: '2025-07-01', to: '2025-12-31' }] },
    ],
  };

  it('is written in canonical form (attribute order ocmw rightId type; from to)', () => {
    expect(responseLineXml(line)).toBe(reference(line));
  });

  it('refuses a line with Rights and Year or Months, and a Right without a Period', () => {
    expect(() => responseLineXml({ ...line, year: { year: 2025, totals: [] } })).toThrow(/one answer \(Year, Months or Rights\), not both/);
    expect(() => responseLineXml({ ...line, months: { lastMonthIsLastPaid: true, entries: [] } })).toThrow(/one answer \(Year, Months or Rights\), not both/);
    expect(() => responseLineXml({ ...line, rights: [{ ...line.rights![0], periods: [] }] })).toThrow(/at least one Period/);
  });

  it('makes a response file that validates against the response XSD and verifies', async () => {
    const keys = await testKeys();
    const path = join(await tmp(), 'rights.response.xml');
    const header = { inReplyTo: 'MUT-1', requestSha256: 'a'.repeat(64), service: 'LivingWages' as const, referenceDate: '2026-02-15', processedAt: '2026-02-15T03:00:00Z' };
    const ok = { ...line, rights: [line.rights![0]] };
    await writeResponse(createWriteStream(path), header, [ok, { seq: 4, ssin: '85073003328', status: 'MSG00100' }], keys.signer);
    expect(await validateResponseFile(path)).toEqual({ ok: true });
    expect(await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem })).toMatchObject({ ok: true, recordCount: 2 });
  });
});
