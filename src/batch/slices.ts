// Cuts a batch file into small, self-contained XML documents that libxml2 can validate one
// at a time, so memory stays bounded whatever the file size (libxml2-wasm builds the whole
// tree: ≈ 9 bytes of wasm heap per file byte, and the heap is capped at 2 GiB).
//
// A batch file is   prefix   = prolog, root start tag, Header, the container's start tag
//                   records  = the container's children (Request / Response / Notification)
//                   suffix   = the container's end tag, Trailer, root end tag.
// The schemas make the records independent of each other, so a slice document
//   prefix + some consecutive records + synthetic end
// is valid exactly when those records are. The synthetic end closes the container and adds
// an empty Trailer; the last slice ends with the file's own suffix instead. Slices are cut
// only between two children of the container, and a slice always holds at least one child.
//
// Slices also keep every document well below 65535 lines, where libxml2 reports exact line
// numbers (beyond that it needs XML_PARSE_BIG_LINES, which is exact for elements holding
// text but may be one line late for elements holding only elements).
//
// When the file does not have the expected shape (no container, a prefix above
// maxPrefixBytes), the whole file is one slice, as it is for any file with few records.
import { createReadStream } from 'node:fs';
import { XmlByteScanner, type ScanHandler } from './xmlScan.js';

export const LDM_NS = 'urn:ldm-batch:v1';

export interface SliceOptions {
  /** Local name of the element whose children are the records: Requests, Responses, Notifications. */
  container: string;
  /** Cut once a slice holds this many records … */
  maxRecords: number;
  /** … or this many bytes … */
  maxBytes: number;
  /** … or this many lines. */
  maxLines: number;
  /** Beyond this, the file is not sliced (the prefix is copied into every slice). A prefix
   * larger than maxBytes makes slices proportionally larger (in records and bytes), so that
   * it is at most about half of the bytes parsed. */
  maxPrefixBytes: number;
  readChunk?: number;
}

export const DEFAULT_SLICE_OPTIONS: Omit<SliceOptions, 'container'> = {
  maxRecords: 4000,
  maxBytes: 4 << 20,
  maxLines: 40_000,
  maxPrefixBytes: 8 << 20,
};

interface Point {
  offset: number;
  line: number;
  column: number;
}

/**
 * Where a slice document's bytes come from. Doc positions before `docStart` are the file's
 * own prefix (same positions in the file); from `docStart` on, the slice's bytes, which in the
 * file start at `fileStart`; from `docEnd` on (when set), the synthetic end.
 */
export interface SliceMap {
  docStart: { line: number; column: number };
  fileStart: { line: number; column: number };
  docEnd: { line: number; column: number } | null;
  /** Qualified names of the elements opened in the prefix (root, container). */
  prefixElements: readonly string[];
}

export interface Slice {
  bytes: Buffer;
  map: SliceMap;
  /** Index of the slice (0-based); the prefix region is identical in every slice. */
  index: number;
}

export type MappedPosition = { line: number; column: number; region: 'prefix' | 'records' };

/** Maps a position in a slice document to the file; null when it falls in the synthetic end. */
export function mapToFile(map: SliceMap, line: number, column: number): MappedPosition | null {
  const { docStart, fileStart, docEnd } = map;
  if (line < docStart.line || (line === docStart.line && column < docStart.column)) {
    return { line, column, region: 'prefix' };
  }
  if (docEnd && (line > docEnd.line || (line === docEnd.line && column >= docEnd.column))) return null;
  return {
    line: fileStart.line + (line - docStart.line),
    column: line === docStart.line ? fileStart.column + (column - docStart.column) : column,
    region: 'records',
  };
}

const IDENTITY: SliceMap = { docStart: { line: 1, column: 1 }, fileStart: { line: 1, column: 1 }, docEnd: null, prefixElements: [] };

/** Reads the file once and yields its slices in order. */
export async function* sliceFile(path: string, options: SliceOptions): AsyncGenerator<Slice> {
  const cutter = new Cutter(options);
  const scanner = new XmlByteScanner(cutter);
  const stream = createReadStream(path, { highWaterMark: options.readChunk ?? 1 << 20 });
  let index = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      cutter.pieces.push(chunk);
      scanner.feed(chunk);
      for (const slice of cutter.takeReady()) yield { ...slice, index: index++ };
    }
  } finally {
    stream.destroy();
  }
  yield { ...cutter.finish(scanner), index };
}

type Phase = 'prefix' | 'records' | 'after' | 'whole';

class Cutter implements ScanHandler {
  /** File bytes not yet handed out, starting at offset `piecesStart`. */
  pieces: Buffer[] = [];
  private piecesStart = 0;
  private phase: Phase = 'prefix';
  private rootName = '';
  private containerName = '';
  private prefix: Buffer | undefined;
  private prefixEnd: Point | undefined;
  private sliceStart: Point | undefined;
  private lastCut: Point | undefined;
  private recordsInSlice = 0;
  private cuts: Point[] = [];

  constructor(private readonly options: SliceOptions) {}

