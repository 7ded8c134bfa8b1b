// Streaming writer of signed response files (contract §7).
//
// Why not a DOM + xml-crypto: on a 59 MB response that took 64 s and 4.8 GB. Instead we write
// the document directly in exc-c14n form (see c14n.ts). Then the bytes from `<BatchResponse`
// up to `<ds:Signature`, followed by `</BatchResponse>`, are exactly the canonical form of the
// document with the enveloped signature removed, i.e. what the Reference digest covers. We
// hash them as they go out and never hold the document.
//
// File layout:
//   <?xml version="1.0" encoding="UTF-8"?>\n        (not hashed: c14n drops the declaration)
//   <BatchResponse xmlns="urn:ldm-batch:v1">\n ... </Trailer>\n     (hashed)
//   <ds:Signature ...>...</ds:Signature></BatchResponse>\n          (not hashed, except that
//                                          the digest input ends with `</BatchResponse>`)
// Nothing may stand between `</ds:Signature>` and `</BatchResponse>`: the enveloped-signature
// transform removes only the Signature element, so any text there would be signed content.

import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { LdmError } from '../errors.js';
import {
  type HandicapAnswer,
  type ProfiledResponseLine,
  type Rejection,
  type ResponseHeader,
  type RightEntry,
  type Signer,
  type StatusCode,
} from '../interfaces.js';
import { element, escapeAttr, startTag } from './c14n.js';
import { signatureElement } from './sign.js';
import { EncodedLines, LineEncoder } from './lineBytes.js';
import { addTiming, timing } from '../pipeline/timings.js';

export const LDM_NS = 'urn:ldm-batch:v1';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** Bytes are handed to the stream (and the hashes) in chunks of about this many bytes. */
const CHUNK = 64 * 1024;
/** Room past CHUNK in each chunk buffer, so a typical line never makes it grow. */
const SLACK = 16 * 1024;
/**
 * We wait for 'drain' only once this much is queued in the stream. Waiting at every `false`
 * from write() (fs.WriteStream's highWaterMark is 16 KiB) would serialize computing and disk
 * I/O; a bounded queue lets them overlap and still keeps memory flat.
 */
const MAX_QUEUED = 1024 * 1024;

/**
 * Lines one by one, or in batches (the pipeline's resolvers yield batches: no await per line),
 * as objects or already encoded (EncodedLines: copied before the next is asked for).
 */
export type ResponseBody =
  | AsyncIterable<ProfiledResponseLine | readonly ProfiledResponseLine[] | EncodedLines>
  | Iterable<ProfiledResponseLine>
  | { rejection: Rejection };

export interface WriteResult {
  /** base64 SHA-256 of the canonical signed content: the DigestValue written in the signature. */
  digest: string;
  /** Number of Response elements written (0 for a rejection). */
  recordCount: number;
  /** Lines per status code (empty for a rejection). */
  statusCounts: Partial<Record<StatusCode, number>>;
  /** hex SHA-256 of every byte of the file as written (for the journal; saves re-reading it). */
  fileSha256: string;
}

/** `R.xml` → `R.response.xml`; a name without `.xml` gets `.response.xml` appended. */
export function responseFileName(requestName: string): string {
  return `${requestName.replace(/\.xml$/i, '')}.response.xml`;
}

function isBatch(item: ProfiledResponseLine | readonly ProfiledResponseLine[] | EncodedLines): item is readonly ProfiledResponseLine[] {
  return Array.isArray(item);
}

function isRejection(body: ResponseBody): body is { rejection: Rejection } {
  return !(Symbol.iterator in body) && !(Symbol.asyncIterator in body) && 'rejection' in body;
}

// ------------------------------------------------------------------------ line serialization
// The hot path (Response, Year, Months) is lineBytes.ts. Here: the rest, as strings, attributes
// in their canonical (sorted) order by hand; test/response/c14n.test.ts checks both against the
// generic serializer.

function int(v: number, what: string): string {
  if (!Number.isSafeInteger(v)) throw new Error(`${what} must be an integer, got ${v}`);
  return String(v);
}

