// The lines of a request file for processing, read fast: a byte-level reader that jumps from
// '<' to '<' (Buffer.indexOf) instead of looking at every character, and only decodes what a
// line needs. About ten times the speed of the saxes reader (readRequest).
//
// It is meant for files that libxml2 validates (validateRequestFile) — in the pipeline at the
// same time, in a worker; its answer is only used when the file is valid. So it does not check
// well-formedness or namespaces: in a valid file every element is in the request namespace (the
// schema has no wildcards), and names are matched by local name. It reads any valid file as
// readRequest does (same lines, same `line` numbers, entities, CDATA, comments, processing
// instructions, prefixes, white space; test/batch/fastReader.test.ts compares both); on a file
// that is not valid it may yield odd lines or throw, but it always ends, with bounded memory.
import { readChunks } from './readChunks.js';
import type { RequestLine, RequestPeriod, Role } from '../interfaces.js';
import { decodeXmlText } from './xmlScan.js';
import { addTiming, timing } from '../pipeline/timings.js';
import type { EnvelopeTally } from './envelope.js';

const READ_CHUNK = 1 << 18;
/** Text kept across read chunks inside one field (a valid field is at most 64 characters). */
const MAX_FIELD_BYTES = 1 << 20;
/** A start or end tag longer than this is not from a valid request file. */
const MAX_TAG_BYTES = 16 << 20;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const DQ = 0x22;
const SQ = 0x27;
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const AMP = 0x26;

const enum N {
  Other,
  Requests,
  Request,
  Ticket,
  Ssin,
  Role,
  Period,
  Year,
  Months,
  Dates,
  From,
  To,
  Trailer,
  RecordCount,
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === LF || b === 0x09 || b === CR;
}

/** Whether buf[a, a + s.length) holds the ASCII string s. */
function bytesAre(buf: Buffer, a: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (buf[a + k] !== s.charCodeAt(k)) return false;
  return true;
}

/**
 * Whether buf[a, a + s.length) holds the bytes s (false past the end of buf): bytesAre for the
 * plain path's tags, kept as bytes — with the tags as strings (charCodeAt in this shared helper)
 * the plain path took 1.7 × as long (parse only, a million lines: 369–382 against 617–685 ms).
 */
function bytesAt(buf: Buffer, a: number, s: Uint8Array): boolean {
  if (a + s.length > buf.length) return false;
  for (let k = 0; k < s.length; k++) if (buf[a + k] !== s[k]) return false;
  return true;
}

// The tags of a plain Request (FastRequestParser.plainRequest).
const tag = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const element = (name: string): { open: Uint8Array; close: Uint8Array } => ({ open: tag(`<${name}>`), close: tag(`</${name}>`) });
const REQUEST_SEQ = tag('<Request seq="');
const TICKET = element('Ticket');
const SSIN = element('Ssin');
const ROLE = element('Role');
const PERIOD_OPEN = tag('<Period>');
const YEAR = element('Year');
const MONTHS = element('Months');
const DATES = element('Dates');
const FROM = element('From');
const TO = element('To');
const PERIOD_REQUEST_CLOSE = tag('</Period></Request>');
const PARTNER = tag('PARTNER');
const BENEFICIARY = tag('BENEFICIARY');

/** The end of the plain text of element `e` at buf[k] (its text starts at k + e.open.length), or -1 when it is not there in that form (see plainText). */
function plainElement(buf: Buffer, k: number, e: { open: Uint8Array; close: Uint8Array }, spaces: boolean): number {
  if (!bytesAt(buf, k, e.open)) return -1;
  const end = plainText(buf, k + e.open.length, spaces);
  return end >= 0 && bytesAt(buf, end, e.close) ? end : -1;
}

/**
 * The end of plain text from buf[a] (at its '<'), or -1 when it holds anything the tag-by-tag path
 * would decode or trim: a byte outside printable ASCII, '&', or (unless `spaces`) a space; or when
 * it does not end in buf. A value stays below 256 bytes (a valid one is at most 64).
 */
function plainText(buf: Buffer, a: number, spaces: boolean): number {
  const end = Math.min(buf.length, a + 256);
  for (let k = a; k < end; k++) {
    const c = buf[k];
    if (c === LT) return k;
    if (c > 0x7e || c < 0x20 || c === AMP || (c === 0x20 && !spaces)) return -1;
  }
  return -1;
}