  startTag(s: XmlByteScanner, depth: number): void {
    if (depth === 0 && this.rootName === '') this.rootName = s.name;
    if (depth === 1 && this.phase === 'prefix' && !s.selfClosing && s.localNameIs(this.options.container)) {
      this.containerName = s.name;
      this.prefixEnd = { offset: s.endOffset, line: s.line, column: s.column };
      this.sliceStart = this.prefixEnd;
      this.phase = 'records';
      return;
    }
    // A new record starts: if the slice is full, cut it after the previous record.
    if (depth === 2 && this.phase === 'records' && this.lastCut && this.sliceStart && this.isFull(this.sliceStart, this.lastCut)) {
      this.cuts.push(this.lastCut);
      this.sliceStart = this.lastCut;
      this.recordsInSlice = 0;
      this.lastCut = undefined;
    }
  }

  endTag(s: XmlByteScanner, depth: number): void {
    if (this.phase !== 'records') return;
    if (depth === 2) {
      this.recordsInSlice++;
      this.lastCut = { offset: s.endOffset, line: s.line, column: s.column };
    } else if (depth === 1) {
      this.phase = 'after';
    }
  }

  private isFull(start: Point, end: Point): boolean {
    const o = this.options;
    const f = this.scale;
    // lines are not scaled: they keep every slice within libxml2's exact line numbers
    return this.recordsInSlice >= o.maxRecords * f || end.offset - start.offset >= o.maxBytes * f || end.line - start.line >= o.maxLines;
  }

  /** Slices grow with an unusually large prefix (see maxPrefixBytes). */
  private get scale(): number {
    return this.prefixEnd ? Math.max(1, Math.ceil(this.prefixEnd.offset / this.options.maxBytes)) : 1;
  }

  /** Slices completed by the last chunk. */
  *takeReady(): Generator<Omit<Slice, 'index'>> {
    if (this.phase === 'prefix' && this.available() > this.options.maxPrefixBytes) this.phase = 'whole';
    if (this.phase === 'whole') return;
    if (this.prefixEnd && !this.prefix) {
      if (this.prefixEnd.offset > this.options.maxPrefixBytes) {
        this.phase = 'whole'; // keep every byte: finish() hands out the whole file
        return;
      }
      this.prefix = this.take(this.prefixEnd.offset);
      this.nextStart = this.prefixEnd;
    }
    const { prefix, prefixEnd } = this;
    if (!prefix || !prefixEnd) return;
    const tail = Buffer.from(
      `</${this.containerName}><Trailer xmlns="${LDM_NS}"><RecordCount>0</RecordCount></Trailer></${this.rootName}>`,
      'utf8',
    );
    for (const cut of this.cuts) {
      const body = this.take(cut.offset);
      yield { bytes: Buffer.concat([prefix, body, tail]), map: sliceMap(prefixEnd, this.nextStart, cut, this.prefixElements) };
      this.nextStart = cut;
    }
    this.cuts = [];
  }

  /** File position where the next slice's bytes start. */
  private nextStart: Point = { offset: 0, line: 1, column: 1 };

  /** The last slice: the rest of the file, with its own end. */
  finish(scanner: XmlByteScanner): Omit<Slice, 'index'> {
    const rest = this.take(scanner.offset);
    if (this.phase === 'whole' || !this.prefix || !this.prefixEnd) {
      return { bytes: this.prefix ? Buffer.concat([this.prefix, rest]) : rest, map: IDENTITY };
    }
    const fileStart = { line: this.nextStart.line, column: this.nextStart.column };
    const docStart = { line: this.prefixEnd.line, column: this.prefixEnd.column };
    return { bytes: Buffer.concat([this.prefix, rest]), map: { docStart, fileStart, docEnd: null, prefixElements: this.prefixElements } };
  }

  private get prefixElements(): string[] {
    return [this.rootName, this.containerName];
  }

  private available(): number {
    let n = 0;
    for (const p of this.pieces) n += p.length;
    return n;
  }

  /** Removes and returns the bytes from piecesStart up to the absolute offset `end` (one copy, so
   * that a slice does not pin the 1 MiB read chunks it came from). */
  private take(end: number): Buffer {
    const out: Buffer[] = [];
    let pos = this.piecesStart;
    while (this.pieces.length > 0 && pos < end) {
      const p = this.pieces[0];
      if (pos + p.length <= end) {
        out.push(p);
        pos += p.length;
        this.pieces.shift();
      } else {
        const k = end - pos;
        out.push(p.subarray(0, k));
        this.pieces[0] = p.subarray(k);
        pos = end;
      }
    }
    this.piecesStart = pos;
    return Buffer.concat(out);
  }
}

function sliceMap(prefixEnd: Point, start: Point, cut: Point, prefixElements: readonly string[]): SliceMap {
  const fileStart = { line: start.line, column: start.column };
  const docStart = { line: prefixEnd.line, column: prefixEnd.column };
  const docEnd = {
    line: docStart.line + (cut.line - fileStart.line),
    column: cut.line === fileStart.line ? docStart.column + (cut.column - fileStart.column) : cut.column,
  };
  return { docStart, fileStart, docEnd, prefixElements };
}
