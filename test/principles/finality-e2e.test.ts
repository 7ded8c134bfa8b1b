// Finality end to end: 10,000 adversarial lines (wrong sector, wrong quality code, integrations
// ending the day before or starting the day after the period, open-ended, BIS numbers, other
// institutions) go through the real import and `process`; every person has amounts in the
// requested period, so a finality leak would show as data. Each line's status is compared with
// the independent oracle of oracle.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { acceptableStatuses, generateCases, oracle, SENDERS, type OracleCase } from './oracle.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { isValidSsin, makeSsin } from '../../src/domain/ssin.js';

const REF = '2026-02-15';
const SENDER = SENDERS[0];
const OCMW = '0212000032';
const N = 10_000;

let inst: Instance;
let cases: OracleCase[];

function monthsOf(c: OracleCase): string[] {
  const p = c.period;
  if (p.kind === 'year') return [`${p.year}-01`, `${p.year}-06`, `${p.year}-12`];
  if (p.kind === 'months') return [p.from, p.to];
  return [];
}

function paidOn(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-05` : `${y}-${String(m + 1).padStart(2, '0')}-05`;
}

const lastDay = (month: string): string => {
  const [y, m] = month.split('-').map(Number);
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
};

beforeAll(async () => {
  // Month 13 would make the whole file schema-invalid; those lines are tested at unit level.
  cases = generateCases(7, N + 800, { referenceDate: REF, sender: SENDER })
    .filter((c) => !(c.period.kind === 'months' && (/-1[3-9]$/.test(c.period.from) || /-1[3-9]$/.test(c.period.to))))
    .slice(0, N);
  // An integration ending before it starts cannot be registered (the import refuses it): drop it
  // from the case, so the oracle judges exactly what the store holds.
  for (const c of cases) c.integrations = c.integrations.filter((i) => i.endDate === null || i.endDate >= i.startDate);
  // A key (ssin, sector, institution, quality code, start) given twice with another end is a bad
  // row (contract §8): keep the first of each key, in the file and in the case alike.
  for (const c of cases) {
    const keys = new Set<string>();
    c.integrations = c.integrations.filter((i) => {
      const k = `${i.sector}|${i.institutionCbe ?? ''}|${i.qualityCode}|${i.startDate}`;
      if (keys.has(k)) return false;
      keys.add(k);
      return true;
    });
  }
  inst = await makeInstance();
  const persons = ['ssin,replaced_by'];
  const repertory = ['ssin,sector,institution_cbe,quality_code,start_date,end_date'];
  const amounts = ['ssin,partner_ssin,ocmw_cbe,benefit_type,category,month,grant_from,grant_to,amount_cents,paid_on,status'];
  let serial = 1;
  for (const c of cases) {
    if (!isValidSsin(c.ssin, 2026)) continue; // the import refuses such numbers; the line is MSG00011 anyway
    if (c.person) {
      // Any valid number will do as the replacement: the oracle only asks whether there is one.
      const repl = c.person.replacedBy && !isValidSsin(c.person.replacedBy, 2026) ? makeSsin({ year: 1960, month: 1, day: 1 }, serial++ % 999) : c.person.replacedBy;
      persons.push(`${c.ssin},${repl ?? ''}`);
    }
    for (const i of c.integrations) repertory.push(`${c.ssin},${i.sector},${i.institutionCbe ?? ''},${i.qualityCode},${i.startDate},${i.endDate ?? ''}`);
    for (const m of monthsOf(c)) {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) continue;
      amounts.push(`${c.ssin},,${OCMW},LEEFLOON,ISOLATED,${m},${m}-01,${lastDay(m)},100000,${paidOn(m)},DEFINITIVE`);
    }
  }
  for (const [kind, rows] of [
    ['clients', [`client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields`, `fin,${SENDER.cbe},${SENDER.sector},FOD Financiën,LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,${SENDER.allowedQualityCodes.join(' ')},,`]],
    ['persons', persons],
    ['repertory', repertory],
    ['amounts', amounts],
  ] as const) {
    const r = await inst.cli(['import', kind, await inst.writeCsv(`${kind}.csv`, rows.join('\n'))]);
    expect(r.code, r.stderr).toBe(0);
  }
  await writeRequestFile(
    join(inst.dir, 'finality.xml'),
    { fileId: 'FINALITY-1', senderCbe: SENDER.cbe, service: 'LivingWagesWithAmount', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', environment: 'PROD', createdAt: `${REF}T03:00:00Z` },
    cases.map((c) => ({ ssin: c.ssin, role: 'BENEFICIARY' as const, period: c.period })),
  );
}, 180_000);
afterAll(async () => inst?.cleanup());

describe(`finality over ${N} random lines, end to end`, () => {
  it('gives every line the oracle\'s code, and never data where the oracle says MSG00012', async () => {
    const out = join(inst.dir, 'finality.response.xml');
    const r = await inst.cli(['process', join(inst.dir, 'finality.xml'), '-o', out, '--as-of', REF]);
    expect(r.code, r.stderr).toBe(0);
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'Response' });
    const responses = parser.parse(await readFile(out, 'utf8')).BatchResponse.Responses.Response as { Status: { '@code': string }; Year?: unknown; Months?: unknown }[];
    expect(responses).toHaveLength(cases.length);
    const tally: Record<string, number> = {};
    let leaks = 0;
    let disagreements = 0;
    responses.forEach((resp, i) => {
      const verdict = oracle(cases[i]);
      const got = resp.Status['@code'];
      tally[`${verdict.code}→${got}`] = (tally[`${verdict.code}→${got}`] ?? 0) + 1;
      if (!acceptableStatuses(verdict).includes(got)) disagreements++;
      if (verdict.code !== 'ALLOWED' && (resp.Year !== undefined || resp.Months !== undefined)) leaks++;
    });
    await writeFile(join(inst.dir, 'tally.json'), JSON.stringify(tally));
    console.log(`finality e2e: ${cases.length} lines, ${disagreements} disagreements, ${leaks} lines with data the oracle refuses`, tally);
    expect(leaks).toBe(0);
    expect(disagreements).toBe(0);
    // The test can fail: most allowed lines do get data, most refused ones are MSG00012.
    expect(tally['ALLOWED→MSG00000'] ?? 0).toBeGreaterThan(1000);
    expect(tally['MSG00012→MSG00012'] ?? 0).toBeGreaterThan(1000);
  }, 120_000);
});