/** The element kind of the (qualified) name in buf[a, b): matched on its local part. */
function nameOf(buf: Buffer, a: number, b: number): N {
  for (let i = b - 1; i > a; i--) {
    if (buf[i] === COLON) {
      a = i + 1;
      break;
    }
  }
  switch (b - a) {
    case 2:
      return buf[a] === 0x54 && buf[a + 1] === 0x6f ? N.To : N.Other;
    case 4:
      switch (buf[a]) {
        case 0x53:
          return bytesAre(buf, a, 'Ssin') ? N.Ssin : N.Other;
        case 0x52:
          return bytesAre(buf, a, 'Role') ? N.Role : N.Other;
        case 0x59:
          return bytesAre(buf, a, 'Year') ? N.Year : N.Other;
        case 0x46:
          return bytesAre(buf, a, 'From') ? N.From : N.Other;
        default:
          return N.Other;
      }
    case 5:
      return bytesAre(buf, a, 'Dates') ? N.Dates : N.Other;
    case 6:
      switch (buf[a]) {
        case 0x54:
          return bytesAre(buf, a, 'Ticket') ? N.Ticket : N.Other;
        case 0x50:
          return bytesAre(buf, a, 'Period') ? N.Period : N.Other;
        case 0x4d:
          return bytesAre(buf, a, 'Months') ? N.Months : N.Other;
        default:
          return N.Other;
      }
    case 7:
      return bytesAre(buf, a, 'Request') ? N.Request : bytesAre(buf, a, 'Trailer') ? N.Trailer : N.Other;
    case 8:
      return bytesAre(buf, a, 'Requests') ? N.Requests : N.Other;
    case 11:
      return bytesAre(buf, a, 'RecordCount') ? N.RecordCount : N.Other;
    default:
      return N.Other;
  }
}

/** Short runs of digits and '-' (years, months, dates) repeat a lot: their strings are shared. */
const shortCache = new Map<number, string>();

function shortDigits(buf: Buffer, a: number, b: number): string | undefined {
  const len = b - a;
  if (len === 0 || len > 10) return undefined;
  let key = len;
  for (let k = a; k < b; k++) {
    const c = buf[k];
    const d = c === 0x2d ? 10 : c - 0x30;
    if (d < 0 || d > 10) return undefined;
    key = key * 11 + d;
  }
  let s = shortCache.get(key);
  if (s === undefined) {
    if (shortCache.size >= 4096) shortCache.clear();
    s = latin1.call(buf, a, b);
    shortCache.set(key, s);
  }
  return s;
}

/** Latin-1 (here: ASCII) text of buf[a, b), without Buffer.toString's argument handling. */
const latin1 = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, a: number, b: number): string }).latin1Slice;

const enum St {
  Text,
  Comment,
  Pi,
  Cdata,
}

/**
 * The periods of a file's lines, one object per distinct period: a batch asks for a few years and
 * month ranges a million times, so no period object is made per line (nothing changes a line's
 * period), and the amounts resolver's memo of the rules' period facts (PeriodMemo) is keyed by it.
 * At most PERIODS_KEPT are kept: a file of ever new periods costs a fresh table, not memory.
 */
class Periods {
  private readonly years = new Map<number, RequestPeriod>();
  /** kind → from → to: no key string built per line (from and to are shared strings already, see shortDigits). */
  private readonly ranges = new Map<string, Map<string, Map<string, RequestPeriod>>>();
  private kept = 0;

  year(year: number): RequestPeriod {
    const known = this.years.get(year);
    if (known !== undefined) return known;
    this.room();
    const p: RequestPeriod = { kind: 'year', year };
    this.years.set(year, p);
    return p;
  }

  range(kind: 'months' | 'dates', from: string, to: string): RequestPeriod {
    let byFrom = this.ranges.get(kind);
    if (byFrom === undefined) this.ranges.set(kind, (byFrom = new Map()));
    let byTo = byFrom.get(from);
    if (byTo === undefined) byFrom.set(from, (byTo = new Map()));
    const known = byTo.get(to);
    if (known !== undefined) return known;
    this.room();
    const p: RequestPeriod = { kind, from, to };
    byTo.set(to, p);
    return p;
  }

