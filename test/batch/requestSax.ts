// An independent reader of request files, for tests only: saxes (a namespace-aware XML parser
// that shares no code with src/) over a read stream. Tests compare the pipeline's fast reader
// (src/batch/fastReader.ts) with it line by line. It expects a valid file, but malformed or
// unexpected input still ends in an Error naming line and column, never in a hang.
// (It was src/batch/reader.ts; the pipeline never used it.)
import { createReadStream } from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type { RequestHeader, RequestLine, RequestPeriod, Role } from '../../src/interfaces.js';
import { toHeader, type HeaderField, type RawHeader } from '../../src/batch/header.js';
import { LDM_NS } from '../../src/batch/slices.js';

const READ_CHUNK = 1 << 20;

// ================================================================ readRequest

export type RequestEvent =
  | { kind: 'header'; header: RequestHeader }
  | { kind: 'line'; line: RequestLine }
  | { kind: 'trailer'; recordCount: number };

/**
 * A request file, read once, lazily: reading starts when `header` or `lines` is first used.
 * `lines` can be iterated once; `trailer` resolves after `lines` has been read to the end.
 * A read error rejects `header` and `trailer` (their rejections are marked handled, so a
 * caller that only iterates `lines` sees the error there and nowhere else).
 */
export interface RequestReader {
  readonly header: Promise<RequestHeader>;
  readonly lines: AsyncIterable<RequestLine>;
  readonly trailer: Promise<{ recordCount: number }>;
}

export function readRequest(path: string): RequestReader {
  return new Reader(path);
}

class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => {
        this.settled = true;
        res(v);
      };
      this.reject = (e) => {
        this.settled = true;
        rej(e);
      };
    });
    this.promise.catch(() => undefined); // handled: see RequestReader
  }
}

class Reader implements RequestReader {
  private readonly batches: AsyncGenerator<readonly RequestEvent[]>;
  private readonly headerD = new Deferred<RequestHeader>();
  private readonly trailerD = new Deferred<{ recordCount: number }>();
  private started = false;
  /** The read started by `header`; `lines` continues after it. */
  private headerRead: Promise<void> | undefined;
  private failure: unknown;
  private linesTaken = false;
  /** Events read by `header` before `lines` was iterated. */
  private pending: readonly RequestEvent[] = [];

  constructor(path: string) {
    this.batches = readRequestBatches(path);
  }

  get header(): Promise<RequestHeader> {
    if (!this.started) {
      this.started = true;
      this.headerRead = this.pull().then(
        (batch) => {
          this.pending = batch;
        },
        () => undefined, // recorded in `failure`, rethrown by `lines`
      );
    }
    return this.headerD.promise;
  }

  get trailer(): Promise<{ recordCount: number }> {
    return this.trailerD.promise;
  }

  get lines(): AsyncIterable<RequestLine> {
    return { [Symbol.asyncIterator]: () => this.iterateLines() };
  }

  /** The next batch of events (empty at the end), settling header and trailer on the way. */
  private async pull(): Promise<readonly RequestEvent[]> {
    if (this.failure !== undefined) throw this.failure;
    try {
      const r = await this.batches.next();
      if (r.done) {
        const err = new Error('the request file ended before its Trailer was read');
        if (!this.headerD.settled) this.headerD.reject(err);
        if (!this.trailerD.settled) this.trailerD.reject(err);
        return [];
      }
      for (const ev of r.value) {
        if (ev.kind === 'header') this.headerD.resolve(ev.header);
        else if (ev.kind === 'trailer') this.trailerD.resolve({ recordCount: ev.recordCount });
      }
      return r.value;
    } catch (err) {
      this.failure = err;
      if (!this.headerD.settled) this.headerD.reject(err);
      if (!this.trailerD.settled) this.trailerD.reject(err);
      throw err;
    }
  }

