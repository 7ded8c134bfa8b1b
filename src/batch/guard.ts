// The first look at a request file, before any XML parser sees it:
// - a DTD (<!DOCTYPE) or any markup declaration (<!ENTITY, <!ELEMENT, …) in the prolog is
//   refused (DTD_FORBIDDEN) without being parsed, so no entity is ever expanded (XXE,
//   billion laughs) — the file is rejected as soon as the declaration's first bytes are read;
// - the file must be UTF-8: a UTF-16/32 byte order mark, an encoding declaration other than
//   UTF-8, or an invalid UTF-8 byte sequence anywhere in the file is NOT_WELL_FORMED;
// - a UTF-8 byte order mark is legal and only recorded;
// - a value longer than any the schema allows (MAX_VALUE) is SCHEMA_INVALID; white space does not
//   count (MAX_RUN bounds everything between two tags, for libxml2).
// It streams: memory stays at one read chunk whatever the file size.
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { FileError } from '../interfaces.js';

export interface Position {
  offset: number;
  line: number;
  column: number;
}

export type GuardResult =
  | {
      ok: true;
      /** The file starts with a UTF-8 byte order mark (EF BB BF). */
      bom: boolean;
      size: number;
      /** The '<' of the root element's start tag. */
      root: Position;
    }
  | { ok: false; code: 'DTD_FORBIDDEN' | 'NOT_WELL_FORMED' | 'SCHEMA_INVALID'; error: FileError; bom: boolean };

/** The guard's verdicts (which of two faults in one chunk is reported) assume chunks of this size. */
export const READ_CHUNK = 1 << 20;
const DECLARATIONS = ['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION'];

/**
 * No value of the request schema (element text, attribute, name) is longer than 128 characters:
 * more than 1 MiB of non-blank bytes between two tag boundaries ('<' or '>') is a value no
 * element allows (SCHEMA_INVALID), refused here, while streaming, before any reader could buffer
 * it (a 1 GB Ticket). Comments and processing instructions fall under the same bound.
 */
export const MAX_VALUE = 1 << 20;
/**
 * White space is not a value: it does not count toward MAX_VALUE and is skipped here without
 * being kept, so white space between elements is accepted as the schema allows. The readers after
 * the guard skip it too, but libxml2 holds each slice in memory and refuses a text node above
 * 10 MB, so all bytes between two tag boundaries, white space included, are bounded far above
 * what a client produces (pretty-printing, padding): beyond, the file is refused as a resource
 * limit.
 */
export const MAX_RUN = 9 << 20;

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;
}

class RunLimit {
  /** Offset of the current chunk's first byte. */
  private offset = 0;
  /** The run in progress (bytes since the last '<' or '>'): its start, its non-blank bytes, the first of them. */
  private runStart = 0;
  private nonBlank = 0;
  private firstNonBlank = -1;
  tooLong: { kind: 'value' | 'run'; at: number } | undefined;

  push(chunk: Buffer): boolean {
    const lt = chunk.indexOf(0x3c);
    const gt = chunk.indexOf(0x3e);
    const firstBoundary = lt < 0 ? gt : gt < 0 ? lt : Math.min(lt, gt);
    if (firstBoundary < 0) {
      this.scan(chunk, 0, chunk.length);
      this.check(this.offset + chunk.length);
    } else {
      this.scan(chunk, 0, firstBoundary);
      this.check(this.offset + firstBoundary);
      // Runs between two boundaries of one chunk are shorter than the chunk (at most READ_CHUNK,
      // 1 MiB): within both bounds. Only a run across chunks is tracked.
      const lastBoundary = Math.max(chunk.lastIndexOf(0x3c), chunk.lastIndexOf(0x3e));
      this.runStart = this.offset + lastBoundary + 1;
      this.nonBlank = 0;
      this.firstNonBlank = -1;
      this.scan(chunk, lastBoundary + 1, chunk.length);
      this.check(this.offset + chunk.length);
    }
    this.offset += chunk.length;
    return this.tooLong === undefined;
  }

