// An open read model (layout.ts). Persons, repertory and the per-SSIN indexes are held in memory;
// the amount records too when they fit `amountsInMemoryBytes`, else they are read on demand with
// positioned reads (a person's rows are one read: records are grouped by SSIN).
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { AmountRow, AmountStatus, BenefitType, Category, Integration, Person } from '../interfaces.js';
import { LdmError } from '../errors.js';
import { AMOUNT_RECORD_BYTES, FORMAT, MAGIC, NONE, PREFIX_BYTES, SECTION_NAMES, findKey, ssinKey, ssinText, type ReadModelHeader, type SectionName } from './layout.js';

/** Amount records up to this size are loaded; bigger sections stay on disk (national scale). */
export const DEFAULT_AMOUNTS_IN_MEMORY_BYTES = 32 * 1024 * 1024;

export interface OpenOptions {
  amountsInMemoryBytes?: number;
}

export class ReadModel {
  readonly header: ReadModelHeader;
  private readonly strings: string[];
  private readonly personSsin: Float64Array;
  private readonly personReplacedBy: Float64Array;
  private readonly personRep: Uint32Array;
  private readonly repSector: Uint32Array;
  private readonly repInstitution: Uint32Array;
  private readonly repQualityCode: Uint32Array;
  private readonly repStart: Uint32Array;
  private readonly repEnd: Uint32Array;
  private readonly amountKey: Float64Array;
  private readonly amountStart: Uint32Array;
  private readonly partnerKey: Float64Array;
  private readonly partnerStart: Uint32Array;
  private readonly partnerRow: Uint32Array;
  /** The amount records when in memory; else read through `fd`. */
  private readonly amounts: DataView | undefined;
  private fd: number | undefined;
  private readonly amountsOffset: number;
  private scratch = Buffer.alloc(64 * AMOUNT_RECORD_BYTES);

  private constructor(header: ReadModelHeader, sections: Partial<Record<SectionName, Buffer>>, fd: number | undefined) {
    this.header = header;
    const s = (n: SectionName): Buffer => {
      const b = sections[n];
      if (b === undefined) throw new Error(`read model section ${n} was not loaded`);
      return b;
    };
    const f64 = (n: SectionName): Float64Array => new Float64Array(aligned(s(n)).buffer, aligned(s(n)).byteOffset, s(n).byteLength / 8);
    const u32 = (n: SectionName): Uint32Array => new Uint32Array(aligned(s(n)).buffer, aligned(s(n)).byteOffset, s(n).byteLength / 4);
    this.strings = JSON.parse(s('strings').toString('utf8')) as string[];
    this.personSsin = f64('personSsin');
    this.personReplacedBy = f64('personReplacedBy');
    this.personRep = u32('personRep');
    this.repSector = u32('repSector');
    this.repInstitution = u32('repInstitution');
    this.repQualityCode = u32('repQualityCode');
    this.repStart = u32('repStart');
    this.repEnd = u32('repEnd');
    this.amountKey = f64('amountKey');
    this.amountStart = u32('amountStart');
    this.partnerKey = f64('partnerKey');
    this.partnerStart = u32('partnerStart');
    this.partnerRow = u32('partnerRow');
    const amounts = sections.amounts;
    this.amounts = amounts === undefined ? undefined : new DataView(amounts.buffer, amounts.byteOffset, amounts.byteLength);
    this.fd = fd;
    this.amountsOffset = header.sections.amounts.offset;
  }

