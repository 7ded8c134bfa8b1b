// The hot path of the response writer: `<Response>` elements encoded straight into a byte buffer
// (UTF-8, exc-c14n form), without building a string per line. A million lines are about 600 MB of
// XML: as strings they were as much young garbage again, and flattening and encoding them cost more
// than the rules that computed them (README "Benchmark").
//
// Same output as the string serializers in c14n.ts, byte for byte: attributes in canonical order,
// written by hand; values made only of printable ASCII that needs no escaping (codes, digits,
// dates: nearly everything) are copied byte by byte, anything else goes through escapeAttr /
// escapeText and Buffer's UTF-8 encoder. test/response/c14n.test.ts compares with the generic
// serializer.
import { STATUS_VALUE, type ProfiledMonthEntry, type ProfiledResponseLine, type ProfiledYearTotal, type StatusCode } from '../interfaces.js';
import { escapeAttr, escapeText } from './c14n.js';

/** Buffer#utf8Write without its argument handling. */
const utf8Write = (Buffer.prototype as unknown as { utf8Write(this: Buffer, s: string, offset: number): number }).utf8Write;

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

const RESPONSE_OPEN = bytes('    <Response seq="');
const RESPONSE_OPEN_END = bytes('">\n');
const TICKET_OPEN = bytes('      <Ticket>');
const TICKET_CLOSE = bytes('</Ticket>\n');
const SSIN_OPEN = bytes('      <Ssin>');
const SSIN_CLOSE = bytes('</Ssin>\n');
const NEW_SSIN = bytes(' newSsin="');
const YEAR_OPEN = bytes('      <Year year="');
const YEAR_CLOSE = bytes('      </Year>\n');
const MONTHS_OPEN = bytes('      <Months');
const MONTHS_CLOSE = bytes('      </Months>\n');
const LAST_PAID = bytes(' lastMonthIsLastPaid="');
const RESPONSE_CLOSE = bytes('    </Response>\n');
const TOTAL_OPEN = bytes('        <Total');
const TOTAL_CLOSE = bytes('</Total>\n');
const TOTAL_CLOSE_BLOCK = bytes('        </Total>\n');
const PARTNER_OPEN = bytes('          <Partner ssin="');
const PARTNER_CLOSE = bytes('"></Partner>\n');
const MONTH_OPEN = bytes('        <Month');
const MONTH_CLOSE = bytes('></Month>\n');
const MONTH_ATTR = bytes(' month="');
const TRUE = bytes('true"');
const FALSE = bytes('false"');
const QUOTE_GT_NL = bytes('">\n');
const GT_NL = bytes('>\n');

const ATTR = {
  amountCents: bytes(' amountCents="'),
  beneficiarySsin: bytes(' beneficiarySsin="'),
  benefitType: bytes(' benefitType="'),
  category: bytes(' category="'),
  from: bytes(' from="'),
  fullMonth: bytes(' fullMonth="'),
  fullYear: bytes(' fullYear="'),
  months: bytes(' months="'),
  ocmw: bytes(' ocmw="'),
  partnerSsin: bytes(' partnerSsin="'),
  provisional: bytes(' provisional="'),
  to: bytes(' to="'),
} as const;

/** Printable ASCII but the characters c14n escapes there: " & < in attribute values, & < > in text. */
const PLAIN_IN_ATTR = plainAscii('"&<');
const PLAIN_IN_TEXT = plainAscii('&<>');

function plainAscii(special: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0x20; c <= 0x7e; c++) t[c] = special.includes(String.fromCharCode(c)) ? 0 : 1;
  return t;
}

/** `<Status code="…"` and ` value="…"></Status>\n` of each code. */
const STATUS_BYTES = new Map<string, { code: Uint8Array; value: Uint8Array }>(
  (Object.keys(STATUS_VALUE) as StatusCode[]).map((c) => [c, { code: bytes(`      <Status code="${c}"`), value: bytes(` value="${STATUS_VALUE[c]}"></Status>\n`) }]),
);