  /** Counts the non-blank bytes of chunk[a, b) into the run's. */
  private scan(chunk: Buffer, a: number, b: number): void {
    let n = 0;
    for (let i = a; i < b; i++) {
      if (isBlank(chunk[i])) continue;
      if (this.firstNonBlank < 0) this.firstNonBlank = this.offset + i;
      n++;
    }
    this.nonBlank += n;
  }

  /** The run so far ends before `end`. */
  private check(end: number): void {
    if (this.tooLong) return;
    if (this.nonBlank > MAX_VALUE) this.tooLong = { kind: 'value', at: this.firstNonBlank };
    else if (end - this.runStart > MAX_RUN) this.tooLong = { kind: 'run', at: this.runStart };
  }
}

/** Line and column (1-based, in bytes) of a byte offset; only used to report an error. */
async function lineColumnAt(path: string, offset: number): Promise<{ line: number; column: number }> {
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK, end: Math.max(0, offset - 1) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
      line++;
      lineStart = pos + i + 1;
    }
    pos += chunk.length;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The guard as a streaming check: `push` every chunk of the file in order (chunks of READ_CHUNK
 * bytes, as the positions of a verdict depend on where chunks end) until it returns false (a
 * verdict is reached: stop feeding), then `result` with the path of a file holding the same
 * bytes, read again only to place an error (line and column) when the file is refused.
 */
export class RequestGuard {
  private readonly prolog = new PrologScanner();
  private readonly utf8 = new Utf8Checker();
  private readonly runs = new RunLimit();
  private first = true;
  private bom = false;
  private size = 0;
  private early: GuardResult | undefined;
  private stopped = false;

  /** One more chunk; false once the verdict is known (more chunks would not change it). */
  push(chunk: Buffer): boolean {
    if (this.stopped) return false;
    if (this.first) {
      this.first = false;
      const head = checkHead(chunk);
      if (head) {
        this.early = { ok: false, code: 'NOT_WELL_FORMED', error: head, bom: false };
        return this.stop();
      }
      this.bom = chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
    }
    this.size += chunk.length;
    // The prolog first: a declaration is refused before anything else is looked at.
    if (!this.prolog.done) {
      this.prolog.feed(chunk);
      if (this.prolog.refused) {
        const r = this.prolog.refused;
        this.early = { ok: false, code: r.code, error: { line: r.line, column: r.column, message: r.message }, bom: this.bom };
        return this.stop();
      }
    }
    if (!this.utf8.push(chunk)) return this.stop();
    if (!this.runs.push(chunk)) return this.stop();
    return true;
  }

  private stop(): false {
    this.stopped = true;
    return false;
  }

  /** The verdict, after the last chunk (or once push returned false). */
  async result(samePath: string): Promise<GuardResult> {
    if (this.early) return this.early;
    const { bom, size, runs, utf8, prolog } = this;
    if (runs.tooLong !== undefined) {
      const { kind, at: offset } = runs.tooLong;
      const at = await lineColumnAt(samePath, offset);
      const message =
        kind === 'value'
          ? `a value of more than ${MAX_VALUE >> 20} MiB from byte offset ${offset} (text, attribute, name or comment): no element of the request schema allows one that long (the longest allows 128 characters)`
          : `resource limit: more than ${MAX_RUN >> 20} MiB between two tags (white space included) from byte offset ${offset}; white space between elements is accepted up to that amount in one place`;
      return { ok: false, code: 'SCHEMA_INVALID', error: { ...at, message }, bom };
    }
    if (!utf8.ok || !utf8.end()) {
      const at = await locateInvalidUtf8(samePath);
      return {
        ok: false,
        code: 'NOT_WELL_FORMED',
        error: { line: at.line, column: at.column, message: `the file is not valid UTF-8: invalid byte sequence at byte offset ${at.offset} (only UTF-8 is accepted)` },
        bom,
      };
    }
    if (size === 0 || (bom && size === 3)) {
      return { ok: false, code: 'NOT_WELL_FORMED', error: { line: 1, column: 1, message: 'the file is empty' }, bom };
    }
    if (!prolog.root) {
      return {
        ok: false,
        code: 'NOT_WELL_FORMED',
        error: { line: prolog.line, column: prolog.column, message: 'the file holds no root element' },
        bom,
      };
    }
    return { ok: true, bom, size, root: prolog.root };
  }
}

