// The file-level facts of a request (contract §3/§4): the Header, RecordCount against the number
// of Request elements, the seq rules, read with the byte scanner. Lenient, so the Header can be
// read from a file that fails the schema (a rejection can then name the FileId); it never throws
// on content. In the pipeline it is one of the checks of the single pass (requestPass.ts).
import { createHash, type Hash } from 'node:crypto';
import { GrowableBitset } from './bitset.js';
import { readableFileId, toHeader, type HeaderField, type RawHeader } from './header.js';
import { decodeXmlText, XmlByteScanner, type ScanHandler } from './xmlScan.js';
import { readChunks } from './readChunks.js';
import type { RequestHeader } from '../interfaces.js';

const READ_CHUNK = 1 << 20;

export interface Envelope {
  /** The Header, when every field could be read and has the right shape. */
  header?: RequestHeader;
  /** The FileId alone, when readable and well-shaped (even if other Header fields are not). */
  fileId?: string;
  /** Trailer/RecordCount, when readable as a number. */
  recordCount?: number;
  /** Position of the RecordCount element. */
  trailerPosition?: { line: number; column: number };
  /** Number of Request elements in Requests. */
  requestCount: number;
  /** The first seq seen twice, at its second occurrence (the seq attribute). */
  duplicateSeq?: { seq: number; line: number; column: number };
  /** The first Request whose seq is not its position in the file (the n-th must carry n). */
  seqOrder?: { seq: number; expected: number; line: number; column: number };
  /** SHA-256 of the file's bytes, lowercase hex. */
  sha256: string;
  size: number;
}

/** Above this, a seq is not tracked for duplicates (the schema allows up to 99,999,999). */
const MAX_TRACKED_SEQ = 100_000_000;

/** The envelope checks as a streaming check: `feed` every chunk in order, then `result`. */
export class EnvelopeCheck {
  private readonly scan = new EnvelopeScan();
  private readonly scanner = new XmlByteScanner(this.scan);

  constructor() {
    this.scanner.textLimit = 512; // header fields are short; longer text is not a valid value anyway
  }

  /** The scanner keeps nothing of a chunk: a reused buffer may be passed. */
  feed(chunk: Buffer): void {
    this.scanner.feed(chunk);
  }

  /** Whether the Header is behind: the Requests or the Trailer have begun. */
  get pastHeader(): boolean {
    return this.scan.pastHeader;
  }

  result(sha256: string, size: number): Envelope {
    const h = this.scan;
    const env: Envelope = { requestCount: h.requestCount, sha256, size };
    const header = toHeader(h.raw);
    if (header) env.header = header;
    const fileId = readableFileId(h.raw.fileId);
    if (fileId !== undefined) env.fileId = fileId;
    if (h.recordCount !== undefined) env.recordCount = h.recordCount;
    if (h.trailerPosition) env.trailerPosition = h.trailerPosition;
    if (h.duplicateSeq) env.duplicateSeq = h.duplicateSeq;
    if (h.seqOrder) env.seqOrder = h.seqOrder;
    return env;
  }
}

/**
 * The envelope facts of a file without its SHA-256 (`sha256` is ''), from a scan of its own: in the
 * pipeline, for a file whose envelope the line reader's tally could not vouch for (EnvelopeTally),
 * and wherever no lines were read (a file refused for another reason, a redelivery).
 */
export async function scanEnvelope(path: string, readChunk = READ_CHUNK): Promise<Envelope> {
  const { check, size } = await scanFile(path, readChunk);
  return check.result('', size);
}

/** Feeds every chunk of the file to a new EnvelopeCheck (and to `hash`, when given). */
async function scanFile(path: string, readChunk: number, hash?: Hash): Promise<{ check: EnvelopeCheck; size: number }> {
  const check = new EnvelopeCheck();
  let size = 0;
  for await (const chunk of readChunks(path, readChunk)) {
    hash?.update(chunk);
    size += chunk.length;
    check.feed(chunk);
  }
  return { check, size };
}

/**
 * The Header of a file (and its FileId alone, when only that is readable), from its first bytes:
 * reading stops where the Requests begin. The rest of the envelope (RecordCount, seq rules) is
 * scanEnvelope's, in the background. `requestCount` is 0 here: it is not counted.
 */
export async function readEnvelopeHeader(path: string, sha256: string, size: number): Promise<Envelope> {
  const check = new EnvelopeCheck();
  for await (const chunk of readChunks(path, 1 << 16)) {
    check.feed(chunk);
    if (check.pastHeader) break;
  }
  const env = check.result(sha256, size);
  return { header: env.header, fileId: env.fileId, requestCount: 0, sha256, size };
}

/**
 * SHA-256 of the raw bytes and the envelope facts of a file (tests and tools; the pipeline uses
 * EnvelopeCheck inside its single pass). Never throws on content (a file that is not XML at all
 * just yields no header and zero requests); I/O errors (missing file…) are thrown.
 */
export async function checkEnvelope(path: string): Promise<Envelope> {
  const hash = createHash('sha256');
  const { check, size } = await scanFile(path, READ_CHUNK, hash);
  return check.result(hash.digest('hex'), size);
}

/**
 * The envelope as the line reader sees it on its way through a file (fastReader.ts): enough to
 * know that a valid file's envelope is sound — RecordCount is the number of Request elements and
 * the n-th Request carries seq n, so no seq is used twice — without a scan of its own (one JS pass
 * over the file less: ~1 s of CPU per million lines, README "Benchmark"). Anything else, or a read
 * that did not finish, is left to scanEnvelope, which finds the fault and its position: a tally
 * only ever vouches, it never accuses. Valid files only: the reader is not a checking parser.
 */