/**
 * Room for an element's fixed parts (all of a Month's or Total's but its values are under 300
 * bytes). Each element makes this much room first, and each value makes room for itself plus
 * this much again, so the fixed parts written after it fit too: a write past the buffer's end
 * would be lost without a word (typed arrays ignore it).
 */
const ELEMENT_ROOM = 512;

/**
 * A byte buffer the lines are encoded into (`buf[0 … used)`). The response writer's output
 * extends it: it hands the filled part to the stream and starts a new buffer.
 */
export class LineEncoder {
  protected buf: Buffer;
  protected used = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** What was encoded so far, as a string. */
  written(): string {
    return this.buf.toString('utf8', 0, this.used);
  }

  /** Makes room for `n` more bytes. */
  protected room(n: number): void {
    if (this.used + n > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.used + n, 2 * this.buf.length));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
  }

  /** Appends a string as UTF-8 (the parts off the hot path: header, trailer, rights…). */
  protected addString(s: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 for 2 units).
    this.room(3 * s.length);
    this.used += utf8Write.call(this.buf, s, this.used);
  }

  private put(b: Uint8Array): void {
    const buf = this.buf;
    let u = this.used;
    for (let i = 0; i < b.length; i++) buf[u++] = b[i];
    this.used = u;
  }

  private int(v: number, what: string): void {
    if (!Number.isSafeInteger(v)) throw new Error(`${what} must be an integer, got ${v}`);
    const buf = this.buf;
    let u = this.used;
    if (v < 0) {
      buf[u++] = 0x2d;
      v = -v;
    }
    if (v < 0x80000000) {
      // Small integers (seq, cents, years: nearly all) in int32 arithmetic, digits from the right.
      let x = v | 0;
      u += x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7 : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10;
      let p = u;
      do {
        const q = (x / 10) | 0;
        buf[--p] = 0x30 + x - q * 10;
        x = q;
      } while (x !== 0);
      this.used = u;
      return;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    u += digits;
    for (let i = 1; i <= digits; i++) {
      buf[u - i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.used = u;
  }

  /** An attribute value, escaped (c14n); the plain-ASCII common case byte by byte. */
  private attr(s: string): void {
    this.value(s, PLAIN_IN_ATTR, escapeAttr);
  }

  /** Text content, escaped (c14n). */
  private text(s: string): void {
    this.value(s, PLAIN_IN_TEXT, escapeText);
  }

  private value(s: string, plain: Uint8Array, escape: (s: string) => string): void {
    const n = s.length;
    // An escape is at most 6 bytes (&quot;) for one unit; past the value, the room its element's
    // fixed parts may still need.
    this.room(6 * n + ELEMENT_ROOM);
    const buf = this.buf;
    const start = this.used;
    let u = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7e || plain[c] === 0) {
        this.used = start + utf8Write.call(buf, escape(s), start);
        return;
      }
      buf[u++] = c;
    }
    this.used = u;
  }

  private optAttr(name: Uint8Array, v: string | undefined): void {
    if (v === undefined) return;
    this.put(name);
    this.attr(v);
    this.buf[this.used++] = 0x22;
  }

  private optInt(name: Uint8Array, v: number | undefined, what: string): void {
    if (v === undefined) return;
    this.put(name);
    this.int(v, what);
    this.buf[this.used++] = 0x22;
  }

  private optBool(name: Uint8Array, v: boolean | undefined): void {
    if (v === undefined) return;
    this.put(name);
    this.put(v ? TRUE : FALSE);
  }

  // Every attribute but year/month may be left out by the client's field profile (proportionality).
  private total(t: ProfiledYearTotal): void {
    this.room(ELEMENT_ROOM);
    // canonical order: amountCents beneficiarySsin benefitType category fullYear months ocmw partnerSsin provisional
    this.put(TOTAL_OPEN);
    this.optInt(ATTR.amountCents, t.amountCents, 'amountCents');
    this.optAttr(ATTR.beneficiarySsin, t.beneficiarySsin);
    this.optAttr(ATTR.benefitType, t.benefitType);
    this.optAttr(ATTR.category, t.category);
    this.optBool(ATTR.fullYear, t.fullYear);
    this.optInt(ATTR.months, t.months, 'months');
    this.optAttr(ATTR.ocmw, t.ocmw);
    this.optAttr(ATTR.partnerSsin, t.partnerSsin);
    this.optBool(ATTR.provisional, t.provisional);
    if (t.partners === undefined || t.partners.length === 0) {
      this.buf[this.used++] = 0x3e;
      this.put(TOTAL_CLOSE);
      return;
    }
    this.put(GT_NL);
    for (const p of t.partners) {
      this.room(ELEMENT_ROOM);
      this.put(PARTNER_OPEN);
      this.attr(p);
      this.put(PARTNER_CLOSE);
    }
    this.room(ELEMENT_ROOM);
    this.put(TOTAL_CLOSE_BLOCK);
  }

  private month(m: ProfiledMonthEntry): void {
    this.room(ELEMENT_ROOM);
    // canonical order: amountCents beneficiarySsin benefitType category from fullMonth month ocmw partnerSsin provisional to
    this.put(MONTH_OPEN);
    this.optInt(ATTR.amountCents, m.amountCents, 'amountCents');
    this.optAttr(ATTR.beneficiarySsin, m.beneficiarySsin);
    this.optAttr(ATTR.benefitType, m.benefitType);
    this.optAttr(ATTR.category, m.category);
    this.optAttr(ATTR.from, m.from);
    this.optBool(ATTR.fullMonth, m.fullMonth);
    this.put(MONTH_ATTR);
    this.attr(m.month);
    this.buf[this.used++] = 0x22;
    this.optAttr(ATTR.ocmw, m.ocmw);
    this.optAttr(ATTR.partnerSsin, m.partnerSsin);
    this.optBool(ATTR.provisional, m.provisional);
    this.optAttr(ATTR.to, m.to);
    this.put(MONTH_CLOSE);
  }

  /**
   * One `<Response>` element, indented, ending with a newline. Rights and Handicap answers (not
   * the million-line services) are serialized as strings by `rest` and appended.
   */
  responseLine(line: ProfiledResponseLine, rest: (line: ProfiledResponseLine) => string): void {
    const status = STATUS_BYTES.get(line.status);
    if (status === undefined) throw new Error(`line ${line.seq}: unknown status code ${String(line.status)}`);
    // Short-circuits on the common case (an amounts line has no rights) to keep the hot path cheap.
    if (line.year !== undefined ? line.months !== undefined || line.rights !== undefined : line.months !== undefined && line.rights !== undefined) {
      throw new Error(`line ${line.seq}: a response carries one answer (Year, Months or Rights), not both`);
    }
    this.room(ELEMENT_ROOM);
    this.put(RESPONSE_OPEN);
    this.int(line.seq, 'seq');
    this.put(RESPONSE_OPEN_END);
    if (line.ticket !== undefined) {
      this.put(TICKET_OPEN);
      this.text(line.ticket);
      this.put(TICKET_CLOSE);
    }
    this.put(SSIN_OPEN);
    this.text(line.ssin);
    this.put(SSIN_CLOSE);
    // canonical order: code newSsin value
    this.put(status.code);
    this.optAttr(NEW_SSIN, line.newSsin);
    this.room(ELEMENT_ROOM);
    this.put(status.value);
    if (line.year !== undefined) {
      this.put(YEAR_OPEN);
      this.int(line.year.year, 'year');
      this.put(QUOTE_GT_NL);
      for (const t of line.year.totals) this.total(t);
      this.room(ELEMENT_ROOM);
      this.put(YEAR_CLOSE);
    } else if (line.months !== undefined) {
      this.put(MONTHS_OPEN);
      this.optBool(LAST_PAID, line.months.lastMonthIsLastPaid);
      this.put(GT_NL);
      for (const m of line.months.entries) this.month(m);
      this.room(ELEMENT_ROOM);
      this.put(MONTHS_CLOSE);
    } else if (line.rights !== undefined || line.handicap !== undefined) {
      this.addString(rest(line));
      this.room(ELEMENT_ROOM);
    }
    this.put(RESPONSE_CLOSE);
  }
}