  private async *iterateLines(): AsyncGenerator<RequestLine> {
    if (this.linesTaken) throw new Error('the lines of a request file can be iterated only once');
    this.linesTaken = true;
    try {
      if (this.headerRead) {
        await this.headerRead;
        if (this.failure !== undefined) throw this.failure;
      }
      this.started = true;
      let batch = this.pending;
      this.pending = [];
      for (;;) {
        for (const ev of batch) if (ev.kind === 'line') yield ev.line;
        batch = await this.pull();
        if (batch.length === 0) return;
      }
    } finally {
      await this.batches.return(undefined); // closes the file when the consumer stops early
    }
  }
}

/**
 * The events of a request file in order: one header, the lines, one trailer.
 * Throws an Error with line and column for malformed XML or an unexpected structure.
 */
export async function* readRequestEvents(path: string): AsyncGenerator<RequestEvent> {
  for await (const batch of readRequestBatches(path)) yield* batch;
}

/**
 * The events, one batch per read chunk (one async step per chunk rather than per line).
 * A batch is only valid until the next one is requested (the array is reused).
 */
async function* readRequestBatches(path: string): AsyncGenerator<readonly RequestEvent[]> {
  const handler = new RequestSax(path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      handler.parser.write(chunk);
      if (handler.out.length > 0) {
        yield handler.out;
        handler.out.length = 0;
      }
    }
    handler.parser.close();
    handler.finish();
    if (handler.out.length > 0) yield handler.out;
  } finally {
    stream.destroy();
  }
}

const enum Field {
  None,
  // header
  FileId,
  CbeNumber,
  Service,
  LegalContext,
  Environment,
  CreatedAt,
  // request
  Ticket,
  Ssin,
  Role,
  Year,
  From,
  To,
  // trailer
  RecordCount,
}

const HEADER_FIELD: Partial<Record<Field, HeaderField>> = {
  [Field.FileId]: 'fileId',
  [Field.CbeNumber]: 'senderCbe',
  [Field.Service]: 'service',
  [Field.LegalContext]: 'legalContext',
  [Field.Environment]: 'environment',
  [Field.CreatedAt]: 'createdAt',
};

const HEADER_CHILDREN: Record<string, Field> = {
  FileId: Field.FileId,
  Service: Field.Service,
  LegalContext: Field.LegalContext,
  Environment: Field.Environment,
  CreatedAt: Field.CreatedAt,
};

const REQUEST_CHILDREN: Record<string, Field> = { Ticket: Field.Ticket, Ssin: Field.Ssin, Role: Field.Role };

/** saxes callbacks: a small state machine over the known element paths. */
class RequestSax {
  // Namespaces are resolved here (Namespaces below), not by saxes: its generic resolution
  // costs a third of the parse time, and a request file declares them on the root only.
  readonly parser = new SaxesParser({ xmlns: false, position: true });
  private readonly ns = new Namespaces();
  readonly out: RequestEvent[] = [];
  private depth = 0;
  private section: 'none' | 'header' | 'requests' | 'trailer' = 'none';
  private field = Field.None;
  private text = '';
  private raw: RawHeader = {};
  private headerDone = false;
  private trailerDone = false;
  /** Line of the last start tag's '<'. */
  private tagLine = 1;
  // the Request being read
  private seq = 0;
  private line = 0;
  private ticket: string | undefined;
  private ssin = '';
  private role: Role | undefined;
  private periodKind: RequestPeriod['kind'] | undefined;
  private year = 0;
  private from = '';
  private to = '';

  constructor(private readonly path: string) {
    const p = this.parser;
    p.on('error', (err) => {
      // saxes writes "line:column: message", the column 0-based; ours is path:line:column (1-based)
      this.fail(`not well-formed XML: ${err.message.replace(/^\d+:\d+: /, '')}`);
    });
    p.on('opentag', (tag) => this.open(tag));
    p.on('closetag', (tag) => this.close(tag));
    p.on('cdata', (t) => {
      if (this.field !== Field.None) this.text += t;
    });
  }

  // Speed: saxes only slices text out of the input while a text handler is installed, and
  // only reports tag starts while a handler is installed: both are installed just where needed
  // (text inside a field of interest; the start of a Request, for its line).
  private readonly onText = (t: string): void => {
    this.text += t;
  };