  private room(): void {
    if (++this.kept <= PERIODS_KEPT) return;
    this.years.clear();
    this.ranges.clear();
    this.kept = 1;
  }
}
const PERIODS_KEPT = 4096;

/** Incremental parser: feed() read chunks, collect the finished lines from `out`. */
export class FastRequestParser {
  readonly out: RequestLine[] = [];
  /** Lines read by plainRequest (the rest went tag by tag). */
  plainLines = 0;
  private readonly periods = new Periods();
  private carry: Buffer | undefined;
  private joined: Buffer = Buffer.alloc(0);
  /** Absolute file offset of buf[0] of the current feed. */
  private base = 0;
  private state = St.Text;
  /** Content of the CDATA section being read in a field, from earlier chunks. */
  private cdataParts: Buffer[] = [];
  private cdataBytes = 0;
  private depth = 0;
  /** The first Trailer: 0 not yet, 1 inside it, 2 behind it. */
  private trailer = 0;
  /** Depth of the Requests element when inside it, else -1. */
  private requestsDepth = -1;
  private inRequest = false;
  // line counting (saxes counts LF, CR LF and a lone CR as one line break each)
  private line = 1;
  /** Absolute offset up to which line breaks were counted. */
  private counted = 0;
  private lastWasCr = false;
  /** Absolute offset of the next LF after `counted` when known, else -1. */
  private nextLf = -1;
  /** Whether the buffer being parsed holds a CR (then lines are counted byte by byte). */
  private bufHasCr = false;
  // the Request being read
  private seq = NaN;
  private reqLine = 0;
  private field = N.Other;
  private text = '';
  private ticket: string | undefined;
  private ssin = '';
  private role: string | undefined;
  private periodKind: RequestPeriod['kind'] | undefined;
  private year = '';
  private from = '';
  private to = '';

  /** With a tally, the parser also counts what the envelope rules need (see EnvelopeTally). */
  constructor(private readonly tally?: EnvelopeTally) {}

  feed(chunk: Buffer, last = false): void {
    let buf = chunk;
    if (this.carry !== undefined) {
      // carry + chunk, in a buffer kept for that (no allocation per chunk)
      const need = this.carry.length + chunk.length;
      if (this.joined.length < need) this.joined = Buffer.allocUnsafe(Math.max(need, 2 * this.joined.length));
      this.carry.copy(this.joined, 0);
      chunk.copy(this.joined, this.carry.length);
      buf = this.joined.subarray(0, need);
      this.base -= this.carry.length;
      this.carry = undefined;
    }
    this.nextLf = -1;
    this.bufHasCr = buf.indexOf(CR) >= 0;
    const keepFrom = this.parse(buf, last);
    this.countLines(buf, keepFrom);
    if (keepFrom < buf.length) this.carry = Buffer.from(buf.subarray(keepFrom)); // a copy: do not pin the chunk
    this.base += buf.length;
  }

  /** After the last chunk. */
  finish(): void {
    this.feed(Buffer.alloc(0), true);
    this.carry = undefined;
  }

  /** Counts line breaks in buf up to `end` (exclusive), continuing from what was counted. */
  private countLines(buf: Buffer, end: number): void {
    let i = this.counted - this.base;
    if (i < 0) i = 0;
    if (i >= end) return;
    if (!this.bufHasCr) {
      // The common case: jump from LF to LF (the next LF is remembered, so a file without
      // line breaks is not searched again for every Request).
      if (this.lastWasCr) {
        if (buf[i] === LF) i++; // the LF of a CR LF split between two chunks
        this.lastWasCr = false;
      }
      for (;;) {
        if (this.nextLf < 0) {
          const j = buf.indexOf(LF, i);
          this.nextLf = j < 0 ? Number.POSITIVE_INFINITY : this.base + j;
        }
        const j = this.nextLf - this.base;
        if (j >= end) break;
        this.line++;
        i = j + 1;
        this.nextLf = -1;
      }
    } else {
      for (; i < end; i++) {
        const b = buf[i];
        if (b === LF) {
          if (!this.lastWasCr) this.line++;
          this.lastWasCr = false;
        } else if (b === CR) {
          this.line++;
          this.lastWasCr = true;
        } else {
          this.lastWasCr = false;
        }
      }
    }
    this.counted = this.base + end;
  }

