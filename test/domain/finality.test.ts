import { describe, expect, it } from 'vitest';
import type { Integration } from '../../src/interfaces.js';
import { findIntegration, normalizeCode } from '../../src/domain/finality.js';

const SENDER = '0308357159';
const CTX = { senderCbe: SENDER, sector: 17, allowedQualityCodes: [1, 3] };
const PERIOD = { from: '2025-01-01', to: '2025-12-31' };

const integ = (over: Partial<Integration>): Integration => ({
  ssin: '85073003328',
  sector: 17,
  institutionCbe: SENDER,
  qualityCode: 1,
  startDate: '2024-01-01',
  endDate: '2026-12-31',
  ...over,
});

describe('findIntegration: one candidate', () => {
  it.each([
    ['covers the whole period', integ({}), true],
    ['ends the day before the period starts', integ({ endDate: '2024-12-31' }), false],
    ['starts the day after the period ends', integ({ startDate: '2026-01-01', endDate: null }), false],
    ['ends exactly on the first day', integ({ endDate: '2025-01-01' }), true],
    ['starts exactly on the last day', integ({ startDate: '2025-12-31', endDate: '2026-06-30' }), true],
    ['open-ended, started long ago', integ({ startDate: '2010-05-01', endDate: null }), true],
    ['wrong sector', integ({ sector: 18 }), false],
    ['quality code not allowed', integ({ qualityCode: 2 }), false],
    ['another allowed quality code', integ({ qualityCode: 3 }), true],
    ['other institution', integ({ institutionCbe: '0000000097' }), false],
    ['sector level (no institution), the sender\'s sector', integ({ institutionCbe: null }), true],
    ['sector level of another sector', integ({ institutionCbe: null, sector: 26 }), false],
    ['sector level, quality code not allowed', integ({ institutionCbe: null, qualityCode: 2 }), false],
    ['sector level, ended before the period', integ({ institutionCbe: null, endDate: '2024-12-31' }), false],
  ])('%s → %s', (_label, candidate, found) => {
    expect(findIntegration([candidate], CTX, PERIOD)).toBe(found ? candidate : undefined);
  });

  it('no integrations → undefined', () => {
    expect(findIntegration([], CTX, PERIOD)).toBeUndefined();
  });

  it('no allowed quality codes → undefined', () => {
    expect(findIntegration([integ({})], { ...CTX, allowedQualityCodes: [] }, PERIOD)).toBeUndefined();
  });
});

describe('findIntegration: deterministic choice', () => {
  const late = integ({ startDate: '2025-03-01', qualityCode: 1 });
  const earlyQ3 = integ({ startDate: '2024-06-01', qualityCode: 3 });
  const earlyQ1 = integ({ startDate: '2024-06-01', qualityCode: 1 });
  const nonMatching = integ({ startDate: '2000-01-01', sector: 99 });

  it.each([
    ['earliest start wins', [late, earlyQ3], earlyQ3],
    ['same start: lowest quality code wins', [earlyQ3, earlyQ1], earlyQ1],
    ['input order does not matter', [late, earlyQ1, earlyQ3], earlyQ1],
    ['non-matching earlier ones are skipped', [nonMatching, late], late],
  ])('%s', (_label, list, expected) => {
    const before = [...list];
    expect(findIntegration(list, CTX, PERIOD)).toBe(expected);
    expect(list).toEqual(before); // input untouched
  });
});

describe('normalizeCode', () => {
  it.each([
    ['1', 1],
    ['01', 1],
    ['001', 1],
    ['17', 17],
    ['0', 0],
    ['000', 0],
  ])('%s → %i', (s, n) => {
    expect(normalizeCode(s)).toBe(n);
  });

  it.each(['', ' 1', '1 ', '-1', '+1', '1.0', 'A1', '1e3', '99999999999999999999'])('throws on "%s"', (s) => {
    expect(() => normalizeCode(s)).toThrow(RangeError);
  });
});
