import { describe, expect, it } from 'vitest';
import { STATUS_VALUE, type Category, type MonthEntry, type ProfiledMonthEntry, type ProfiledResponseLine, type ResponseLine, type YearTotal } from '../../src/interfaces.js';
import { element, endTag, escapeAttr, escapeText, startTag } from '../../src/response/c14n.js';
import { responseFileName, responseLineXml } from '../../src/response/writer.js';
import { LINES } from './fixtures.js';

describe('c14n helpers', () => {
  it('escapes text as C14N does: & < > CR only', () => {
    expect(escapeText(`a&b<c>d"e'f\rg\th\ni`)).toBe(`a&amp;b&lt;c&gt;d"e'f&#xD;g\th\ni`);
    expect(escapeText('plain 123')).toBe('plain 123');
    expect(escapeText('&&')).toBe('&amp;&amp;');
  });

  it('escapes attribute values as C14N does: & < " TAB LF CR only', () => {
    expect(escapeAttr(`a&b<c>d"e'f\rg\th\ni`)).toBe(`a&amp;b&lt;c>d&quot;e'f&#xD;g&#x9;h&#xA;i`);
    expect(escapeAttr('é€𝄞')).toBe('é€𝄞');
  });

  it('refuses characters that XML 1.0 cannot represent', () => {
    expect(() => escapeText('\u0000')).toThrow(/XML 1.0/);
    expect(() => escapeAttr('\u001F')).toThrow(/XML 1.0/);
    expect(() => escapeText('\uFFFE')).toThrow(/XML 1.0/);
    expect(() => escapeText('\uDC00x')).toThrow(/XML 1.0/);
    expect(() => escapeText('x\uD83D')).toThrow(/XML 1.0/);
    expect(escapeText('\uD834\uDD1E')).toBe('𝄞'); // a proper pair is fine
  });

  it('sorts attributes (namespace declarations first), skips undefined, writes booleans and numbers', () => {
    expect(startTag('X', { z: 1, a: 'v', m: undefined, b: true, c: false })).toBe('<X a="v" b="true" c="false" z="1">');
    expect(startTag('X', { b: '1', 'xmlns:ds': 'urn:d', xmlns: 'urn:x', a: '2' })).toBe('<X xmlns="urn:x" xmlns:ds="urn:d" a="2" b="1">');
    // code-point order, not locale order: upper case before lower case
    expect(startTag('X', { b: '1', B: '2', a: '3' })).toBe('<X B="2" a="3" b="1">');
    expect(() => startTag('X', { n: Number.NaN })).toThrow(/finite/);
    expect(endTag('X')).toBe('</X>');
  });

  it('never self-closes an element', () => {
    expect(element('Status', { value: 'NO_RESULT', code: 'MSG00005' })).toBe('<Status code="MSG00005" value="NO_RESULT"></Status>');
    expect(element('A', {}, '')).toBe('<A></A>');
    expect(element('A', {}, 'x<y')).toBe('<A>x&lt;y</A>');
  });
});

describe('responseFileName', () => {
  it('follows contract §2', () => {
    expect(responseFileName('R.xml')).toBe('R.response.xml');
    expect(responseFileName('FIN-2026-000001.xml')).toBe('FIN-2026-000001.response.xml');
    expect(responseFileName('batch.XML')).toBe('batch.response.xml');
    expect(responseFileName('noext')).toBe('noext.response.xml');
    expect(responseFileName('a.xml.part')).toBe('a.xml.part.response.xml');
  });
});

// Reference serializer built only from the generic helpers; the writer's hand-ordered hot path
// must produce the same bytes.
function reference(line: ProfiledResponseLine): string {
  const i = (n: number): string => ' '.repeat(n);
  let s = `${i(4)}${startTag('Response', { seq: line.seq })}\n`;
  if (line.ticket !== undefined) s += `${i(6)}${element('Ticket', {}, line.ticket)}\n`;
  s += `${i(6)}${element('Ssin', {}, line.ssin)}\n`;
  s += `${i(6)}${element('Status', { value: STATUS_VALUE[line.status], code: line.status, newSsin: line.newSsin })}\n`;
  if (line.year) {
    s += `${i(6)}${startTag('Year', { year: line.year.year })}\n`;
    for (const t of line.year.totals) {
      const { partners, ...attrs } = t;
      if (partners && partners.length > 0) {
        s += `${i(8)}${startTag('Total', attrs)}\n`;
        for (const p of partners) s += `${i(10)}${element('Partner', { ssin: p })}\n`;
        s += `${i(8)}${endTag('Total')}\n`;
      } else s += `${i(8)}${element('Total', attrs)}\n`;
    }
    s += `${i(6)}${endTag('Year')}\n`;
  }
  if (line.months) {
    s += `${i(6)}${startTag('Months', { lastMonthIsLastPaid: line.months.lastMonthIsLastPaid })}\n`;
    for (const m of line.months.entries) s += `${i(8)}${element('Month', { ...m })}\n`;
    s += `${i(6)}${endTag('Months')}\n`;
  }
  return `${s}${i(4)}${endTag('Response')}\n`;
}