function rightXml(r: RightEntry): string {
  // canonical order: ocmw rightId type; Period: from to. The XSD requires at least one Period.
  if (r.periods.length === 0) throw new Error(`right ${r.rightId}: a Right needs at least one Period`);
  let s = `        <Right ocmw="${escapeAttr(r.ocmw)}" rightId="${escapeAttr(r.rightId)}" type="${escapeAttr(r.type)}">\n`;
  for (const p of r.periods) s += `          <Period from="${escapeAttr(p.from)}" to="${escapeAttr(p.to)}"></Period>\n`;
  return `${s}        </Right>\n`;
}

/** The `<Handicap>` answer (Handiservice, contract §6c): kinds in the contract's order, attributes in canonical order. */
function handicapXml(h: HandicapAnswer): string {
  let s = `      <Handicap>\n`;
  for (const [name, entries] of [
    ['Recognition', h.recognitions],
    ['Right', h.rights],
    ['Payment', h.payments],
    ['SocialCard', h.cards],
  ] as const) {
    for (const e of entries) s += `        ${startTag(name, e)}</${name}>\n`;
  }
  return `${s}      </Handicap>\n`;
}

/** The answers that are not written on the hot path (Rights, Handicap), as a string. */
function answerXml(line: ProfiledResponseLine): string {
  if (line.rights !== undefined) {
    let s = `      <Rights>\n`;
    for (const r of line.rights) s += rightXml(r);
    return `${s}      </Rights>\n`;
  }
  return line.handicap !== undefined ? handicapXml(line.handicap) : '';
}

/** One `<Response>` element as a string, indented, ending with a newline (for tests). */
export function responseLineXml(line: ProfiledResponseLine): string {
  const e = new LineEncoder(1024);
  e.responseLine(line, answerXml);
  return e.written();
}

/**
 * The header of a scheduled extract (contract §6d): `ExtractId` stands where a response to a
 * request has `InReplyTo` and `RequestSha256`; the rest of the document is a response's.
 */
export interface ExtractHeader {
  extractId: string;
  service: 'LivingWagesWithAmount';
  referenceDate: string; // YYYY-MM-DD
  processedAt: string; // YYYY-MM-DDTHH:MM:SSZ
}

function headerXml(h: ResponseHeader | ExtractHeader): string {
  let s = `  <Header>\n`;
  if ('extractId' in h) {
    s += `    ${element('ExtractId', {}, h.extractId)}\n`;
  } else {
    if (h.inReplyTo !== undefined) s += `    ${element('InReplyTo', {}, h.inReplyTo)}\n`;
    s += `    ${element('RequestSha256', {}, h.requestSha256)}\n`;
  }
  if (h.service !== undefined) s += `    ${element('Service', {}, h.service)}\n`;
  s += `    ${element('ReferenceDate', {}, h.referenceDate)}\n`;
  s += `    ${element('ProcessedAt', {}, h.processedAt)}\n`;
  return `${s}  </Header>\n`;
}

function rejectionXml(r: Rejection): string {
  let s = `  ${startTag('Rejection', { code: r.code })}\n`;
  for (const e of r.errors) {
    s += `    ${element('Error', { line: int(e.line, 'line'), column: int(e.column, 'column') }, e.message)}\n`;
  }
  return `${s}  </Rejection>\n`;
}

function trailerXml(recordCount: number, counts: Partial<Record<StatusCode, number>>): string {
  let s = `  <Trailer>\n    ${element('RecordCount', {}, String(recordCount))}\n`;
  // Ascending code order; plain code-point sort of 'MSGnnnnn' is numeric order.
  for (const code of (Object.keys(counts) as StatusCode[]).sort()) {
    s += `    ${element('StatusCount', { code }, String(counts[code]))}\n`;
  }
  return `${s}  </Trailer>\n`;
}

// ------------------------------------------------------------------------ output plumbing