  /** Parses as far as it can; returns the offset from which buf must be kept for the next feed. */
  private parse(buf: Buffer, last: boolean): number {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case St.Comment: {
          const j = buf.indexOf('-->', i, 'latin1');
          if (j < 0) return last ? n : Math.max(i, n - 2);
          i = j + 3;
          this.state = St.Text;
          break;
        }
        case St.Pi: {
          const j = buf.indexOf('?>', i, 'latin1');
          if (j < 0) return last ? n : Math.max(i, n - 1);
          i = j + 2;
          this.state = St.Text;
          break;
        }
        case St.Cdata: {
          const j = buf.indexOf(']]>', i, 'latin1');
          if (j < 0) {
            if (last) return n;
            // Keep the last two bytes (they may begin "]]>"); inside a field, collect the rest
            // as bytes (a character may be cut between chunks). A section longer than a valid
            // field can be is dropped.
            const keep = Math.max(i, n - 2);
            if (this.field !== N.Other) {
              this.cdataBytes += keep - i;
              if (this.cdataBytes > MAX_FIELD_BYTES) {
                this.field = N.Other;
                this.cdataParts = [];
              } else if (keep > i) this.cdataParts.push(Buffer.from(buf.subarray(i, keep)));
            }
            return keep;
          }
          if (this.field !== N.Other) {
            const parts = this.cdataParts;
            const content = parts.length === 0 ? buf.toString('utf8', i, j) : Buffer.concat([...parts, buf.subarray(i, j)]).toString('utf8');
            this.text += content.replace(/\r\n?/g, '\n');
          }
          this.cdataParts = [];
          this.cdataBytes = 0;
          i = j + 3;
          this.state = St.Text;
          break;
        }
        default: {
          // Text between tags is short (often empty): a few bytes in JS beat a native call.
          let lt = i;
          const stop = Math.min(n, i + 24);
          while (lt < stop && buf[lt] !== LT) lt++;
          if (lt === stop) lt = lt < n ? buf.indexOf(LT, lt) : -1;
          if (lt < 0) {
            if (this.field !== N.Other && !last && n - i < MAX_FIELD_BYTES) return i; // keep the field's text whole
            if (this.field !== N.Other) this.appendText(buf, i, n);
            return n;
          }
          if (this.field !== N.Other && lt > i) this.appendText(buf, i, lt);
          if (this.depth === 2 && this.requestsDepth >= 0 && !this.inRequest) {
            const end = this.plainRequest(buf, lt);
            if (end >= 0) {
              i = end;
              break;
            }
          }
          const next = this.markup(buf, lt, last);
          if (next < 0) {
            if (n - lt > MAX_TAG_BYTES) throw new Error('a tag of more than 16 MiB: not a valid request file');
            return lt; // incomplete: keep it for the next chunk
          }
          i = next;
        }
      }
    }
    return n;
  }

  /**
   * A Request element at buf[lt] in the plain form generators write — one line, no white space
   * between its tags, no prefix, namespace declaration, comment, CDATA, entity or other attribute,
   * ASCII text — read in one go, with the line it makes (the same line the tag-by-tag path makes
   * of it). Returns the offset after `</Request>`, or -1 for any other form or when the element
   * does not end in `buf`: the tag-by-tag path then reads it. About half the reader's time per
   * million lines goes away (README "Benchmark").
   */
  private plainRequest(buf: Buffer, lt: number): number {
    if (!bytesAt(buf, lt, REQUEST_SEQ)) return -1;
    let k = lt + REQUEST_SEQ.length;
    const d0 = k;
    let seq = 0;
    while (k < buf.length && k - d0 < 15 && buf[k] >= 0x30 && buf[k] <= 0x39) seq = seq * 10 + (buf[k++] - 0x30);
    if (k === d0 || k - d0 >= 15 || seq < 1 || buf[k] !== DQ || buf[k + 1] !== GT) return -1;
    k += 2;
    let end = plainElement(buf, k, TICKET, true);
    let ticket: string | undefined;
    if (end >= 0) {
      ticket = latin1.call(buf, k + TICKET.open.length, end);
      k = end + TICKET.close.length;
    }
    end = plainElement(buf, k, SSIN, false);
    if (end < 0) return -1;
    const ssin = latin1.call(buf, k + SSIN.open.length, end);
    k = end + SSIN.close.length;
    end = plainElement(buf, k, ROLE, false);
    let role: string | undefined;
    if (end >= 0) {
      const a = k + ROLE.open.length;
      role = end - a === 7 && bytesAt(buf, a, PARTNER) ? 'PARTNER' : end - a === 11 && bytesAt(buf, a, BENEFICIARY) ? 'BENEFICIARY' : latin1.call(buf, a, end);
      k = end + ROLE.close.length;
    }
    if (!bytesAt(buf, k, PERIOD_OPEN)) return -1;
    k += PERIOD_OPEN.length;
    let period: RequestPeriod;
    end = plainElement(buf, k, YEAR, false);
    if (end >= 0) {
      const a = k + YEAR.open.length;
      if (end === a || end - a > 9) return -1; // 1 to 9 digits
      let year = 0;
      let d = a;
      for (; d < end && buf[d] >= 0x30 && buf[d] <= 0x39; d++) year = year * 10 + (buf[d] - 0x30);
      if (d !== end) return -1;
      period = this.periods.year(year);
      k = end + YEAR.close.length;
    } else {
      const range = bytesAt(buf, k, MONTHS.open) ? MONTHS : bytesAt(buf, k, DATES.open) ? DATES : undefined;
      if (range === undefined) return -1;
      k += range.open.length;
      end = plainElement(buf, k, FROM, false);
      if (end < 0) return -1;
      const from = shortDigits(buf, k + FROM.open.length, end) ?? latin1.call(buf, k + FROM.open.length, end);
      k = end + FROM.close.length;
      end = plainElement(buf, k, TO, false);
      if (end < 0) return -1;
      const to = shortDigits(buf, k + TO.open.length, end) ?? latin1.call(buf, k + TO.open.length, end);
      k = end + TO.close.length;
      if (!bytesAt(buf, k, range.close)) return -1;
      k += range.close.length;
      period = this.periods.range(range === MONTHS ? 'months' : 'dates', from, to);
    }
    if (!bytesAt(buf, k, PERIOD_REQUEST_CLOSE)) return -1;
    this.countLines(buf, lt);
    this.tally?.request(seq);
    this.out.push({ seq, ticket, ssin, role: role as Role | undefined, period, line: this.line });
    this.plainLines++;
    return k + PERIOD_REQUEST_CLOSE.length;
  }

  private appendText(buf: Buffer, a: number, b: number): void {
    if (this.text === '') {
      const short = shortDigits(buf, a, b);
      if (short !== undefined) {
        this.text = short;
        return;
      }
    }
    let ascii = true;
    for (let k = a; k < b; k++) {
      const c = buf[k];
      if (c >= 0x80 || c === AMP || c === CR) {
        ascii = false;
        break;
      }
    }
    this.text += ascii ? latin1.call(buf, a, b) : decodeXmlText(buf.toString('utf8', a, b));
  }

  /** The markup at buf[lt] === '<'; returns the offset after it, or -1 when it is incomplete. */
  private markup(buf: Buffer, lt: number, last: boolean): number {
    const n = buf.length;
    if (lt + 1 >= n) return last ? n : -1;
    const c = buf[lt + 1];
    if (c === SLASH) {
      let gt = lt + 2;
      while (gt < n && buf[gt] !== GT) gt++; // names are short: no native call
      if (gt >= n) return last ? n : -1;
      let e = gt;
      while (e > lt + 2 && isSpace(buf[e - 1])) e--;
      this.endTag(buf, lt + 2, e);
      return gt + 1;
    }
    if (c === BANG) {
      if (lt + 9 > n && !last) return -1;
      if (buf[lt + 2] === 0x2d && buf[lt + 3] === 0x2d) {
        this.state = St.Comment;
        return lt + 4;
      }
      if (latin1.call(buf, lt + 2, lt + 9) === '[CDATA[') {
        this.state = St.Cdata;
        return lt + 9;
      }
      // a declaration (DOCTYPE): refused by the guard; passed over here
      const gt = buf.indexOf(GT, lt + 2);
      return gt < 0 ? (last ? n : -1) : gt + 1;
    }
    if (c === QMARK) {
      this.state = St.Pi;
      return lt + 2;
    }
    // a start tag: its name, then up to the '>' that is not inside a quoted value
    let k = lt + 1;
    while (k < n && !isSpace(buf[k]) && buf[k] !== SLASH && buf[k] !== GT) k++;
    const nameEnd = k;
    let quote = 0;
    for (; k < n; k++) {
      const b = buf[k];
      if (quote !== 0) {
        if (b === quote) quote = 0;
      } else if (b === DQ || b === SQ) {
        quote = b;
      } else if (b === GT) {
        break;
      }
    }
    if (k >= n) return last ? n : -1;
    const selfClosing = buf[k - 1] === SLASH && k - 1 >= nameEnd;
    this.startTag(buf, lt, nameOf(buf, lt + 1, nameEnd), nameEnd, k, selfClosing);
    if (selfClosing) this.endTag(buf, lt + 1, nameEnd);
    return k + 1;
  }

  private startTag(buf: Buffer, lt: number, name: N, attrsFrom: number, gt: number, selfClosing: boolean): void {
    const depth = this.depth;
    if (!selfClosing) this.depth = depth + 1;
    if (this.requestsDepth < 0) {
      if (depth === 1 && name === N.Requests && !selfClosing) this.requestsDepth = 1;
      else if (depth === 1 && name === N.Trailer && this.trailer === 0) this.trailer = 1;
      else if (depth === 2 && name === N.RecordCount && this.trailer === 1 && this.tally?.recordCountText === undefined) this.startField(name);
      return;
    }
    if (depth === 2) {
      if (name !== N.Request) return;
      this.countLines(buf, lt);
      this.reqLine = this.line;
      this.inRequest = true;
      this.seq = seqOf(buf, attrsFrom, gt);
      this.tally?.request(this.seq);
      this.ticket = undefined;
      this.ssin = '';
      this.role = undefined;
      this.periodKind = undefined;
      this.year = '';
      this.from = '';
      this.to = '';
      return;
    }
    if (!this.inRequest) return;
    switch (name) {
      case N.Ticket:
      case N.Ssin:
      case N.Role:
        if (depth === 3) this.startField(name);
        break;
      case N.Year:
        if (depth === 4) {
          this.periodKind = 'year';
          this.startField(name);
        }
        break;
      case N.Months:
        if (depth === 4) this.periodKind = 'months';
        break;
      case N.Dates:
        if (depth === 4) this.periodKind = 'dates';
        break;
      case N.From:
      case N.To:
        if (depth === 5) this.startField(name);
        break;
      default:
        break;
    }
  }

  private startField(name: N): void {
    this.field = name;
    this.text = '';
  }

  /** An end tag whose name is buf[a, b) (the name is only looked at where it matters). */
  private endTag(buf: Buffer, a: number, b: number): void {
    const depth = this.depth > 0 ? --this.depth : 0;
    if (this.field !== N.Other) {
      const t = this.text;
      switch (this.field) {
        case N.Ticket:
          this.ticket = t;
          break;
        case N.Ssin:
          this.ssin = t.trim();
          break;
        case N.Role:
          this.role = t.trim();
          break;
        case N.Year:
          this.year = t;
          break;
        case N.From:
          this.from = t.trim();
          break;
        case N.To:
          this.to = t.trim();
          break;
        case N.RecordCount:
          if (this.tally) this.tally.recordCountText = t;
          break;
        default:
          break;
      }
      this.field = N.Other;
      this.text = '';
    }
    if (depth === 2 && this.inRequest) {
      if (nameOf(buf, a, b) === N.Request) {
        this.inRequest = false;
        this.out.push(this.endRequest());
      }
    } else if (depth === this.requestsDepth && nameOf(buf, a, b) === N.Requests) {
      this.requestsDepth = -1;
    } else if (depth === 1 && this.trailer === 1) {
      this.trailer = 2;
    }
  }

  private endRequest(): RequestLine {
    let period: RequestPeriod;
    if (this.periodKind === 'year') period = this.periods.year(Number(this.year.trim()));
    else if (this.periodKind === 'months' || this.periodKind === 'dates') period = this.periods.range(this.periodKind, this.from, this.to);
    else throw new Error(`Request seq=${this.seq} has no Period`);
    // Every field in one literal, absent ones undefined: one object shape for every line, so the
    // resolver's reads of them stay monomorphic.
    return { seq: this.seq, ticket: this.ticket, ssin: this.ssin, role: this.role as Role | undefined, period, line: this.reqLine };
  }
}

