// The hot path of the response writer: `<Response>` elements encoded straight into a byte buffer
// (UTF-8, exc-c14n form), without building a string per line. A million lines are about 600 MB of
// XML: as strings they were as much young garbage again, and flattening and encoding them cost more
// than the rules that computed them (README "Benchmark").
//
// Same output as the string serializers in c14n.ts, byte for byte: attributes in canonical order,
// written by hand; values made only of printable ASCII that needs no escaping (codes, digits,
// dates: nearly everything) are copied byte by byte (constant runs a 32-bit word at a time), anything else goes through escapeAttr /
// escapeText and Buffer's UTF-8 encoder. test/response/c14n.test.ts compares with the generic
// serializer.
//
// The amounts service's answers are written straight from the rules' answer columns
// (yearAnswer, monthsAnswer: no answer objects on the hot path), into EncodedLines that the
// resolver hands the writer; test/response/answerColumns.test.ts checks them against the objects.
import { STATUS_VALUE, type ProfiledMonthEntry, type ProfiledResponseLine, type ProfiledYearTotal, type StatusCode } from '../interfaces.js';
import { escapeAttr, escapeText } from './c14n.js';
import type { AnswerGroups } from '../domain/aggregate.js';

/** Buffer#utf8Write without its argument handling. */
const utf8Write = (Buffer.prototype as unknown as { utf8Write(this: Buffer, s: string, offset: number): number }).utf8Write;

/**
 * A byte run written as a whole: little-endian 32-bit words (the last one padded), which put()
 * writes a word at a time through a DataView: at these lengths (10–30 bytes) about twice as fast
 * as byte by byte, and faster than TypedArray#set (measured, README "Benchmark"). The padding
 * lands past `used`, within the room each element makes first, and what follows overwrites it.
 */
interface Run {
  readonly n: number;
  readonly w: Int32Array;
}

function runOf(b: Uint8Array): Run {
  const w = new Int32Array(Math.ceil(b.length / 4));
  const padded = new Uint8Array(w.length * 4);
  padded.set(b);
  const v = new DataView(padded.buffer);
  for (let i = 0; i < w.length; i++) w[i] = v.getInt32(4 * i, true);
  return { n: b.length, w };
}

const bytes = (s: string): Run => runOf(new Uint8Array(Buffer.from(s, 'latin1')));

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
const STATUS_BYTES = new Map<string, { code: Run; value: Run }>(
  (Object.keys(STATUS_VALUE) as StatusCode[]).map((c) => [c, { code: bytes(`      <Status code="${c}"`), value: bytes(` value="${STATUS_VALUE[c]}"></Status>\n`) }]),
);

/**
 * The optional attributes of an amounts answer, as bits: a client's field profile says which it
 * receives (services/amounts/profile.ts amountAttrMask). partnerSsin also covers a Total's <Partner>
 * children, which name partners just as the attribute does.
 */
export const AMOUNT_ATTR = {
  amountCents: 1 << 0,
  beneficiarySsin: 1 << 1,
  benefitType: 1 << 2,
  category: 1 << 3,
  from: 1 << 4,
  fullMonth: 1 << 5,
  fullYear: 1 << 6,
  months: 1 << 7,
  ocmw: 1 << 8,
  partnerSsin: 1 << 9,
  provisional: 1 << 10,
  to: 1 << 11,
  lastMonthIsLastPaid: 1 << 12,
} as const;
export const ALL_AMOUNT_ATTRS = (1 << 13) - 1;

/**
 * A string table's values as whole attributes ` name="value"` (escaped, UTF-8), per attribute,
 * made the first time a value is written: one copy per attribute instead of name, value and
 * quote. Kept per table (a read model's table is a few thousand codes, dates and CBE numbers).
 */
interface TableRuns {
  benefitType: (Run | undefined)[];
  category: (Run | undefined)[];
  from: (Run | undefined)[];
  month: (Run | undefined)[];
  ocmw: (Run | undefined)[];
  to: (Run | undefined)[];
}

const tableRunsOf = new WeakMap<readonly string[], TableRuns>();