/**
 * Where a response's bytes go, and who hashes them: here (StreamOutput, over any stream) or a
 * worker thread that hashes and writes the file (response/fileOutput.ts: the two SHA-256 of a
 * big response are ~0.8 s of CPU per million lines that the answering thread need not spend).
 */
export interface ResponseOutput {
  /**
   * Takes `chunk` (and its whole ArrayBuffer: the caller never touches it again). `signed`: part
   * of the signed (canonical) content. A returned promise asks the caller to wait before the next write.
   */
  write(chunk: Buffer, signed: boolean): Promise<void> | undefined;
  /** A buffer of `size` bytes for the next chunk, when the output recycles those it was given. */
  reuse?(size: number): Buffer | undefined;
  /** Bytes per chunk this output prefers (default CHUNK): each write has a fixed cost of its own. */
  readonly chunkSize?: number;
  /** base64 SHA-256 of the signed content followed by `tail`; after the last signed write. */
  signedDigest(tail: string): Promise<string>;
  /** Ends the file; resolves once it is complete and closed, with the hex SHA-256 of all its bytes. */
  end(): Promise<string>;
  abort(): void;
}

function isOutput(out: NodeJS.WritableStream | ResponseOutput): out is ResponseOutput {
  return typeof (out as ResponseOutput).signedDigest === 'function';
}

/** The output over a stream, hashed on this thread. */
class StreamOutput implements ResponseOutput {
  private readonly hash = createHash('sha256');
  private readonly fileHash = createHash('sha256');
  private failure: Error | undefined;
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    // Keeps an early stream error (disk full, EACCES) from being an unhandled 'error' event.
    out.on('error', this.onError);
  }

  write(chunk: Buffer, signed: boolean): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (signed) this.hash.update(chunk);
    this.fileHash.update(chunk);
    return !this.out.write(chunk) && this.queued() > MAX_QUEUED ? this.drain() : undefined;
  }

  signedDigest(tail: string): Promise<string> {
    this.hash.update(tail, 'utf8');
    return Promise.resolve(this.hash.digest('base64'));
  }

  async end(): Promise<string> {
    if (this.failure) throw this.failure;
    this.out.end();
    // For an fs.WriteStream this waits for 'close' too, so the file is complete and its
    // descriptor released before the caller renames it into place.
    await finished(this.out);
    return this.fileHash.digest('hex');
  }

  abort(): void {
    const out = this.out as NodeJS.WritableStream & { destroy?: () => void };
    if (typeof out.destroy === 'function') out.destroy();
  }

  /** Bytes queued in the stream; a stream that does not say is treated as full. */
  private queued(): number {
    const n = (this.out as NodeJS.WritableStream & { writableLength?: number }).writableLength;
    return typeof n === 'number' ? n : Number.POSITIVE_INFINITY;
  }

  private drain(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const done = (err?: Error): void => {
        this.out.off('drain', onDrain);
        this.out.off('error', onErr);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onErr = (err: Error): void => done(err);
      this.out.once('drain', onDrain);
      this.out.once('error', onErr);
    });
  }
}

/**
 * Encodes straight into a byte buffer (LineEncoder) and hands chunks to the output (CHUNK bytes,
 * or the output's own chunkSize).
 * (Appending to one string and encoding it at each flush made a 64 KiB rope per chunk for the
 * garbage collector.)
 */
class ChunkedOutput extends LineEncoder {
  private readonly chunk: number;

  constructor(readonly out: ResponseOutput) {
    const chunk = out.chunkSize ?? CHUNK;
    super(chunk + SLACK);
    this.chunk = chunk;
  }

  /** Appends; returns true when a flush is due (the caller awaits it, keeping the loop cheap). */
  add(s: string): boolean {
    this.addString(s);
    return this.full();
  }

  /**
   * Appends encoded bytes from b[from …) up to a full chunk (a chunk may end inside a line: it is
   * only bytes of the file); returns where it stopped. The caller flushes a full chunk and goes on:
   * growing the buffer instead cost a copy and a bigger allocation per chunk.
   */
  encoded(b: Uint8Array, from: number): number {
    const n = Math.min(b.length - from, this.chunk - this.used);
    if (n <= 0) return from;
    this.buf.set(b.subarray(from, from + n), this.used);
    this.used += n;
    return from + n;
  }