  /**
   * Opens and checks a read model file: magic, format, and the SHA-256 of its body. A file that
   * fails is refused (READ_MODEL_CORRUPT); the caller rebuilds it from the store.
   */
  static open(path: string, opts: OpenOptions = {}): ReadModel {
    const fd = openSync(path, 'r');
    let keepFd = false;
    try {
      const size = fstatSync(fd).size;
      const prefix = Buffer.alloc(PREFIX_BYTES);
      readFully(fd, prefix, 0);
      if (prefix.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'it is not a read model file');
      if (prefix.readUInt32LE(8) !== FORMAT) throw corrupt(path, `format ${prefix.readUInt32LE(8)} is not format ${FORMAT}`);
      const headerBytes = Buffer.alloc(prefix.readUInt32LE(12));
      readFully(fd, headerBytes, PREFIX_BYTES);
      let header: ReadModelHeader;
      try {
        header = JSON.parse(headerBytes.toString('utf8')) as ReadModelHeader;
      } catch {
        throw corrupt(path, 'its header is not readable');
      }
      const bodyStart = PREFIX_BYTES + headerBytes.length;
      const inMemory = header.sections.amounts.length <= (opts.amountsInMemoryBytes ?? DEFAULT_AMOUNTS_IN_MEMORY_BYTES);
      // Every byte of the body goes through the checksum; the sections kept are copied out of it.
      const hash = createHash('sha256');
      const sections: Partial<Record<SectionName, Buffer>> = {};
      const chunk = Buffer.allocUnsafe(1 << 22);
      const wanted = SECTION_NAMES.filter((n) => n !== 'amounts' || inMemory).map((n) => ({ n, ...header.sections[n] }));
      for (const w of wanted) sections[w.n] = Buffer.alloc(w.length);
      for (let pos = bodyStart; pos < size; ) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (n === 0) break;
        hash.update(chunk.subarray(0, n));
        for (const w of wanted) {
          const from = Math.max(pos, w.offset);
          const to = Math.min(pos + n, w.offset + w.length);
          if (from < to) chunk.copy(sections[w.n] as Buffer, from - w.offset, from - pos, to - pos);
        }
        pos += n;
      }
      if (hash.digest('hex') !== header.sha256) throw corrupt(path, 'its checksum does not match (a torn or altered file)');
      keepFd = !inMemory;
      return new ReadModel(header, sections, keepFd ? fd : undefined);
    } finally {
      if (!keepFd) closeSync(fd);
    }
  }

  get storeVersion(): number {
    return this.header.storeVersion;
  }

  /** Whether the amount records are held in memory (else read on demand). */
  get amountsInMemory(): boolean {
    return this.amounts !== undefined;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The person's index, or -1 when the SSIN is not in the register. */
  personIndex(ssin: string): number {
    const k = ssinKey(ssin);
    return k === undefined ? -1 : findKey(this.personSsin, k);
  }

  person(index: number): Person {
    const r = this.personReplacedBy[index];
    return { ssin: ssinText(this.personSsin[index]), replacedBy: r < 0 ? null : ssinText(r) };
  }

  /**
   * The person's integrations that may count for this sender (its own, institution-level, and
   * its sector's), in (startDate, qualityCode, institution) order, as the store's lookup returns them.
   */
  integrations(index: number, senderCbe: string, sector: number): Integration[] {
    const out: Integration[] = [];
    const ssin = ssinText(this.personSsin[index]);
    for (let i = this.personRep[index], end = this.personRep[index + 1]; i < end; i++) {
      const inst = this.strings[this.repInstitution[i]];
      const sec = this.repSector[i];
      const own = inst === senderCbe;
      if (!own && !(inst === '' && sec === sector)) continue;
      const e = this.repEnd[i];
      out.push({ ssin, sector: sec, institutionCbe: own ? inst : null, qualityCode: this.repQualityCode[i], startDate: this.strings[this.repStart[i]], endDate: e === NONE ? null : this.strings[e] });
    }
    return out;
  }

  /**
   * The amount rows of one person in one role (BENEFICIARY: the person's rows; PARTNER: rows that
   * name the person as partner) that a line needs: months from..to (plain string order) and the
   * rows after `to` that `keepAfter` accepts (by paidOn; the rules only ask whether a visible one exists).
   */
  amountRows(ssin: string, role: 'BENEFICIARY' | 'PARTNER', from: string, to: string, keepAfter: ((paidOn: string) => boolean) | undefined): AmountRow[] {
    const k = ssinKey(ssin);
    if (k === undefined) return [];
    const out: AmountRow[] = [];
    let afterFound = false;
    const take = (v: DataView, o: number, record: number): void => {
      const month = this.strings[v.getUint16(o + 22, true)];
      if (month < from) return;
      if (month > to) {
        if (keepAfter === undefined || afterFound) return;
        const paidOn = this.strings[v.getUint16(o + 28, true)];
        if (!keepAfter(paidOn)) return;
        afterFound = true;
      }
      out.push(this.row(v, o, ssin, role, record));
    };
    if (role === 'BENEFICIARY') {
      const p = findKey(this.amountKey, k);
      if (p < 0) return out;
      const first = this.amountStart[p];
      const count = this.amountStart[p + 1] - first;
      const { view, base } = this.records(first, count);
      for (let i = 0; i < count; i++) take(view, base + i * AMOUNT_RECORD_BYTES, first + i);
    } else {
      const p = findKey(this.partnerKey, k);
      if (p < 0) return out;
      for (let j = this.partnerStart[p], end = this.partnerStart[p + 1]; j < end; j++) {
        const record = this.partnerRow[j];
        const { view, base } = this.records(record, 1);
        take(view, base, record);
      }
    }
    return out;
  }

  private beneficiaryOf(record: number): number {
    // the beneficiary of a record: the amountKey whose range holds it
    let lo = 0;
    let hi = this.amountKey.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.amountStart[mid] <= record) lo = mid;
      else hi = mid - 1;
    }
    return this.amountKey[lo];
  }

  private row(v: DataView, o: number, requested: string, role: 'BENEFICIARY' | 'PARTNER', record: number): AmountRow {
    const partner = v.getFloat64(o, true);
    const S = this.strings;
    const ssin = role === 'BENEFICIARY' ? requested : ssinText(this.beneficiaryOf(record));
    return {
      ssin,
      partnerSsin: role === 'PARTNER' ? requested : partner < 0 ? null : ssinText(partner),
      ocmwCbe: S[v.getUint16(o + 16, true)],
      benefitType: S[v.getUint16(o + 18, true)] as BenefitType,
      category: S[v.getUint16(o + 20, true)] as Category,
      month: S[v.getUint16(o + 22, true)],
      grantFrom: S[v.getUint16(o + 24, true)],
      grantTo: S[v.getUint16(o + 26, true)],
      amountCents: v.getFloat64(o + 8, true),
      paidOn: S[v.getUint16(o + 28, true)],
      status: S[v.getUint16(o + 30, true)] as AmountStatus,
    };
  }

  /** A view on records [first, first+count) and the byte offset of the first in it. */
  private records(first: number, count: number): { view: DataView; base: number } {
    if (this.amounts !== undefined) return { view: this.amounts, base: first * AMOUNT_RECORD_BYTES };
    const bytes = count * AMOUNT_RECORD_BYTES;
    if (this.scratch.length < bytes) this.scratch = Buffer.alloc(bytes * 2);
    if (this.fd === undefined) throw new LdmError('READ_MODEL_CLOSED', 'the read model was closed while a batch was reading it');
    readFully(this.fd, this.scratch.subarray(0, bytes), this.amountsOffset + first * AMOUNT_RECORD_BYTES);
    return { view: new DataView(this.scratch.buffer, this.scratch.byteOffset, bytes), base: 0 };
  }
}

function aligned(b: Buffer): Buffer {
  if (b.byteOffset % 8 === 0) return b;
  const copy = Buffer.alloc(b.length);
  b.copy(copy);
  return copy;
}

function readFully(fd: number, into: Buffer, position: number): void {
  let off = 0;
  while (off < into.length) {
    const n = readSync(fd, into, off, into.length - off, position + off);
    if (n === 0) throw new LdmError('READ_MODEL_CORRUPT', 'the read model file is shorter than its header says');
    off += n;
  }
}

function corrupt(path: string, why: string): LdmError {
  return new LdmError('READ_MODEL_CORRUPT', `read model ${path}: ${why}; it will be rebuilt from the store`);
}
