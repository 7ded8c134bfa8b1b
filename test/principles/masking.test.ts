// Logging principle, the other side: operational logs must never carry a full SSIN.
// Whatever a caller passes to the logger — strings, nested objects, arrays, Errors, numbers —
// the emitted line has no run of exactly 11 digits, and maskSsin never returns 11 digits.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { makeSsin, maskSsin } from '../../src/domain/ssin.js';
import { LdmError } from '../../src/errors.js';
import { mulberry32 } from './oracle.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);
const BIS = makeSsin({ year: 1980, month: 4, day: 4 }, 11, 'unknown');
/** An SSIN shape: exactly 11 digits, not part of a longer digit run. */
const ELEVEN = /(?<!\d)\d{11}(?!\d)/;

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

class WrappedError extends Error {
  constructor(message: string, readonly ssin: string) {
    super(message);
  }
}

describe('logger never emits an SSIN', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['plain string field', { ssin: A }],
    ['inside a sentence', { msg: `line 12: SSIN ${A} has no integration` }],
    ['several in one string', { msg: `${A},${B};${BIS}` }],
    ['between letters and punctuation', { file: `R-${A}.xml`, q: `"${B}"`, x: `x${BIS}y` }],
    ['as a JSON number', { ssin: Number(A) }],
    ['nested objects', { batch: { lines: [{ seq: 1, request: { ssin: A, partner: { ssin: B } } }] } }],
    ['arrays', { ssins: [A, B, BIS], pairs: [[A, B]] }],
    ['an Error', { err: new Error(`no person ${A}`) }],
    ['an LdmError', { err: new LdmError('NO_PERSON', `unknown SSIN ${B}`) }],
    ['an Error with extra SSIN-bearing properties', { err: new WrappedError(`bad line for ${A}`, BIS) }],
    ['an Error nested in an object', { result: { failed: [{ err: new TypeError(`cannot read ${A}`) }] } }],
    ['an Error with a cause', { err: new Error(`outer ${A}`, { cause: new Error(`inner ${B}`) }) }],
  ];

  it.each(cases)('%s', (_label, fields) => {
    const { lines, log } = capture();
    log.info('event', fields);
    log.error(`event about ${A}`, fields);
    log.child({ ssin: B, ctx: { who: BIS } }).warn('child', fields);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toMatch(ELEVEN);
      for (const s of [A, B, BIS]) expect(line).not.toContain(s);
    }
  });

  it('still logs something useful: the masked form keeps 2 + 2 digits', () => {
    const { lines, log } = capture();
    log.info('x', { ssin: A });
    expect(lines[0]).toContain(maskSsin(A));
  });

  // Gaps this test found once: object keys, an Error's code, the printed form.
  it('an SSIN used as an object key', () => {
    const { lines, log } = capture();
    log.info('counts', { perSsin: { [A]: 3 } });
    expect(lines[0]).not.toMatch(ELEVEN);
  });
  it('an SSIN in an Error code', () => {
    const { lines, log } = capture();
    log.info('err', { err: new LdmError(A, 'boom') });
    expect(lines[0]).not.toMatch(ELEVEN);
  });
  it('the printed form 85.07.30-033.28', () => {
    const { lines, log } = capture();
    const printed = `${A.slice(0, 2)}.${A.slice(2, 4)}.${A.slice(4, 6)}-${A.slice(6, 9)}.${A.slice(9)}`;
    log.info('x', { msg: `person ${printed}` });
    expect(lines[0].replace(/\D/g, '')).not.toContain(A);
  });
});

describe('maskSsin never returns 11 digits', () => {
  it.each([
    ['national number', A],
    ['born 2000+', B],
    ['BIS number', BIS],
    ['wrong check digits', `${A.slice(0, 9)}00`],
    ['12 digits', `${A}1`],
    ['10 digits', A.slice(0, 10)],
    ['with separators', '85.07.30-033.28'],
    ['empty', ''],
    ['letters', 'abcdefghijk'],
  ])('%s', (_label, input) => {
    const m = maskSsin(input);
    expect(m).not.toMatch(/\d{11}/);
    expect(m.replace(/\D/g, '').length).toBeLessThanOrEqual(4);
  });

  it('10,000 random 11-digit strings', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 10_000; i++) {
      const s = Array.from({ length: 11 }, () => String(Math.floor(r() * 10))).join('');
      const m = maskSsin(s);
      expect(m).toMatch(/^\d{2}\*{7}\d{2}$/);
      expect(m).not.toContain(s);
    }
  });
});