  /** Whether a flush is due. */
  full(): boolean {
    return this.used >= this.chunk;
  }

  /** Appends one `<Response>`; returns true when a flush is due. */
  line(line: ProfiledResponseLine): boolean {
    this.responseLine(line, answerXml);
    return this.full();
  }

  async flush(signed: boolean): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    // The output keeps the chunk (and its buffer): the next bytes go into another buffer.
    this.setBuffer(this.out.reuse?.(this.chunk + SLACK) ?? Buffer.allocUnsafeSlow(this.chunk + SLACK));
    this.used = 0;
    const wait = this.out.write(chunk, signed);
    if (wait) await wait;
  }

  async end(): Promise<string> {
    await this.flush(false);
    return this.out.end();
  }
}

/**
 * Writes a complete signed response to `out`.
 *
 * Stream ownership: on success this ends `out` and resolves once it has finished (for an
 * fs.WriteStream: after the descriptor is closed), so the caller may rename the file at once.
 * On any failure (bad line, seq out of order, iterator error, write error) it destroys `out`
 * and rejects; the partial file is unsigned garbage and the caller must delete it. Callers
 * write to a temporary name and rename after success (contract §2: atomic responses).
 *
 * Lines must come in ascending `seq` order (the caller sorts); this is checked, not fixed.
 */
export async function writeResponse(
  out: NodeJS.WritableStream | ResponseOutput,
  header: ResponseHeader | ExtractHeader,
  body: ResponseBody,
  signer: Signer,
): Promise<WriteResult> {
  const w = new ChunkedOutput(isOutput(out) ? out : new StreamOutput(out));
  try {
    w.add(XML_DECL);
    await w.flush(false);
    w.add(`<BatchResponse xmlns="${LDM_NS}">\n`);
    w.add(headerXml(header));

    let recordCount = 0;
    const statusCounts: Partial<Record<StatusCode, number>> = {};
    if (isRejection(body)) {
      w.add(rejectionXml(body.rejection));
    } else {
      w.add('  <Responses>\n');
      let lastSeq = 0;
      const counted = (seq: number, status: StatusCode): void => {
        if (!(seq > lastSeq)) {
          throw new LdmError('RESPONSE_ORDER', `response lines must come in ascending seq order: seq ${seq} after seq ${lastSeq}`);
        }
        lastSeq = seq;
        recordCount++;
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      };
      const one = (line: ProfiledResponseLine): boolean => {
        counted(line.seq, line.status);
        return w.line(line);
      };
      if (Symbol.asyncIterator in body) {
        const timed = timing();
        for await (const item of body) {
          const t0 = timed ? performance.now() : 0;
          if (item instanceof EncodedLines) {
            for (let i = 0; i < item.length; i++) counted(item.seq[i], item.status[i]);
            const b = item.bytes();
            let at = 0;
            do {
              at = w.encoded(b, at);
              if (w.full()) await w.flush(true);
            } while (at < b.length);
          } else if (isBatch(item)) {
            for (const line of item) if (one(line)) await w.flush(true);
          } else if (one(item)) await w.flush(true);
          if (timed) addTiming('write', performance.now() - t0);
        }
      } else {
        // Plain loop for sync iterables: for-await would cost a microtask per line.
        for (const line of body) if (one(line)) await w.flush(true);
      }
      w.add('  </Responses>\n');
    }
    w.add(trailerXml(recordCount, statusCounts));
    await w.flush(true);

    // The digest input ends with the root's end tag; the signature sits just before it.
    const digest = await w.out.signedDigest('</BatchResponse>');
    w.add(`${signatureElement(digest, signer)}</BatchResponse>\n`);
    const fileSha256 = await w.end();
    return { digest, recordCount, statusCounts, fileSha256 };
  } catch (err) {
    w.out.abort();
    throw err;
  }
}