describe('writer hot path', () => {
  it('matches the generic canonical serializer on the sample lines', () => {
    for (const l of LINES) expect(responseLineXml(l)).toBe(reference(l));
  });

  it('matches it on generated lines with every optional field present or absent', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const maybe = (v: string): string | undefined => (rnd() < 0.5 ? v : undefined);
    for (let n = 1; n <= 300; n++) {
      const total = (): YearTotal => ({
        ocmw: `02${n}`,
        benefitType: 'CHILD_BENEFIT_ADVANCE',
        category: 'FAMILY',
        amountCents: Math.floor(rnd() * 2e6) - 1e6,
        months: n % 13,
        fullYear: rnd() < 0.5,
        provisional: rnd() < 0.5,
        partnerSsin: maybe('90010100123'),
        beneficiarySsin: maybe(`7&0<"${n}`),
        partners: rnd() < 0.3 ? ['1', '2'] : rnd() < 0.5 ? [] : undefined,
      });
      const month = (): MonthEntry => ({
        month: '2025-03',
        ocmw: `0${n}`,
        benefitType: 'LEEFLOON',
        category: 'COHABITANT',
        amountCents: n,
        from: '2025-03-02',
        to: '2025-03-30',
        fullMonth: rnd() < 0.5,
        provisional: rnd() < 0.5,
        partnerSsin: maybe('1\t2'),
        beneficiarySsin: maybe('3\n4'),
      });
      const kind = rnd();
      const line: ResponseLine = {
        seq: n,
        ticket: maybe(`t${n}&\r`),
        ssin: '85073003328',
        status: 'MSG00000',
        newSsin: maybe('85073003427'),
        ...(kind < 0.4
          ? { year: { year: 2025, totals: [total(), total()] } }
          : kind < 0.8
            ? { months: { lastMonthIsLastPaid: rnd() < 0.5, entries: [month(), month(), month()] } }
            : {}),
      };
      expect(responseLineXml(line)).toBe(reference(line));
    }
  });

  it('writes every integer as the generic serializer does, at each digit count and around 2^31', () => {
    const edges = [0, -0, 1, -1, 9, 10, 99, 100, 999_999_999, 1_000_000_000, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    for (let d = 1; d <= 15; d++) edges.push(10 ** d - 1, 10 ** d, -(10 ** d));
    for (const v of edges) {
      const line: ProfiledResponseLine = { seq: Math.abs(v), ssin: '85073003328', status: 'MSG00000', months: { lastMonthIsLastPaid: true, entries: [{ month: '2025-01', amountCents: v }] } };
      expect(responseLineXml(line)).toBe(reference(line));
    }
  });

  // The hot path encodes into a byte buffer that grows as it goes (lineBytes.ts): values far
  // longer than an element's reserved room, non-ASCII text, and many entries cross its growth.
  it('matches it on long and non-ASCII values and long answers (the byte buffer grows mid-element)', () => {
    const long = (c: string, n: number): string => c.repeat(n);
    for (const [value, ticket] of [
      [long('é', 3000), long('€', 1500)],
      [`${long('x', 5000)}"&<`, `${long('😀', 700)}>`],
      [long('a', 200), undefined],
    ] as const) {
      const months: ProfiledMonthEntry[] = [];
      for (let m = 0; m < 200; m++) {
        months.push({ month: `2025-${String((m % 12) + 1).padStart(2, '0')}`, ocmw: value, benefitType: 'LEEFLOON', category: value.slice(0, 50) as Category, amountCents: -m * 1_000_003, from: '2025-01-01', to: '2025-01-31', fullMonth: m % 2 === 0, provisional: false });
      }
      const line: ProfiledResponseLine = { seq: Number.MAX_SAFE_INTEGER, ticket, ssin: '85073003328', status: 'MSG00000', months: { lastMonthIsLastPaid: true, entries: months } };
      expect(responseLineXml(line)).toBe(reference(line));
      const year: ProfiledResponseLine = { seq: 1, ssin: value, status: 'MSG00000', year: { year: 2025, totals: [{ ocmw: value, amountCents: 0, months: 12, partners: [value, 'b'] }] } };
      expect(responseLineXml(year)).toBe(reference(year));
    }
  });

  it('refuses what XML cannot carry, and numbers that are not integers', () => {
    const line: ProfiledResponseLine = { seq: 1, ssin: '85073003328', status: 'MSG00000', months: { entries: [{ month: '2025-01', ocmw: 'a\u0001b' }] } };
    expect(() => responseLineXml(line)).toThrow(/cannot represent/);
    expect(() => responseLineXml({ ...line, months: { entries: [{ month: '2025-01', amountCents: 1.5 }] } })).toThrow(/amountCents must be an integer/);
    expect(() => responseLineXml({ ...line, seq: 2 ** 53 })).toThrow(/seq must be an integer/);
    expect(() => responseLineXml({ ...line, ticket: '\uD800' })).toThrow(/cannot represent/);
  });
});