function tableRuns(strings: readonly string[]): TableRuns {
  let t = tableRunsOf.get(strings);
  if (t === undefined) {
    const n = strings.length;
    t = { benefitType: new Array(n), category: new Array(n), from: new Array(n), month: new Array(n), ocmw: new Array(n), to: new Array(n) };
    tableRunsOf.set(strings, t);
  }
  return t;
}

/** ` name="value"` of strings[i], made once. */
function attrRun(runs: (Run | undefined)[], name: string, strings: readonly string[], i: number): Run {
  let r = runs[i];
  if (r === undefined) {
    r = runOf(new Uint8Array(Buffer.from(` ${name}="${escapeAttr(strings[i])}"`, 'utf8')));
    runs[i] = r;
  }
  return r;
}

/** ` name="true"` and ` name="false"`. */
const flagRuns = (name: string): readonly [Run, Run] => [bytes(` ${name}="false"`), bytes(` ${name}="true"`)];
const FLAG = {
  fullMonth: flagRuns('fullMonth'),
  fullYear: flagRuns('fullYear'),
  provisional: flagRuns('provisional'),
  lastMonthIsLastPaid: flagRuns('lastMonthIsLastPaid'),
} as const;

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
  /** Over `buf`, for put()'s word writes (setBuffer keeps the two together). */
  private view: DataView;
  protected used = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Encodes into `b` from now on (its first `used` bytes are kept as written). */
  protected setBuffer(b: Buffer): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
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
      this.setBuffer(bigger);
    }
  }

  /** Appends a string as UTF-8 (the parts off the hot path: header, trailer, rights…). */
  protected addString(s: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 for 2 units).
    this.room(3 * s.length);
    this.used += utf8Write.call(this.buf, s, this.used);
  }

  private put(r: Run): void {
    const v = this.view;
    const w = r.w;
    let u = this.used;
    for (let i = 0; i < w.length; i++) {
      v.setInt32(u, w[i], true);
      u += 4;
    }
    this.used += r.n;
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

  private optAttr(name: Run, v: string | undefined): void {
    if (v === undefined) return;
    this.put(name);
    this.attr(v);
    this.buf[this.used++] = 0x22;
  }

  private optInt(name: Run, v: number | undefined, what: string): void {
    if (v === undefined) return;
    this.put(name);
    this.int(v, what);
    this.buf[this.used++] = 0x22;
  }

  private optBool(name: Run, v: boolean | undefined): void {
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

  /** `<Response>` up to its `<Status>` element (the hot-path encoders go on from there). */
  responseStart(seq: number, ticket: string | undefined, ssin: string, status: StatusCode, newSsin: string | undefined): void {
    const code = STATUS_BYTES.get(status);
    if (code === undefined) throw new Error(`line ${seq}: unknown status code ${String(status)}`);
    this.room(ELEMENT_ROOM);
    this.put(RESPONSE_OPEN);
    this.int(seq, 'seq');
    this.put(RESPONSE_OPEN_END);
    if (ticket !== undefined) {
      this.put(TICKET_OPEN);
      this.text(ticket);
      this.put(TICKET_CLOSE);
    }
    this.put(SSIN_OPEN);
    this.text(ssin);
    this.put(SSIN_CLOSE);
    // canonical order: code newSsin value
    this.put(code.code);
    this.optAttr(NEW_SSIN, newSsin);
    this.room(ELEMENT_ROOM);
    this.put(code.value);
  }

  /** Closes what responseStart opened. */
  responseEnd(): void {
    this.room(ELEMENT_ROOM);
    this.put(RESPONSE_CLOSE);
  }

  /**
   * One `<Response>` element, indented, ending with a newline. Rights and Handicap answers (not
   * the million-line services) are serialized as strings by `rest` and appended.
   */
  responseLine(line: ProfiledResponseLine, rest: (line: ProfiledResponseLine) => string): void {
    // Short-circuits on the common case (an amounts line has no rights) to keep the hot path cheap.
    if (line.year !== undefined ? line.months !== undefined || line.rights !== undefined : line.months !== undefined && line.rights !== undefined) {
      throw new Error(`line ${line.seq}: a response carries one answer (Year, Months or Rights), not both`);
    }
    this.responseStart(line.seq, line.ticket, line.ssin, line.status, line.newSsin);
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

  // ---------------------------------------------------------------- amounts answers from columns
  // The same elements as total() and month() write from objects, written from the rules' answer
  // columns (domain/aggregate.ts AnswerGroups): a million lines make no answer objects.
  // test/response/answerColumns.test.ts compares the two byte for byte, under every field profile.

  /**
   * An attribute run, whose value may be long (a table value has no bound): up to 32 bytes it is
   * within its element's ELEMENT_ROOM (six such runs and the fixed parts are well under it).
   */
  private run(r: Run): void {
    if (r.n > 32) this.room(r.n + ELEMENT_ROOM);
    this.put(r);
  }

  /** An SSIN number as its 11 digits (leading zeros kept), as ssinText writes it. */
  private ssinDigits(v: number): void {
    if (!(v >= 0 && v < 1e11 && Number.isInteger(v))) throw new Error(`not an SSIN number: ${v}`);
    const buf = this.buf;
    const u = this.used;
    let hi = Math.floor(v / 1_000_000);
    let lo = v - hi * 1_000_000;
    for (let p = u + 10; p > u + 4; p--) {
      const q = (lo / 10) | 0;
      buf[p] = 0x30 + lo - q * 10;
      lo = q;
    }
    for (let p = u + 4; p >= u; p--) {
      const q = (hi / 10) | 0;
      buf[p] = 0x30 + hi - q * 10;
      hi = q;
    }
    this.used = u + 11;
  }

  private ssinOpt(name: Run, v: number): void {
    this.put(name);
    this.ssinDigits(v);
    this.buf[this.used++] = 0x22;
  }

  /** The attributes a Total and a Month both start with, in canonical order: amountCents beneficiarySsin benefitType category. */
  private groupHead(g: AnswerGroups, k: number, t: TableRuns, strings: readonly string[], partnerLine: boolean, attrs: number): void {
    if (attrs & AMOUNT_ATTR.amountCents) this.optInt(ATTR.amountCents, g.cents[k], 'amountCents');
    const other = g.other[k];
    if (partnerLine && other >= 0 && attrs & AMOUNT_ATTR.beneficiarySsin) this.ssinOpt(ATTR.beneficiarySsin, other);
    if (attrs & AMOUNT_ATTR.benefitType) this.run(attrRun(t.benefitType, 'benefitType', strings, g.benefitType[k]));
    if (attrs & AMOUNT_ATTR.category) this.run(attrRun(t.category, 'category', strings, g.category[k]));
  }

  /**
   * `<Year>` of an amounts line from its answer columns. `partnerLine`: the line asked for the
   * PARTNER role (groups' `other` is then the beneficiary). `attrs`: AMOUNT_ATTR bits the client receives.
   */
  yearAnswer(year: number, g: AnswerGroups, strings: readonly string[], partnerLine: boolean, attrs: number): void {
    const t = tableRuns(strings);
    this.room(ELEMENT_ROOM);
    this.put(YEAR_OPEN);
    this.int(year, 'year');
    this.put(QUOTE_GT_NL);
    for (let k = 0; k < g.count; k++) {
      this.room(ELEMENT_ROOM);
      // canonical order: amountCents beneficiarySsin benefitType category fullYear months ocmw partnerSsin provisional
      this.put(TOTAL_OPEN);
      this.groupHead(g, k, t, strings, partnerLine, attrs);
      const other = g.other[k];
      if (attrs & AMOUNT_ATTR.fullYear) this.put(FLAG.fullYear[g.full[k]]);
      if (attrs & AMOUNT_ATTR.months) this.optInt(ATTR.months, g.months[k], 'months');
      if (attrs & AMOUNT_ATTR.ocmw) this.run(attrRun(t.ocmw, 'ocmw', strings, g.ocmw[k]));
      const partnersFrom = g.partnersAt[k];
      const partnersTo = g.partnersAt[k + 1];
      if (!partnerLine && other >= 0 && attrs & AMOUNT_ATTR.partnerSsin) this.ssinOpt(ATTR.partnerSsin, other);
      if (attrs & AMOUNT_ATTR.provisional) this.put(FLAG.provisional[g.provisional[k]]);
      if (partnerLine || partnersTo === partnersFrom || (attrs & AMOUNT_ATTR.partnerSsin) === 0) {
        this.buf[this.used++] = 0x3e;
        this.put(TOTAL_CLOSE);
        continue;
      }
      this.put(GT_NL);
      for (let j = partnersFrom; j < partnersTo; j++) {
        this.room(ELEMENT_ROOM);
        this.put(PARTNER_OPEN);
        this.ssinDigits(g.partners[j]);
        this.put(PARTNER_CLOSE);
      }
      this.room(ELEMENT_ROOM);
      this.put(TOTAL_CLOSE_BLOCK);
    }
    this.room(ELEMENT_ROOM);
    this.put(YEAR_CLOSE);
  }

  /** `<Months>` of an amounts line from its answer columns (as yearAnswer). */
  monthsAnswer(g: AnswerGroups, strings: readonly string[], partnerLine: boolean, attrs: number): void {
    const t = tableRuns(strings);
    this.room(ELEMENT_ROOM);
    this.put(MONTHS_OPEN);
    if (attrs & AMOUNT_ATTR.lastMonthIsLastPaid) this.put(FLAG.lastMonthIsLastPaid[g.lastMonthIsLastPaid ? 1 : 0]);
    this.put(GT_NL);
    for (let k = 0; k < g.count; k++) {
      this.room(ELEMENT_ROOM);
      // canonical order: amountCents beneficiarySsin benefitType category from fullMonth month ocmw partnerSsin provisional to
      this.put(MONTH_OPEN);
      this.groupHead(g, k, t, strings, partnerLine, attrs);
      const other = g.other[k];
      if (attrs & AMOUNT_ATTR.from) this.run(attrRun(t.from, 'from', strings, g.from[k]));
      if (attrs & AMOUNT_ATTR.fullMonth) this.put(FLAG.fullMonth[g.full[k]]);
      this.run(attrRun(t.month, 'month', strings, g.month[k]));
      if (attrs & AMOUNT_ATTR.ocmw) this.run(attrRun(t.ocmw, 'ocmw', strings, g.ocmw[k]));
      if (!partnerLine && other >= 0 && attrs & AMOUNT_ATTR.partnerSsin) this.ssinOpt(ATTR.partnerSsin, other);
      if (attrs & AMOUNT_ATTR.provisional) this.put(FLAG.provisional[g.provisional[k]]);
      if (attrs & AMOUNT_ATTR.to) this.run(attrRun(t.to, 'to', strings, g.to[k]));
      this.put(MONTH_CLOSE);
    }
    this.room(ELEMENT_ROOM);
    this.put(MONTHS_CLOSE);
  }
}

/**
 * `<Response>` elements already encoded, with each one's seq and status: what the amounts
 * resolver hands the writer instead of line objects (response/writer.ts copies the bytes). Owned
 * and reused by its producer: valid until the consumer asks for the next batch.
 */
export class EncodedLines extends LineEncoder {
  /** Lines encoded. */
  length = 0;
  seq = new Float64Array(512);
  status: StatusCode[] = [];

  constructor(size = 512 * 1024) {
    super(size);
  }

  /** Starts over (the bytes, seqs and statuses before are dropped). */
  clear(): void {
    this.used = 0;
    this.length = 0;
  }

  /** Starts a `<Response>` (as LineEncoder's) and records its seq and status for the writer. */
  override responseStart(seq: number, ticket: string | undefined, ssin: string, status: StatusCode, newSsin: string | undefined): void {
    super.responseStart(seq, ticket, ssin, status, newSsin);
    if (this.length === this.seq.length) {
      const more = new Float64Array(this.seq.length * 2);
      more.set(this.seq);
      this.seq = more;
    }
    this.seq[this.length] = seq;
    this.status[this.length] = status;
    this.length++;
  }

  /** The encoded bytes (a view: valid until the next clear). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}