  /** saxes reports the position after the character that ended the name: when that was a
   * line break, the '<' was on the line before. */
  private readonly onTagStart = (): void => {
    const p = this.parser;
    this.tagLine = p.column === 0 ? p.line - 1 : p.line;
  };

  private setField(field: Field): void {
    this.field = field;
    if (field === Field.None) this.parser.off('text');
    else this.parser.on('text', this.onText);
  }

  private fail(message: string): never {
    throw new Error(`${this.path}:${this.parser.line}:${this.parser.column + 1}: ${message}`);
  }

  private open(tag: SaxesTagPlain): void {
    const depth = this.depth++;
    this.ns.open(depth, tag.attributes);
    const name = this.ns.resolve(tag.name);
    if (!name) this.fail(`unbound namespace prefix in ${tag.name}`);
    const local = name.local;
    if (name.uri !== LDM_NS) {
      if (depth === 0) this.fail(`the root element must be BatchRequest in namespace ${LDM_NS}, not {${name.uri}}${local}`);
      this.fail(`unexpected element {${name.uri}}${local}`);
    }
    if (depth === 0) {
      if (local !== 'BatchRequest') this.fail(`the root element must be BatchRequest, not ${local}`);
      return;
    }
    if (depth === 1) {
      this.section = local === 'Header' ? 'header' : local === 'Requests' ? 'requests' : local === 'Trailer' ? 'trailer' : 'none';
      if (this.section === 'none') this.fail(`unexpected element ${local}`);
      if (this.section !== 'header' && !this.headerDone) this.fail(`${local} before the Header`);
      if (this.section === 'requests') this.parser.on('opentagstart', this.onTagStart);
      return;
    }
    let field = Field.None;
    switch (this.section) {
      case 'header':
        if (depth === 2) field = HEADER_CHILDREN[local] ?? Field.None;
        else if (depth === 3 && local === 'CbeNumber') field = Field.CbeNumber;
        break;
      case 'requests':
        if (depth === 2) {
          if (local !== 'Request') this.fail(`unexpected element ${local} in Requests`);
          this.startRequest(tag);
        } else if (depth === 3) {
          field = REQUEST_CHILDREN[local] ?? Field.None;
        } else if (depth === 4) {
          if (local === 'Year') {
            this.periodKind = 'year';
            field = Field.Year;
          } else if (local === 'Months') this.periodKind = 'months';
          else if (local === 'Dates') this.periodKind = 'dates';
        } else if (depth === 5) {
          field = local === 'From' ? Field.From : local === 'To' ? Field.To : Field.None;
        }
        break;
      case 'trailer':
        if (depth === 2 && local === 'RecordCount') field = Field.RecordCount;
        break;
      default:
        break;
    }
    this.text = '';
    if (field !== this.field) this.setField(field);
  }

  private startRequest(tag: SaxesTagPlain): void {
    this.parser.off('opentagstart'); // until this Request ends: its children need no line
    const seqText = tag.attributes.seq as string | undefined; // an absent attribute is undefined
    const seq = seqText === undefined ? NaN : Number(seqText.trim());
    if (!Number.isSafeInteger(seq) || seq < 1) this.fail(`Request without a valid seq attribute`);
    this.seq = seq;
    this.line = this.tagLine;
    this.ticket = undefined;
    this.ssin = '';
    this.role = undefined;
    this.periodKind = undefined;
    this.from = '';
    this.to = '';
  }

  private close(tag: SaxesTagPlain): void {
    const depth = --this.depth;
    this.ns.close(depth);
    if (this.field !== Field.None) {
      this.store(this.field, this.text);
      this.setField(Field.None);
      this.text = '';
    }
    if (depth === 1) {
      if (this.section === 'header') this.endHeader();
      else if (this.section === 'trailer' && !this.trailerDone) this.fail('Trailer without RecordCount');
      else if (this.section === 'requests') this.parser.off('opentagstart');
      this.section = 'none';
    } else if (depth === 2 && this.section === 'requests' && localName(tag.name) === 'Request') {
      this.out.push({ kind: 'line', line: this.endRequest() });
      this.parser.on('opentagstart', this.onTagStart);
    }
  }