export class EnvelopeTally {
  requestCount = 0;
  /** Some Request's seq, as the line reader read it, is not its position (or not a number). */
  seqOff = false;
  /** Text of the first Trailer's first RecordCount, when there is one. */
  recordCountText: string | undefined;
  /** Set once the reader has seen the whole file. */
  complete = false;

  /** A Request start tag and its seq (NaN when the reader could not read one). */
  request(seq: number): void {
    if (seq !== ++this.requestCount) this.seqOff = true;
  }

  /** The envelope when the tally vouches for it (then envelopeFailure finds nothing), else undefined. */
  sound(sha256: string, size: number): Envelope | undefined {
    if (!this.complete || this.seqOff || this.recordCountText === undefined) return undefined;
    const text = this.recordCountText.trim();
    if (!/^\+?[0-9]{1,15}$/.test(text) || Number(text) !== this.requestCount) return undefined;
    return { requestCount: this.requestCount, recordCount: this.requestCount, sha256, size };
  }
}

const SCAN_HEADER_FIELDS: Record<string, HeaderField> = {
  FileId: 'fileId',
  Service: 'service',
  LegalContext: 'legalContext',
  Environment: 'environment',
  CreatedAt: 'createdAt',
};

type Section = 'none' | 'header' | 'requests' | 'trailer';

/** Byte-scanner callbacks: elements are matched by local name and depth, prefixes ignored. */
class EnvelopeScan implements ScanHandler {
  raw: RawHeader = {};
  requestCount = 0;
  recordCount: number | undefined;
  trailerPosition: { line: number; column: number } | undefined;
  duplicateSeq: { seq: number; line: number; column: number } | undefined;
  seqOrder: { seq: number; expected: number; line: number; column: number } | undefined;
  private section: Section = 'none';
  private readonly seen = new Set<Section>();
  private inSender = false;
  private capture: HeaderField | 'recordCount' | undefined;
  private readonly seqs = new GrowableBitset();

  get pastHeader(): boolean {
    return this.seen.has('requests') || this.seen.has('trailer');
  }

  startName(s: XmlByteScanner, depth: number): void {
    if (depth === 2 && this.section === 'requests' && s.localNameIs('Request')) s.captureAttrs = true;
  }

  startTag(s: XmlByteScanner, depth: number): void {
    if (depth === 1) {
      // Only the first of each section counts; anything else at this level is passed over.
      const section = s.localNameIs('Header') ? 'header' : s.localNameIs('Requests') ? 'requests' : s.localNameIs('Trailer') ? 'trailer' : 'none';
      this.section = section === 'none' || this.seen.has(section) ? 'none' : section;
      this.seen.add(section);
      return;
    }
    if (this.section === 'requests') {
      if (depth === 2 && s.localNameIs('Request')) this.request(s);
      return;
    }
    if (this.section === 'header') {
      if (depth === 2) {
        this.inSender = s.localNameIs('Sender');
        for (const [local, field] of Object.entries(SCAN_HEADER_FIELDS)) {
          if (s.localNameIs(local) && this.raw[field] === undefined) this.startCapture(s, field);
        }
      } else if (depth === 3 && this.inSender && s.localNameIs('CbeNumber') && this.raw.senderCbe === undefined) {
        this.startCapture(s, 'senderCbe');
      }
      return;
    }
    if (this.section === 'trailer' && depth === 2 && s.localNameIs('RecordCount') && !this.trailerPosition) {
      this.trailerPosition = { line: s.tagLine, column: s.tagColumn };
      this.startCapture(s, 'recordCount');
    }
  }

  endTag(s: XmlByteScanner, depth: number): void {
    if (depth === 1) this.section = 'none';
    if (!this.capture) return;
    const text = s.textOverflow > 0 ? undefined : decodeXmlText(s.text());
    s.captureText = false;
    if (text !== undefined) {
      if (this.capture === 'recordCount') {
        const n = /^\s*\+?[0-9]+\s*$/.test(text) ? Number(text.trim()) : NaN;
        if (Number.isSafeInteger(n)) this.recordCount = n;
      } else {
        this.raw[this.capture] = text;
      }
    }
    this.capture = undefined;
  }

  /** Collects the element's text until its endTag (at once for <FileId/>: empty text). */
  private startCapture(s: XmlByteScanner, field: HeaderField | 'recordCount'): void {
    this.capture = field;
    s.resetText();
    s.captureText = true;
  }

  /**
   * The seq rules of contract §3: the n-th Request carries seq n. The first value used twice and
   * the first Request off its position are both recorded; which one the client hears is decided
   * in answerRequest (a duplicate wins). A seq that is missing or not a number in the schema's
   * range is left to the schema (SCHEMA_INVALID wins over both).
   */
  private request(s: XmlByteScanner): void {
    const position = ++this.requestCount;
    if (this.duplicateSeq) return; // the outcome cannot change any more
    for (const a of s.attrs) {
      if (a.name !== 'seq') continue;
      const text = decodeXmlText(a.value).trim();
      if (!/^\+?[0-9]+$/.test(text)) return;
      const seq = Number(text);
      if (seq < 1 || seq >= MAX_TRACKED_SEQ) return;
      if (!this.seqs.add(seq)) this.duplicateSeq = { seq, line: a.line, column: a.column };
      else if (seq !== position && !this.seqOrder) this.seqOrder = { seq, expected: position, line: a.line, column: a.column };
      return;
    }
  }
}