/** Scans the prolog for declarations and the whole file for UTF-8 validity. Never throws on content; I/O errors propagate. */
export async function guardRequestFile(path: string): Promise<GuardResult> {
  const guard = new RequestGuard();
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) if (!guard.push(chunk)) break;
  } finally {
    stream.destroy();
  }
  return guard.result(path);
}

/** Byte order marks and encoding declaration, from the first chunk. */
function checkHead(chunk: Buffer): FileError | undefined {
  const b0 = chunk[0];
  const b1 = chunk[1];
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) {
    return { line: 1, column: 1, message: 'the file is UTF-16 or UTF-32 encoded (byte order mark); only UTF-8 is accepted' };
  }
  if ((b0 === 0x00 && b1 === 0x3c) || (b0 === 0x3c && b1 === 0x00) || (b0 === 0x00 && b1 === 0x00)) {
    return { line: 1, column: 1, message: 'the file looks UTF-16 or UTF-32 encoded; only UTF-8 is accepted' };
  }
  const start = b0 === 0xef && b1 === 0xbb && chunk[2] === 0xbf ? 3 : 0;
  if (chunk.toString('latin1', start, start + 5) !== '<?xml') return undefined;
  const end = chunk.indexOf('?>', start, 'latin1');
  const decl = chunk.toString('latin1', start, end < 0 ? Math.min(chunk.length, start + 512) : end);
  const m = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(decl);
  if (!m || /^utf-?8$/i.test(m[2])) return undefined;
  const before = decl.slice(0, m.index + 1);
  const lines = before.split('\n');
  return {
    line: lines.length,
    column: lines[lines.length - 1].length + 1,
    message: `the XML declaration names encoding "${m[2]}"; only UTF-8 is accepted`,
  };
}

/**
 * Validates UTF-8 chunk by chunk. A multi-byte sequence cut by a chunk boundary is carried
 * over to the next chunk; node's isUtf8 (SIMD) does the work.
 */
class Utf8Checker {
  ok = true;
  private carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): boolean {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const tail = incompleteTail(data);
    if (!isUtf8(data.subarray(0, data.length - tail))) {
      this.ok = false;
      return false;
    }
    this.carry = Buffer.from(data.subarray(data.length - tail));
    return true;
  }

  /** At end of file: bytes still carried are a truncated sequence. */
  end(): boolean {
    if (this.carry.length > 0) this.ok = false;
    return this.ok;
  }
}

/** Number of bytes at the end of `data` that start a multi-byte sequence not complete yet. */
function incompleteTail(data: Uint8Array): number {
  const n = data.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = data[n - k];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

/**
 * Line and column of the first invalid UTF-8 sequence. Only run once the fast check failed,
 * so a second read (from the start: the line number needs every byte before) is acceptable.
 */
async function locateInvalidUtf8(path: string): Promise<Position> {
  let line = 1;
  let col = 0;
  let offset = 0;
  let need = 0; // continuation bytes still expected
  let min = 0; // lowest code point allowed for the sequence (rejects overlong forms)
  let cp = 0;
  let seqLine = 1;
  let seqCol = 1;
  let seqOffset = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i++, offset++) {
        const b = chunk[i];
        if (need > 0) {
          if ((b & 0xc0) !== 0x80) return { offset: seqOffset, line: seqLine, column: seqCol };
          cp = (cp << 6) | (b & 0x3f);
          if (--need === 0 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) {
            return { offset: seqOffset, line: seqLine, column: seqCol };
          }
          continue;
        }
        seqOffset = offset;
        seqLine = line;
        seqCol = col + 1;
        if (b === 0x0a) {
          line++;
          col = 0;
          continue;
        }
        if (offset !== 0 || b !== 0xef) col++; // a byte order mark is no column
        if (b < 0x80) continue;
        if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
        else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
        else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
        else return { offset: seqOffset, line: seqLine, column: seqCol };
      }
    }
  } finally {
    stream.destroy();
  }
  return { offset: seqOffset, line: seqLine, column: seqCol };
}