/** The unqualified `seq` attribute of the start tag whose attributes are buf[a, gt). */
function seqOf(buf: Buffer, a: number, gt: number): number {
  let k = a;
  while (k < gt) {
    while (k < gt && (isSpace(buf[k]) || buf[k] === SLASH)) k++;
    const nameStart = k;
    while (k < gt && buf[k] !== 0x3d && !isSpace(buf[k])) k++; // '='
    const nameEnd = k;
    while (k < gt && buf[k] !== DQ && buf[k] !== SQ) k++;
    if (k >= gt) return NaN;
    const quote = buf[k];
    const valueStart = k + 1;
    const valueEnd = buf.indexOf(quote, valueStart);
    if (valueEnd < 0 || valueEnd > gt) return NaN;
    k = valueEnd + 1;
    if (nameEnd - nameStart === 3 && buf[nameStart] === 0x73 && buf[nameStart + 1] === 0x65 && buf[nameStart + 2] === 0x71) {
      // the usual form: plain digits
      let v = 0;
      let d = valueStart;
      while (d < valueEnd && d - valueStart < 15 && buf[d] >= 0x30 && buf[d] <= 0x39) v = v * 10 + (buf[d++] - 0x30);
      if (d === valueEnd && d > valueStart && d - valueStart < 15) return v >= 1 ? v : NaN;
      const raw = latin1.call(buf, valueStart, valueEnd);
      const value = raw.indexOf('&') >= 0 ? decodeXmlText(buf.toString('utf8', valueStart, valueEnd)) : raw;
      const seq = Number(value.trim());
      return Number.isSafeInteger(seq) && seq >= 1 ? seq : NaN;
    }
  }
  return NaN;
}