  private store(field: Field, value: string): void {
    const header = HEADER_FIELD[field];
    if (header) {
      this.raw[header] = value;
      return;
    }
    switch (field) {
      case Field.Ticket:
        this.ticket = value; // echoed back verbatim
        break;
      case Field.Ssin:
        this.ssin = value.trim();
        break;
      case Field.Role: {
        const role = value.trim();
        if (role !== 'BENEFICIARY' && role !== 'PARTNER') this.fail(`unknown Role ${role}`);
        this.role = role;
        break;
      }
      case Field.Year:
        this.year = Number(value.trim());
        break;
      case Field.From:
        this.from = value.trim();
        break;
      case Field.To:
        this.to = value.trim();
        break;
      case Field.RecordCount: {
        const n = Number(value.trim());
        if (!Number.isSafeInteger(n) || n < 0) this.fail(`RecordCount is not a number: ${value}`);
        this.trailerDone = true;
        this.out.push({ kind: 'trailer', recordCount: n });
        break;
      }
      default:
        break;
    }
  }

  private endRequest(): RequestLine {
    let period: RequestPeriod;
    if (this.periodKind === 'year') period = { kind: 'year', year: this.year };
    else if (this.periodKind === 'months') period = { kind: 'months', from: this.from, to: this.to };
    else if (this.periodKind === 'dates') period = { kind: 'dates', from: this.from, to: this.to };
    else this.fail(`Request seq=${this.seq} has no Period`);
    if (this.ssin === '') this.fail(`Request seq=${this.seq} has no Ssin`);
    const line: RequestLine = { seq: this.seq, ssin: this.ssin, period, line: this.line };
    if (this.ticket !== undefined) line.ticket = this.ticket;
    if (this.role !== undefined) line.role = this.role;
    return line;
  }

  private endHeader(): void {
    const header = toHeader(this.raw);
    if (!header) this.fail('the Header is incomplete or not valid');
    this.headerDone = true;
    this.out.push({ kind: 'header', header });
  }

  /** After the last chunk. */
  finish(): void {
    if (!this.headerDone) this.fail('no Header found');
    if (!this.trailerDone) this.fail('no Trailer found');
  }
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

/**
 * Namespace scopes: declarations (xmlns, xmlns:p) are pushed with the depth of the element
 * that made them and popped when it closes. Resolved names are cached until the scopes change.
 */
class Namespaces {
  private readonly decls: { depth: number; prefix: string; uri: string }[] = [];
  private readonly cache = new Map<string, { local: string; uri: string }>();

  open(depth: number, attributes: Record<string, string>): void {
    for (const key in attributes) {
      if (key === 'xmlns') this.declare(depth, '', attributes[key]);
      else if (key.startsWith('xmlns:')) this.declare(depth, key.slice(6), attributes[key]);
    }
  }

  close(depth: number): void {
    let popped = false;
    while (this.decls.length > 0 && this.decls[this.decls.length - 1].depth >= depth) {
      this.decls.pop();
      popped = true;
    }
    if (popped) this.cache.clear();
  }

  /** The name's namespace URI ('' for none) and local part; undefined for an unbound prefix. */
  resolve(qname: string): { local: string; uri: string } | undefined {
    const hit = this.cache.get(qname);
    if (hit) return hit;
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    let uri: string | undefined = prefix === '' ? '' : undefined;
    for (let i = this.decls.length - 1; i >= 0; i--) {
      if (this.decls[i].prefix === prefix) {
        uri = this.decls[i].uri;
        break;
      }
    }
    if (uri === undefined) return undefined;
    const name = { local: colon < 0 ? qname : qname.slice(colon + 1), uri };
    this.cache.set(qname, name);
    return name;
  }

  private declare(depth: number, prefix: string, uri: string): void {
    this.decls.push({ depth, prefix, uri });
    this.cache.clear();
  }
}