interface Refusal {
  code: 'DTD_FORBIDDEN' | 'NOT_WELL_FORMED';
  line: number;
  column: number;
  message: string;
}

const enum P {
  Misc,
  Lt,
  Bang,
  Comment,
  Pi,
  Skip,
}

/**
 * Reads the prolog (everything before the root start tag) byte by byte: XML declaration,
 * comments, processing instructions, white space. Stops at the root's '<'.
 */
class PrologScanner {
  done = false;
  refused: Refusal | undefined;
  root: Position | undefined;
  line = 1;
  column = 1;
  private col = 0;
  private offset = 0;
  private state: P = P.Misc;
  private ltLine = 1;
  private ltCol = 1;
  private ltOffset = 0;
  private word = '';
  private dashes = 0;
  private q = false;

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && !this.done; i++, this.offset++) {
      const b = chunk[i];
      if (b === 0x0a) {
        this.line++;
        this.col = 0;
      } else if ((b & 0xc0) !== 0x80 && !(this.offset === 0 && b === 0xef)) {
        this.col++; // (a byte order mark, at offset 0, is no column for libxml2 either)
      }
      this.column = this.col + 1;
      switch (this.state) {
        case P.Misc:
          if (b === 0x3c) {
            this.ltLine = this.line;
            this.ltCol = this.col;
            this.ltOffset = this.offset;
            this.state = P.Lt;
          }
          break; // other bytes (white space, or junk libxml2 will report) are passed over
        case P.Lt:
          if (b === 0x3f) {
            this.q = false;
            this.state = P.Pi;
          } else if (b === 0x21) {
            this.word = '';
            this.state = P.Bang;
          } else if (isNameStart(b)) {
            this.root = { offset: this.ltOffset, line: this.ltLine, column: this.ltCol };
            this.done = true;
          } else {
            this.state = P.Misc;
          }
          break;
        case P.Bang:
          if (this.word === '' && b === 0x2d) {
            this.word = '-';
          } else if (this.word === '-') {
            this.dashes = 0;
            this.state = b === 0x2d ? P.Comment : P.Skip;
          } else if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) {
            this.word += String.fromCharCode(b).toUpperCase();
            if (DECLARATIONS.includes(this.word)) {
              this.refused = {
                code: 'DTD_FORBIDDEN',
                line: this.ltLine,
                column: this.ltCol,
                message: `<!${this.word} found: DTDs and entity declarations are not allowed in a request file`,
              };
              this.done = true;
            } else if (this.word.length > 8) {
              this.state = P.Skip;
            }
          } else {
            this.state = b === 0x3e ? P.Misc : P.Skip;
          }
          break;
        case P.Comment:
          if (b === 0x2d) this.dashes++;
          else if (b === 0x3e && this.dashes >= 2) this.state = P.Misc;
          else this.dashes = 0;
          break;
        case P.Pi:
          if (b === 0x3e && this.q) this.state = P.Misc;
          else this.q = b === 0x3f;
          break;
        case P.Skip:
          if (b === 0x3e) this.state = P.Misc;
          break;
      }
    }
  }
}

/** ASCII letters, '_', ':' and any non-ASCII lead byte may start an XML name. */
function isNameStart(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x3a || b >= 0x80;
}