/**
 * How far the line reader is in a request file: bytes and lines read so far, so a consumer can
 * estimate the lines still to come (the audit writes its last part early with it, AuditSink.ahead).
 */
export class ReadProgress {
  bytes = 0;
  lines = 0;
  constructor(readonly size: number) {}

  /** Lines still to come after the first `consumed` ones, estimated at the mean line size so far (0 before any line). */
  remainingAfter(consumed: number): number {
    if (this.lines === 0 || this.bytes === 0) return 0;
    const unread = Math.max(0, this.size - this.bytes);
    return Math.max(0, this.lines - consumed) + Math.ceil((unread * this.lines) / this.bytes);
  }
}

/**
 * The lines of a request file, one array per read chunk (an array is not reused). With a tally,
 * the envelope's counts are gathered on the way; it is `complete` once the last line is out.
 */
export async function* readRequestLineBatches(path: string, tally?: EnvelopeTally, progress?: ReadProgress): AsyncGenerator<RequestLine[]> {
  const parser = new FastRequestParser(tally);
  // One reused buffer (readChunks): the parser copies what it keeps of a chunk.
  for await (const chunk of readChunks(path, READ_CHUNK)) {
    // The reads are synchronous and the response's writes go to a worker: without this the answer
    // would hold the event loop for seconds, and what completes on it would wait — the audit's
    // SQLite statements (measured: its first write stalled 3.9 s, the answer then waited 1.6 s for
    // the audit instead of 0.6 s), the lease's heartbeat timer, the validator's exit. Once per
    // 256 KiB read: ~540 turns per million lines.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const t0 = timing() ? performance.now() : 0;
    parser.feed(chunk);
    if (t0 !== 0) addTiming('parse', performance.now() - t0);
    if (progress) {
      progress.bytes += chunk.length;
      progress.lines += parser.out.length;
    }
    if (parser.out.length > 0) yield parser.out.splice(0);
  }
  parser.finish();
  if (tally) tally.complete = true;
  if (parser.out.length > 0) yield parser.out.splice(0);
}

/** The lines of a request file, one by one (see readRequestLineBatches). */
export async function* readRequestLines(path: string): AsyncGenerator<RequestLine> {
  for await (const batch of readRequestLineBatches(path)) yield* batch;
}
