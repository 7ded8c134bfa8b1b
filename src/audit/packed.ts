// The packed audit (migration 009): one row per (SSIN, batch) holding that batch's lines for the
// person in a small blob, beside one row per batch with what all its lines share.
//
// Blob layout (no header, so two blobs of the same person and batch concatenate into one):
// a sequence of entries, each
//   varint  seq                      (unsigned LEB128)
//   byte    status                   (index in STATUS_CODES; 255 = escape: byte length, then ASCII code)
//   varint  quality code + 1         (0 = no integration allowed the line)
// Readers sort by seq and keep the first entry of a seq (a re-run never changes an entry).
import type { StatusCode } from '../interfaces.js';

export const AUDIT_BATCHES = 'audit_batches';
export const AUDIT_PERSONS = 'audit_persons';
export const AUDIT_RETENTION_RUNS = 'audit_retention_runs';

/** The fixed code table of the status byte: never reorder, only append. */
export const STATUS_CODES: readonly string[] = ['MSG00000', 'MSG00100', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00011', 'MSG00012', 'MSG00021'];
const STATUS_INDEX = new Map(STATUS_CODES.map((c, i) => [c, i]));
const ESCAPE = 255;

export interface PackedLine {
  seq: number;
  qualityCode: number | null;
  statusCode: StatusCode;
}

/** Appends one entry to `out` (a growing byte list). */
export function packLine(out: number[], seq: number, qualityCode: number | null, statusCode: string): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`audit seq must be a non-negative integer, got ${seq}`);
  if (qualityCode !== null && (!Number.isSafeInteger(qualityCode) || qualityCode < 0)) throw new RangeError(`audit quality code must be a non-negative integer, got ${qualityCode}`);
  varint(out, seq);
  const s = STATUS_INDEX.get(statusCode);
  if (s !== undefined) {
    out.push(s);
  } else {
    const ascii = Buffer.from(statusCode, 'latin1');
    if (ascii.length === 0 || ascii.length > 64) throw new RangeError(`audit status code "${statusCode}" cannot be stored`);
    out.push(ESCAPE, ascii.length, ...ascii);
  }
  varint(out, qualityCode === null ? 0 : qualityCode + 1);
}

/** The most bytes writeLine writes: a safe-integer seq (8), the status byte, a 31-bit quality code + 1 (5). */
export const MAX_LINE_BYTES = 14;

/**
 * packLine in place, for the audit sink's hot path: the entry of a line whose status has its byte in
 * STATUS_CODES (`status`, its index) and whose quality code + 1 is `quality1` (0: none), written
 * into `out` at `at` (MAX_LINE_BYTES must fit); returns the position after it. The caller has
 * checked seq and quality code (AuditSink.add).
 */
export function writeLine(out: Uint8Array, at: number, seq: number, status: number, quality1: number): number {
  at = varintAt(out, at, seq);
  out[at++] = status;
  return varintAt(out, at, quality1);
}

/** varint's bytes written into `out` at `at`; returns the position after them. */
function varintAt(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** The lines of one blob (or of concatenated blobs), in seq order, each seq once. */
export function unpackLines(blob: Uint8Array): PackedLine[] {
  const lines = unpackRaw(blob);
  lines.sort((a, b) => a.seq - b.seq);
  return lines.filter((l, k) => k === 0 || lines[k - 1].seq !== l.seq);
}

/** Every entry stored in a blob, as stored (a line written twice appears twice). */
export function unpackRaw(blob: Uint8Array): PackedLine[] {
  const lines: PackedLine[] = [];
  let i = 0;
  const readVarint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (i >= blob.length) throw new Error('audit blob is truncated');
      const b = blob[i++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  };
  while (i < blob.length) {
    const seq = readVarint();
    if (i >= blob.length) throw new Error('audit blob is truncated');
    const s = blob[i++];
    let statusCode: string;
    if (s === ESCAPE) {
      const len = blob[i++];
      statusCode = Buffer.from(blob.subarray(i, i + len)).toString('latin1');
      i += len;
    } else {
      const code = STATUS_CODES[s];
      if (code === undefined) throw new Error(`audit blob has an unknown status byte ${s}`);
      statusCode = code;
    }
    const q = readVarint();
    lines.push({ seq, qualityCode: q === 0 ? null : q - 1, statusCode: statusCode as StatusCode });
  }
  return lines;
}

/** Concatenates two blobs and keeps each seq once (the first one): the merge of a re-written row. */
export function mergeBlobs(kept: Uint8Array, added: Uint8Array): Buffer {
  const seen = new Set(unpackLines(kept).map((l) => l.seq));
  const out: number[] = [];
  for (const l of unpackLines(added)) if (!seen.has(l.seq)) packLine(out, l.seq, l.qualityCode, l.statusCode);
  return Buffer.concat([kept, Buffer.from(out)]);
}
