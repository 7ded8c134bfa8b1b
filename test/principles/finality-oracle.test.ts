// Finality under fire: ≥ 10,000 seeded random lines with adversarial integrations, decided by the
// product's rules (findIntegration + decideLine, wired as services/amounts/resolve.ts wires them)
// and by the independent oracle of ./oracle.ts. They must agree on every line; above all, no line
// may be let through to its data where the oracle says MSG00012.
import { describe, expect, it } from 'vitest';
import type { Integration } from '../../src/interfaces.js';
import { findIntegration } from '../../src/domain/finality.js';
import { decideLine } from '../../src/domain/lineStatus.js';
import { periodBounds } from '../../src/domain/period.js';
import { generateCases, oracle, SENDERS, type OracleCase, type OracleCode } from './oracle.js';

const SEED = 20260115;
const LINES = 20_000;

/** The product's decision, composed exactly as resolve.ts does (an unboundable period finds nothing). */
function product(c: OracleCase): { code: OracleCode; integration: Integration | undefined } {
  let integration: Integration | undefined;
  try {
    integration = findIntegration(c.integrations, { senderCbe: c.sender.cbe, sector: c.sender.sector, allowedQualityCodes: c.sender.allowedQualityCodes }, periodBounds(c.period));
  } catch {
    integration = undefined;
  }
  const d = decideLine({
    ssin: c.ssin,
    period: c.period,
    service: 'LivingWagesWithAmount',
    referenceDate: c.referenceDate,
    person: c.person,
    integrationFound: integration !== undefined,
  });
  return { code: d.code === 'CONTINUE' ? 'ALLOWED' : d.code, integration };
}

/** The integration findIntegration promises: earliest start, then lowest quality code. */
function expectedChoice(allowing: Integration[]): Integration | undefined {
  return [...allowing].sort((a, b) => (a.startDate < b.startDate ? -1 : a.startDate > b.startDate ? 1 : a.qualityCode - b.qualityCode))[0];
}

describe('finality: product rules vs an independent oracle', () => {
  const cases = generateCases(SEED, LINES);
  const tally = new Map<OracleCode, number>();
  const disagreements: string[] = [];
  let leaks = 0; // data where the oracle says MSG00012
  let wrongChoice = 0; // allowed, but not through the integration the audit should name

  for (const c of cases) {
    const want = oracle(c);
    const got = product(c);
    tally.set(want.code, (tally.get(want.code) ?? 0) + 1);
    if (want.code === 'MSG00012' && got.code === 'ALLOWED') leaks++;
    if (want.code !== got.code) {
      disagreements.push(`oracle ${want.code}, product ${got.code}: ${JSON.stringify(c)}`);
      continue;
    }
    if (want.code === 'ALLOWED') {
      const choice = expectedChoice(want.allowing);
      if (got.integration === undefined || choice === undefined || got.integration.startDate !== choice.startDate || got.integration.qualityCode !== choice.qualityCode) wrongChoice++;
    }
  }

  it(`decides ${LINES} lines`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(10_000);
    // Printed for the report: how the seeded mix spreads over the codes.
    console.log(`finality oracle: ${cases.length} lines, ${disagreements.length} disagreements, ${leaks} leaks;`, Object.fromEntries([...tally].sort()));
  });

  it('covers every refusal reason and plenty of allowed lines', () => {
    for (const code of ['MSG00011', 'MSG00005', 'MSG00006', 'MSG00008'] as const) expect(tally.get(code) ?? 0).toBeGreaterThan(200);
    expect(tally.get('MSG00012') ?? 0).toBeGreaterThan(2_000);
    expect(tally.get('ALLOWED') ?? 0).toBeGreaterThan(2_000);
  });

  it('no line gets data where the oracle says MSG00012', () => {
    expect(leaks).toBe(0);
  });

  it('zero disagreements', () => {
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(disagreements.length).toBe(0);
  });

  it('an allowed line names the earliest matching integration (what the audit records)', () => {
    expect(wrongChoice).toBe(0);
  });

  it('the same seed gives the same cases; SSINs are unique', () => {
    expect(generateCases(SEED, 50)).toEqual(generateCases(SEED, 50));
    expect(new Set(cases.map((c) => c.ssin)).size).toBe(cases.length);
  });

  it('one batch: a fixed reference date and sender still give zero disagreements', () => {
    const batch = generateCases(SEED + 1, 10_000, { referenceDate: '2026-01-15', sender: SENDERS[0] });
    expect(batch.every((c) => c.referenceDate === '2026-01-15' && c.sender === SENDERS[0])).toBe(true);
    const bad = batch.filter((c) => oracle(c).code !== product(c).code);
    expect(bad.slice(0, 3)).toEqual([]);
  });
});

describe('oracle: hand-checked boundary cases', () => {
  const sender = { cbe: '0308357159', sector: 17, allowedQualityCodes: [1] };
  const ssin = '85073003328';
  const person = { ssin, replacedBy: null };
  const integ = (startDate: string, endDate: string | null, over: Partial<Integration> = {}): Integration => ({
    ssin,
    sector: 17,
    institutionCbe: sender.cbe,
    qualityCode: 1,
    startDate,
    endDate,
    ...over,
  });
  const year2025 = { kind: 'year', year: 2025 } as const;
  const feb2024 = { kind: 'months', from: '2024-02', to: '2024-02' } as const;

  it.each([
    ['ends the day before', 'MSG00012', year2025, [integ('2020-01-01', '2024-12-31')]],
    ['ends on the first day', 'ALLOWED', year2025, [integ('2020-01-01', '2025-01-01')]],
    ['starts the day after', 'MSG00012', year2025, [integ('2026-01-01', null)]],
    ['starts on the last day', 'ALLOWED', year2025, [integ('2025-12-31', null)]],
    ['29 February is in February 2024', 'ALLOWED', feb2024, [integ('2024-02-29', '2024-03-31')]],
    ['1 March is not', 'MSG00012', feb2024, [integ('2024-03-01', null)]],
    ['wrong sector', 'MSG00012', year2025, [integ('2020-01-01', null, { sector: 18 })]],
    ['quality code not allowed', 'MSG00012', year2025, [integ('2020-01-01', null, { qualityCode: 7 })]],
    ['other institution', 'MSG00012', year2025, [integ('2020-01-01', null, { institutionCbe: '0411702543' })]],
  ] as const)('%s → %s', (_label, code, period, integrations) => {
    expect(oracle({ ssin, period, referenceDate: '2026-01-15', person, integrations: [...integrations], sender }).code).toBe(code);
  });

  // Check digits computed by hand: 97 − (first nine mod 97), with a '2' prefixed from 2000 on.
  it.each([
    ['national number', '85073003328', true],
    ['wrong check digits', '85073003329', false],
    ['BIS, gender unknown (month + 20)', '85273003371', true],
    ['BIS, gender known (month + 40)', '85473003317', true],
    ['born 2001 (2-prefixed check)', '01020301259', true],
    ['born 1901 check on a 2001 number', '01020301230', true], // the century is not in the number: both variants count
    ['month field 15', '85153003300', false],
  ] as const)('SSIN %s (%s) → valid %s', (_label, s, valid) => {
    const v = oracle({ ssin: s, period: year2025, referenceDate: '2026-01-15', person: { ssin: s, replacedBy: null }, integrations: [integ('2020-01-01', null, { ssin: s })], sender });
    expect(v.code === 'MSG00011').toBe(!valid);
  });
});
