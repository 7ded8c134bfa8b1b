// An open read model (layout.ts). Persons and the per-SSIN indexes are held in memory; the
// repertory too when it fits `repertoryInMemoryBytes`, and the amount records when they fit
// `amountsInMemoryBytes`. Else they are read on demand with positioned reads: a person's amount
// rows are one read (records are grouped by SSIN), and so are a person's repertory rows, from a
// row-major copy of the file's five repertory columns made at open (an unlinked temporary file).
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import type { HandicapRecords, Integration, Person } from '../interfaces.js';
import { HandiserviceTables } from './handiservice.js';
import { ensureCapacity, lowerBound, upperBound, type AmountColumns } from '../domain/aggregate.js';
import { LdmError } from '../errors.js';
import { writeAllSync } from '../files/writeAll.js';
import { ssinText } from '../domain/ssin.js';
import { AMOUNT_RECORD_BYTES, FORMAT, MAGIC, NONE, PREFIX_BYTES, SECTION_NAMES, findKey, ssinKey, type ReadModelHeader, type SectionName } from './layout.js';

/** Amount records up to this size are loaded; bigger sections stay on disk (national scale). */
export const DEFAULT_AMOUNTS_IN_MEMORY_BYTES = 32 * 1024 * 1024;
/** The repertory is held in memory up to this size (10 bytes a row); a bigger one is read per person. */
export const DEFAULT_REPERTORY_IN_MEMORY_BYTES = 32 * 1024 * 1024;
/** Repertory rows in the row-major copy: five uint32 values (sector, institution, quality code, start, end). */
const REP_ROW_BYTES = 20;
const REP_ROW_WORDS = REP_ROW_BYTES / 4;

/**
 * With the amount records on disk, the partner references (4 B a row with a partner) stay in memory
 * up to this size: a PARTNER line then needs one read, not two.
 */
export const DEFAULT_PARTNER_ROW_IN_MEMORY_BYTES = 16 * 1024 * 1024;
/** A partner's records are read in one go when they lie within this many records (16 KiB). */
const PARTNER_SPAN_RECORDS = 512;
/** stage() reads the files in windows of this many bytes. */
const STAGE_WINDOW_BYTES = 64 * 1024;

/**
 * Records of one kind read ahead for a group of lines (ReadModel.stage): the group's persons'
 * records, read in file order through a window, so a line costs a lookup instead of a positioned
 * read.
 */
export class RecordStaging {
  /**
   * The staged keys (amountKey index, or person index for the repertory), ascending and each once,
   * and the first record of each in `records`: searched, not hashed (a Map of a group's keys was
   * rebuilt for every group, megabytes of garbage a million lines).
   */
  private keysStaged = new Int32Array(0);
  private firsts = new Int32Array(0);
  private staged = 0;
  records = Buffer.alloc(0);
  f64 = new Float64Array(0);
  u16 = new Uint16Array(0);
  u32 = new Uint32Array(0);
  /** Scratch: the group's keys, sorted. */
  keys = new Int32Array(0);
  window = Buffer.alloc(0);
  windowU32 = new Uint32Array(0);

  ensure(bytes: number): void {
    if (this.records.length >= bytes) return;
    this.records = Buffer.alloc(Math.max(bytes, this.records.length * 2));
    this.f64 = new Float64Array(this.records.buffer, this.records.byteOffset, Math.floor(this.records.byteLength / 8));
    this.u16 = new Uint16Array(this.records.buffer, this.records.byteOffset, Math.floor(this.records.byteLength / 2));
    this.u32 = new Uint32Array(this.records.buffer, this.records.byteOffset, Math.floor(this.records.byteLength / 4));
  }

  /** The first record in `records` of `key`'s records; -1 when they are not staged. */
  at(key: number): number {
    const keys = this.keysStaged;
    let lo = 0;
    let hi = this.staged;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.staged && keys[lo] === key ? this.firsts[lo] : -1;
  }

  /** How many keys are staged. */
  get size(): number {
    return this.staged;
  }

  clear(): void {
    this.staged = 0;
  }

  /** Records `key` as staged from record `first` on; keys come in ascending order. */
  add(key: number, first: number): void {
    const n = this.staged;
    if (n === this.keysStaged.length) {
      const size = Math.max(1024, 2 * n);
      const k = new Int32Array(size);
      const f = new Int32Array(size);
      k.set(this.keysStaged);
      f.set(this.firsts);
      this.keysStaged = k;
      this.firsts = f;
    }
    this.keysStaged[n] = key;
    this.firsts[n] = first;
    this.staged = n + 1;
  }
}

/**
 * A resolver's read-ahead, for the parts of the model that stay on disk (national scale): the
 * amount records and the repertory rows of a group's persons. One resolver's own: batches that
 * share the model never share a staging, which outlives the awaits between a resolver's chunks.
 */
export class Staging {
  readonly amounts = new RecordStaging();
  readonly repertory = new RecordStaging();
}

export interface OpenOptions {
  amountsInMemoryBytes?: number;
  repertoryInMemoryBytes?: number;
  /** PARTNER_SPAN_RECORDS (tests set 1 to read a partner's records one by one). */
  partnerSpanRecords?: number;
  /** DEFAULT_PARTNER_ROW_IN_MEMORY_BYTES (tests set 0 to read the references on demand too). */
  partnerRowInMemoryBytes?: number;
  /** The read-ahead window in records (default STAGE_WINDOW_BYTES; tests set a few records, to read past the window and around it). */
  stageWindowRecords?: number;
}

export class ReadModel {
  readonly header: ReadModelHeader;
  /** The model's text values, sorted (layout.ts): record fields are indexes into it. */
  readonly strings: readonly string[];
  private readonly personSsin: Float64Array;
  /**
   * The replaced persons only (sorted person indexes and their new SSINs): the file's
   * personReplacedBy column is -1 for nearly everyone, and at national scale it would hold
   * 8 bytes per person in memory for a handful of replacements.
   */
  private readonly replacedIndex: Float64Array;
  private readonly replacedSsin: Float64Array;
  private readonly personRep: Uint32Array;
  /**
   * The repertory rows, row-major (REP_ROW_WORDS values a row: sector, institution, quality code,
   * start, end), so that a person's rows are a cache line or two rather than one in each of five
   * columns: when held in memory, all of them — as 16-bit values when every value fits (string
   * indexes and small codes; half the memory at national scale), else as in the file; when not,
   * the rows repRows() read last (or read ahead by stage()).
   */
  private rep: Uint16Array | Uint32Array;
  /** NONE (an open end) as `rep` holds it. */
  private readonly repEndNone: number;
  /** The row-major copy of the repertory when it is not held in memory. */
  private repFd: number | undefined;
  private repBytes = Buffer.alloc(16 * REP_ROW_BYTES);
  private repWords = new Uint32Array(this.repBytes.buffer, this.repBytes.byteOffset, this.repBytes.length / 4);
  private readonly amountKey: Float64Array;
  private readonly amountStart: Uint32Array;
  private readonly partnerKey: Float64Array;
  private readonly partnerStart: Uint32Array;
  /** In memory with the amount records; else read on demand too. */
  private readonly partnerRow: Uint32Array | undefined;
  private readonly partnerRowOffset: number;
  private refScratch = new Uint32Array(64);
  private partnerSpan = PARTNER_SPAN_RECORDS;
  private stageWindow: number | undefined;
  /** Whether the amount records are held in memory (else read through `fd` into `scratch`). */
  private readonly inMemory: boolean;
  /** Views on the amount records: the section when in memory, else `scratch`. */
  private f64: Float64Array;
  private u16: Uint16Array;
  private fd: number | undefined;
  private readonly amountsOffset: number;
  private scratch: Buffer;
  private readonly handiservice: HandiserviceTables;

  private constructor(header: ReadModelHeader, sections: Partial<Record<SectionName, Buffer>>, repInMemory: NarrowRows | undefined, fd: number | undefined, repFd: number | undefined) {
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
    [this.replacedIndex, this.replacedSsin] = sparseReplacements(f64('personReplacedBy'));
    delete sections.personReplacedBy; // the dense column is not kept
    this.personRep = u32('personRep');
    this.repFd = repFd;
    this.rep = repInMemory?.values() ?? this.repWords;
    this.repEndNone = this.rep instanceof Uint16Array ? NONE16 : NONE;
    this.amountKey = f64('amountKey');
    this.amountStart = u32('amountStart');
    this.partnerKey = f64('partnerKey');
    this.partnerStart = u32('partnerStart');
    this.partnerRow = sections.partnerRow === undefined ? undefined : u32('partnerRow');
    this.partnerRowOffset = header.sections.partnerRow.offset;
    const amounts = sections.amounts;
    this.inMemory = amounts !== undefined;
    const records = amounts === undefined ? Buffer.alloc(64 * AMOUNT_RECORD_BYTES) : aligned(amounts);
    this.scratch = records;
    this.f64 = new Float64Array(records.buffer, records.byteOffset, records.byteLength / 8);
    this.u16 = new Uint16Array(records.buffer, records.byteOffset, records.byteLength / 2);
    this.fd = fd;
    this.amountsOffset = header.sections.amounts.offset;
    this.handiservice = new HandiserviceTables(s, f64, u32);
  }

  /**
   * Opens and checks a read model file: magic, format, and the CRC-32 of its body. A file that
   * fails is refused (READ_MODEL_CORRUPT; READ_MODEL_OUTDATED for a file of another format, written
   * by another version of ldm-batch); the caller rebuilds it from the store.
   */
  static open(path: string, opts: OpenOptions = {}): ReadModel {
    // The sections are read through typed arrays, which use the machine's byte order.
    if (endianness() !== 'LE') throw new LdmError('READ_MODEL_UNSUPPORTED', 'the read model is little endian; this machine is big endian');
    const fd = openSync(path, 'r');
    let keepFd = false;
    try {
      const size = fstatSync(fd).size;
      const prefix = Buffer.alloc(PREFIX_BYTES);
      readFully(fd, prefix, 0);
      if (prefix.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'it is not a read model file');
      if (prefix.readUInt32LE(8) !== FORMAT) {
        throw new LdmError('READ_MODEL_OUTDATED', `read model ${path}: format ${prefix.readUInt32LE(8)} is not format ${FORMAT} (written by another version of ldm-batch); it will be rebuilt from the store`);
      }
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
      let crc = 0;
      const sections: Partial<Record<SectionName, Buffer>> = {};
      const chunk = Buffer.allocUnsafe(1 << 22);
      const repRows = header.sections.repSector.length / 4;
      const repInMemory = repRows * 10 <= (opts.repertoryInMemoryBytes ?? DEFAULT_REPERTORY_IN_MEMORY_BYTES);
      const refsInMemory = inMemory || header.sections.partnerRow.length <= (opts.partnerRowInMemoryBytes ?? DEFAULT_PARTNER_ROW_IN_MEMORY_BYTES);
      const onDisk = new Set<SectionName>([...(inMemory ? [] : ['amounts' as const]), ...(refsInMemory ? [] : ['partnerRow' as const])]);
      const repertory = repInMemory ? new NarrowRows(repRows) : undefined;
      const wanted = SECTION_NAMES.filter((n) => !onDisk.has(n) && !(NARROW as readonly SectionName[]).includes(n)).map((n) => ({ n, ...header.sections[n] }));
      for (const w of wanted) sections[w.n] = Buffer.alloc(w.length);
      const converted = repertory === undefined ? [] : NARROW.map((n, field) => ({ n, ...header.sections[n], field, rows: repertory }));
      for (let pos = bodyStart; pos < size; ) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (n === 0) break;
        crc = crc32(chunk.subarray(0, n), crc);
        for (const w of wanted) {
          const from = Math.max(pos, w.offset);
          const to = Math.min(pos + n, w.offset + w.length);
          if (from < to) chunk.copy(sections[w.n] as Buffer, from - w.offset, from - pos, to - pos);
        }
        for (const w of converted) {
          const from = Math.max(pos, w.offset);
          const to = Math.min(pos + n, w.offset + w.length);
          if (from < to) w.rows.put(w.field, (from - w.offset) / 4, chunk, from - pos, to - pos);
        }
        pos += n;
      }
      if (crc !== header.crc32) throw corrupt(path, 'its checksum does not match (a torn or altered file)');
      const repFd = repInMemory ? undefined : rowMajorRepertory(fd, path, header, repRows);
      keepFd = !inMemory;
      const model = new ReadModel(header, sections, repertory, keepFd ? fd : undefined, repFd);
      model.partnerSpan = opts.partnerSpanRecords ?? PARTNER_SPAN_RECORDS;
      model.stageWindow = opts.stageWindowRecords;
      return model;
    } finally {
      if (!keepFd) closeSync(fd);
    }
  }

  get storeVersion(): number {
    return this.header.storeVersion;
  }

  /** Whether the amount records are held in memory (else read on demand). */
  get amountsInMemory(): boolean {
    return this.inMemory;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.repFd !== undefined) closeSync(this.repFd);
    this.repFd = undefined;
  }

  /** Whether the repertory is held in memory (else read per person). */
  get repertoryInMemory(): boolean {
    return this.repFd === undefined;
  }

  /**
   * Makes repertory rows [first, first+count) readable through `rep` and returns the row of `rep`
   * that holds row `first`: the rows themselves when held in memory, else those read ahead by
   * stage() or one positioned read of them.
   */
  private repRows(first: number, count: number, staged?: Uint32Array, stagedAt = -1): number {
    if (this.repFd === undefined) return first;
    if (staged !== undefined) {
      this.rep = staged;
      return stagedAt;
    }
    if (this.repBytes.length < count * REP_ROW_BYTES) {
      this.repBytes = Buffer.alloc(2 * count * REP_ROW_BYTES);
      this.repWords = new Uint32Array(this.repBytes.buffer, this.repBytes.byteOffset, this.repBytes.length / 4);
    }
    readFully(this.repFd, this.repBytes, first * REP_ROW_BYTES, 0, count * REP_ROW_BYTES);
    this.rep = this.repWords;
    return 0;
  }

  /** The person's index, or -1 when the SSIN is not in the register. */
  personIndex(ssin: string): number {
    const k = ssinKey(ssin);
    return k === undefined ? -1 : findKey(this.personSsin, k);
  }

  /**
   * personIndex for SSINs given as their keys (ssinKey), keys[0…n) at once, into `into` (-1: not
   * 11 digits, or not in the register): the keys sorted (with their positions), then one forward walk over the persons,
   * galloping from the last hit — the register is read in order instead of a binary search per
   * key wandering over it (the bench's million keys in groups of 16,384 against 206k persons:
   * 91 ms against 107 ms; the more persons, the more a binary search misses the cache).
   */
  personIndexesOfKeys(keys: Float64Array, n: number, into: Int32Array): void {
    into.fill(-1, 0, n);
    const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
    if (bits > 16) {
      // more keys than a key and its position fit in a double exactly (11 digits need 37 bits)
      for (let i = 0; i < n; i++) if (keys[i] >= 0) into[i] = findKey(this.personSsin, keys[i]);
      return;
    }
    const scale = 2 ** bits;
    let m = 0;
    let sorted = this.sortScratch;
    if (sorted.length < n) this.sortScratch = sorted = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (k >= 0 && k < 1e11 && Number.isInteger(k)) sorted[m++] = k * scale + i;
    }
    const order = sorted.subarray(0, m).sort();
    const persons = this.personSsin;
    const last = persons.length - 1;
    let p = 0; // persons before p are below every key still to come
    for (let j = 0; j < m && p <= last; j++) {
      const c = order[j];
      const key = Math.floor(c / scale);
      if (persons[p] < key) {
        // gallop: persons[lo] < key; find the first index whose SSIN is >= key
        let lo = p;
        let step = 1;
        while (lo + step <= last && persons[lo + step] < key) {
          lo += step;
          step *= 2;
        }
        let hi = Math.min(last + 1, lo + step);
        while (lo + 1 < hi) {
          const mid = (lo + hi) >>> 1;
          if (persons[mid] < key) lo = mid;
          else hi = mid;
        }
        p = hi;
        if (p > last) break;
      }
      if (persons[p] === key) into[c - key * scale] = p;
    }
  }

  private sortScratch = new Float64Array(0);

  person(index: number): Person {
    return { ssin: ssinText(this.personSsin[index]), replacedBy: this.replacedByOf(index) };
  }

  /**
   * The person's integrations that may count for this sender (its own, institution-level, and
   * its sector's), in (startDate, qualityCode, institution) order, as the store's lookup returns them.
   */
  integrations(index: number, senderCbe: string, sector: number): Integration[] {
    const out: Integration[] = [];
    this.integrationsInto(out, index, ssinText(this.personSsin[index]), senderCbe, sector);
    return out;
  }

  private readonly stringIndexes = new Map<string, number>();

  /** The index of `value` in the string table, or -1 (remembered: a batch asks for a few values). */
  private stringIndex(value: string): number {
    let i = this.stringIndexes.get(value);
    if (i === undefined) {
      const at = lowerBound(this.strings, value);
      i = at < this.strings.length && this.strings[at] === value ? at : -1;
      if (this.stringIndexes.size < 1024) this.stringIndexes.set(value, i);
    }
    return i;
  }

  private amountOfPersonIndex: Int32Array | undefined;

  /**
   * Per person, the index of its SSIN in amountKey (-1: no amount rows as beneficiary): one merge
   * of the two sorted key arrays, made on first use, so a line needs one binary search, not two.
   */
  private amountOfPerson(): Int32Array {
    let m = this.amountOfPersonIndex;
    if (m === undefined) {
      const persons = this.personSsin;
      const keys = this.amountKey;
      m = new Int32Array(persons.length);
      for (let p = 0, k = 0; p < persons.length; p++) {
        while (k < keys.length && keys[k] < persons[p]) k++;
        m[p] = k < keys.length && keys[k] === persons[p] ? k : -1;
      }
      this.amountOfPersonIndex = m;
    }
    return m;
  }

  /** The SSIN that replaced this person's, or null (person() without the object). */
  replacedByOf(index: number): string | null {
    const at = findKey(this.replacedIndex, index);
    return at < 0 ? null : ssinText(this.replacedSsin[at]);
  }

  /**
   * integrations() for the hot path: the same rows in the same order, written into `into`; objects
   * already in `into` are reused (the caller must not keep them across calls); `ssin` is the
   * person's SSIN as the caller has it. Returns how many were written (`into` is cut to that length).
   */
  integrationsInto(into: Integration[], index: number, ssin: string, senderCbe: string, sector: number, staging?: Staging): number {
    // Institutions compared by string index (the table is sorted and holds each value once).
    const own = this.stringIndex(senderCbe);
    const sectorLevel = this.stringIndex('');
    let n = 0;
    const count = this.personRep[index + 1] - this.personRep[index];
    const at = staging === undefined ? -1 : staging.repertory.at(index);
    const base = this.repRows(this.personRep[index], count, at < 0 ? undefined : (staging as Staging).repertory.u32, at);
    const rep = this.rep;
    for (let w = base * REP_ROW_WORDS, end = (base + count) * REP_ROW_WORDS; w < end; w += REP_ROW_WORDS) {
      const sec = rep[w];
      const inst = rep[w + 1];
      const isOwn = inst === own;
      if (!isOwn && !(inst === sectorLevel && sec === sector)) continue;
      const e = rep[w + 4];
      let o = into[n];
      if (o === undefined) into[n] = o = { ssin, sector: sec, institutionCbe: null, qualityCode: 0, startDate: '', endDate: null };
      o.ssin = ssin;
      o.sector = sec;
      o.institutionCbe = isOwn ? senderCbe : null;
      o.qualityCode = rep[w + 2];
      o.startDate = this.strings[rep[w + 3]];
      o.endDate = e === this.repEndNone ? null : this.strings[e];
      n++;
    }
    into.length = n;
    return n;
  }

  /**
   * The person's integrations in one sector at any institution (and at sector level), in
   * (startDate, qualityCode, institution) order: what the store's lookupProviderIntegrations
   * returns (Handiservice's provider check, contract §6c).
   */
  sectorIntegrations(index: number, sector: number): Integration[] {
    const out: Integration[] = [];
    const ssin = ssinText(this.personSsin[index]);
    const count = this.personRep[index + 1] - this.personRep[index];
    const base = this.repRows(this.personRep[index], count);
    const rep = this.rep;
    for (let w = base * REP_ROW_WORDS, end = (base + count) * REP_ROW_WORDS; w < end; w += REP_ROW_WORDS) {
      if (rep[w] !== sector) continue;
      const inst = this.strings[rep[w + 1]];
      const e = rep[w + 4];
      out.push({ ssin, sector, institutionCbe: inst === '' ? null : inst, qualityCode: rep[w + 2], startDate: this.strings[rep[w + 3]], endDate: e === this.repEndNone ? null : this.strings[e] });
    }
    return out;
  }

  /**
   * The person's Handiservice data (the four DG PMH kinds), as the store's lookupHandicapRecords
   * returns them for the SSIN; undefined when the SSIN has none.
   */
  handicapRecords(ssin: string): HandicapRecords | undefined {
    return this.handiservice.records(ssin);
  }

  /**
   * Puts into `into` the amount rows of one person in one role that a line needs (BENEFICIARY: the
   * person's rows; PARTNER: rows that name the person as partner): months from..to (plain string
   * order) and the first row after `to` that `keepAfter` accepts (by its paidOn's string index; the
   * rules only ask whether a visible one exists). `into` must use this model's `strings`.
   */
  amountColumns(
    into: AmountColumns,
    ssin: string,
    role: 'BENEFICIARY' | 'PARTNER',
    from: string,
    to: string,
    keepAfter: ((paidOn: number) => boolean) | undefined,
    /** personIndex(ssin), when the caller has it: spares a second binary search. */
    personIndex = -1,
    /** Records read ahead by stage(): a staged person's records are not read again. */
    staging?: Staging,
  ): void {
    into.count = 0;
    const k = personIndex >= 0 && role === 'BENEFICIARY' ? 0 : ssinKey(ssin);
    if (k === undefined) return;
    const lo = this.bound(this.lowerBounds, from, lowerBound);
    const hi = this.bound(this.upperBounds, to, upperBound); // months [lo, hi) lie in from..to
    let afterFound = keepAfter === undefined;
    if (role === 'BENEFICIARY') {
      const p = personIndex >= 0 ? this.amountOfPerson()[personIndex] : findKey(this.amountKey, k);
      if (p < 0) return;
      const first = this.amountStart[p];
      const count = this.amountStart[p + 1] - first;
      const staged = staging === undefined ? -1 : staging.amounts.at(p); // -1: not read ahead
      const base = staged >= 0 ? staged : this.load(first, count);
      const f64 = staged >= 0 ? (staging as Staging).amounts.f64 : this.f64;
      const u16 = staged >= 0 ? (staging as Staging).amounts.u16 : this.u16;
      for (let i = 0; i < count; i++) {
        const w = (base + i) * 16; // the record's uint16 words
        const month = u16[w + 11];
        if (month < lo) continue;
        if (month >= hi) {
          if (afterFound) continue;
          if (!(keepAfter as (paidOn: number) => boolean)(u16[w + 14])) continue;
          afterFound = true;
        }
        this.put(into, f64, u16, base + i, f64[(base + i) * 4]);
      }
    } else {
      const p = findKey(this.partnerKey, k);
      if (p < 0) return;
      const end = this.partnerStart[p + 1] - this.partnerStart[p];
      const refs = this.refs(this.partnerStart[p], end);
      // A partner's references are mostly one beneficiary's rows, which lie together (records are
      // grouped by SSIN): then one read brings them all, else one read per record.
      let min = refs[0];
      let max = refs[0];
      for (let j = 1; j < end; j++) {
        if (refs[j] < min) min = refs[j];
        else if (refs[j] > max) max = refs[j];
      }
      const together = max - min < this.partnerSpan;
      // Staged by stage() when they all lie in one beneficiary's records (partnerOwner).
      const owner = staging !== undefined && !this.inMemory ? this.spanOwner(min, max) : -1;
      const staged = owner >= 0 ? (staging as Staging).amounts.at(owner) : -1; // -1: not read ahead
      let base = 0;
      if (staged >= 0) base = staged + (min - this.amountStart[owner]);
      else if (together) base = this.load(min, max - min + 1);
      for (let j = 0; j < end; j++) {
        const record = refs[j];
        const at = together ? base + (record - min) : this.load(record, 1);
        // (after load: it may have replaced the scratch views)
        const f64 = staged >= 0 ? (staging as Staging).amounts.f64 : this.f64;
        const u16 = staged >= 0 ? (staging as Staging).amounts.u16 : this.u16;
        const month = u16[at * 16 + 11];
        if (month < lo) continue;
        if (month >= hi) {
          if (afterFound) continue;
          if (!(keepAfter as (paidOn: number) => boolean)(u16[at * 16 + 14])) continue;
          afterFound = true;
        }
        this.put(into, f64, u16, at, staged >= 0 ? this.amountKey[owner] : this.beneficiaryOf(record));
      }
    }
  }

  /** Appends record `at` of the loaded views to `into`, with `other` as the other person. */
  private put(into: AmountColumns, f64: Float64Array, u16: Uint16Array, at: number, other: number): void {
    const n = into.count;
    if (n === into.other.length) ensureCapacity(into, n + 1);
    const w = at * 16;
    into.other[n] = other;
    into.cents[n] = f64[at * 4 + 1];
    into.ocmw[n] = u16[w + 8];
    into.benefitType[n] = u16[w + 9];
    into.category[n] = u16[w + 10];
    into.month[n] = u16[w + 11];
    into.grantFrom[n] = u16[w + 12];
    into.grantTo[n] = u16[w + 13];
    into.paidOn[n] = u16[w + 14];
    into.status[n] = u16[w + 15];
    into.count = n + 1;
  }

  private beneficiaryOf(record: number): number {
    return this.amountKey[this.recordOwner(record)];
  }

  /**
   * The amountKey index of the one beneficiary whose records hold every row that names SSIN `key`
   * as partner, when they lie within the partner span (as amountColumns reads them at once); -1
   * otherwise, or when the references are not in memory (no read is spent on them here).
   */
  private partnerOwner(key: number): number {
    if (this.partnerRow === undefined) return -1;
    const p = findKey(this.partnerKey, key);
    if (p < 0) return -1;
    const first = this.partnerStart[p];
    const end = this.partnerStart[p + 1];
    let min = this.partnerRow[first];
    let max = min;
    for (let j = first + 1; j < end; j++) {
      const r = this.partnerRow[j];
      if (r < min) min = r;
      else if (r > max) max = r;
    }
    return this.spanOwner(min, max);
  }

  /** The amountKey index whose records hold all of records [min, max], when they lie within the partner span (read at once); else -1. */
  private spanOwner(min: number, max: number): number {
    if (max - min >= this.partnerSpan) return -1;
    const owner = this.recordOwner(min);
    return max < this.amountStart[owner + 1] ? owner : -1;
  }

  /** The amountKey index whose records hold `record`. */
  private recordOwner(record: number): number {
    let lo = 0;
    let hi = this.amountKey.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.amountStart[mid] <= record) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // A batch asks for a few periods a million times: their bounds in `strings` are kept.
  private readonly lowerBounds = new Map<string, number>();
  private readonly upperBounds = new Map<string, number>();

  private bound(memo: Map<string, number>, value: string, search: (strings: readonly string[], s: string) => number): number {
    let at = memo.get(value);
    if (at === undefined) {
      if (memo.size >= 4096) memo.clear(); // a hostile mix of periods stays bounded
      memo.set(value, (at = search(this.strings, value)));
    }
    return at;
  }

  /**
   * Reads ahead, into `into`, what the lines of the persons `persons[0…n)` (person indexes; -1
   * skipped) will read from disk: their amount records (as beneficiary) and their repertory rows,
   * each kind in file order through a 64 KiB window, so the reads are a few per window instead of
   * one per line. Nothing for what is held in memory. `partnerLines[i]` = 1: line i is a PARTNER
   * line, whose amount records are those naming the person (see partnerOwner).
   */
  stage(into: Staging, persons: Int32Array, n: number, partnerLines?: Uint8Array): void {
    into.amounts.clear();
    into.repertory.clear();
    if (!this.inMemory) {
      if (this.fd === undefined) throw new LdmError('READ_MODEL_CLOSED', 'the read model was closed while a batch was reading it');
      const ofPerson = this.amountOfPerson();
      const keys = sizedKeys(into.amounts, n);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const p = persons[i];
        if (p < 0) continue;
        if (partnerLines !== undefined && partnerLines[i] === 1) {
          // A PARTNER line reads the rows that name the person: mostly one beneficiary's, staged as theirs.
          const b = this.partnerOwner(this.personSsin[p]);
          if (b >= 0) keys[m++] = b;
        } else if (ofPerson[p] >= 0) keys[m++] = ofPerson[p];
      }
      stageRecords(into.amounts, keys.subarray(0, m).sort(), this.amountStart, this.fd, this.amountsOffset, AMOUNT_RECORD_BYTES, this.stageWindow);
    }
    if (this.repFd !== undefined) {
      const keys = sizedKeys(into.repertory, n);
      let m = 0;
      for (let i = 0; i < n; i++) if (persons[i] >= 0) keys[m++] = persons[i];
      stageRecords(into.repertory, keys.subarray(0, m).sort(), this.personRep, this.repFd, 0, REP_ROW_BYTES, this.stageWindow);
    }
  }

  /**
   * Makes records [first, first+count) readable through `f64`/`u16` (views on the records: 4
   * doubles or 16 uint16 words per record) and returns the record number of the first in them.
   */
  private load(first: number, count: number): number {
    if (this.inMemory) return first;
    const bytes = count * AMOUNT_RECORD_BYTES;
    if (this.scratch.length < bytes) this.setScratch(Buffer.alloc(bytes * 2));
    if (this.fd === undefined) throw new LdmError('READ_MODEL_CLOSED', 'the read model was closed while a batch was reading it');
    readFully(this.fd, this.scratch.subarray(0, bytes), this.amountsOffset + first * AMOUNT_RECORD_BYTES);
    return 0;
  }

  /** partnerRow[first … first+count), from memory or with one positioned read. */
  private refs(first: number, count: number): Uint32Array {
    if (this.partnerRow !== undefined) return this.partnerRow.subarray(first, first + count);
    if (this.refScratch.length < count) this.refScratch = new Uint32Array(count * 2);
    if (this.fd === undefined) throw new LdmError('READ_MODEL_CLOSED', 'the read model was closed while a batch was reading it');
    const into = Buffer.from(this.refScratch.buffer, this.refScratch.byteOffset, count * 4);
    readFully(this.fd, into, this.partnerRowOffset + first * 4);
    return this.refScratch.subarray(0, count);
  }

  private setScratch(b: Buffer): void {
    this.scratch = b;
    this.f64 = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
    this.u16 = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  }
}

const NARROW: readonly SectionName[] = ['repSector', 'repInstitution', 'repQualityCode', 'repStart', 'repEnd'];
const NONE16 = 0xffff;

/**
 * The repertory's five uint32 columns of the file (NARROW, in that order) held row-major, as
 * uint16 while every value fits (NONE becomes NONE16: string indexes stay below MAX_STRINGS),
 * widened to uint32 at the first value that does not.
 */
class NarrowRows {
  private narrow: Uint16Array | undefined;
  private wide: Uint32Array | undefined;
  constructor(rows: number) {
    this.narrow = new Uint16Array(rows * REP_ROW_WORDS);
  }
  /** Values of column `field` from `chunk` bytes [from, to) (whole uint32s, little endian), starting at row `at`. */
  put(field: number, at: number, chunk: Buffer, from: number, to: number): void {
    // A typed view, not readUInt32LE per value (4.5M values at each open of the bench model: 136 →
    // ~15 ms); sections start 8-aligned, so the view is aligned but for a chunk that is not.
    const offset = chunk.byteOffset + from;
    const src = offset % 4 === 0 ? new Uint32Array(chunk.buffer, offset, (to - from) / 4) : new Uint32Array(Uint8Array.prototype.slice.call(chunk, from, to).buffer);
    let k = 0;
    const narrow = this.narrow;
    if (narrow !== undefined) {
      for (let w = at * REP_ROW_WORDS + field; k < src.length; k++, w += REP_ROW_WORDS) {
        const v = src[k];
        if (v < NONE16) narrow[w] = v;
        else if (v === NONE) narrow[w] = NONE16;
        else break;
      }
      if (k === src.length) return;
      const wide = new Uint32Array(narrow.length);
      for (let i = 0; i < narrow.length; i++) wide[i] = narrow[i] === NONE16 ? NONE : narrow[i];
      this.wide = wide;
      this.narrow = undefined;
    }
    const wide = this.wide as Uint32Array;
    for (let w = (at + k) * REP_ROW_WORDS + field; k < src.length; k++, w += REP_ROW_WORDS) wide[w] = src[k];
  }
  values(): Uint16Array | Uint32Array {
    return this.narrow ?? (this.wide as Uint32Array);
  }
}

function aligned(b: Buffer): Buffer {
  if (b.byteOffset % 8 === 0) return b;
  const copy = Buffer.alloc(b.length);
  b.copy(copy);
  return copy;
}

/**
 * A row-major copy of the file's five repertory columns (REP_ROW_BYTES a row), in a temporary file
 * beside the model that is unlinked at once (mode 0600; it goes with the descriptor, even after a
 * crash): a person's rows are then one positioned read. Made in blocks, five reads a block.
 */
function rowMajorRepertory(fd: number, path: string, header: ReadModelHeader, rows: number): number {
  const tmp = `${path}.rep-${process.pid}-${randomBytes(6).toString('hex')}`;
  const out = openSync(tmp, 'wx+', 0o600);
  unlinkSync(tmp);
  try {
    const BLOCK = 1 << 16;
    const column = Buffer.alloc(BLOCK * 4);
    const block = Buffer.alloc(BLOCK * REP_ROW_BYTES);
    for (let first = 0; first < rows; first += BLOCK) {
      const n = Math.min(BLOCK, rows - first);
      NARROW.forEach((name, c) => {
        readFully(fd, column.subarray(0, n * 4), header.sections[name].offset + first * 4);
        for (let k = 0; k < n; k++) block.writeUInt32LE(column.readUInt32LE(k * 4), k * REP_ROW_BYTES + c * 4);
      });
      writeAllSync(out, block.subarray(0, n * REP_ROW_BYTES), first * REP_ROW_BYTES);
    }
    return out;
  } catch (err) {
    closeSync(out);
    throw err;
  }
}

function sizedKeys(into: RecordStaging, n: number): Int32Array {
  if (into.keys.length < n) into.keys = new Int32Array(Math.max(n, into.keys.length * 2));
  return into.keys;
}

/**
 * Reads into `into` the records of `keys` (sorted, repeats allowed): key k's records are
 * [starts[k], starts[k+1]) of the section at `offset` of `fd`. In file order, through a window
 * that ends with the last key it can hold whole; a key with more records than the window is read
 * on its own.
 */
function stageRecords(into: RecordStaging, keys: Int32Array, starts: Uint32Array, fd: number, offset: number, recordBytes: number, windowRecordsOpt: number | undefined): void {
  const m = keys.length;
  let total = 0;
  for (let j = 0; j < m; j++) if (j === 0 || keys[j] !== keys[j - 1]) total += starts[keys[j] + 1] - starts[keys[j]];
  into.ensure(total * recordBytes);
  const windowRecords = windowRecordsOpt ?? Math.floor(STAGE_WINDOW_BYTES / recordBytes);
  if (into.window.length < windowRecords * recordBytes) {
    into.window = Buffer.alloc(windowRecords * recordBytes);
    into.windowU32 = new Uint32Array(into.window.buffer, into.window.byteOffset, into.window.length / 4);
  }
  const words = recordBytes / 4; // records are whole uint32s (32 and 20 bytes)
  const src = into.windowU32;
  const dst = into.u32;
  let from = 0; // the window holds records [from, to) of the section
  let to = 0;
  let pos = 0;
  for (let j = 0; j < m; j++) {
    const key = keys[j];
    if (j > 0 && key === keys[j - 1]) continue;
    const first = starts[key];
    const count = starts[key + 1] - first;
    if (count > windowRecords) {
      readFully(fd, into.records, offset + first * recordBytes, pos * recordBytes, count * recordBytes);
    } else {
      if (first < from || first + count > to) {
        from = first;
        to = first + count;
        for (let q = j + 1; q < m; q++) {
          const end = starts[keys[q] + 1];
          if (end > first + windowRecords) break;
          to = end;
        }
        readFully(fd, into.window, offset + from * recordBytes, 0, (to - from) * recordBytes);
      }
      // word by word: Buffer#copy of a part makes a view object per call (a million per batch)
      for (let s = (first - from) * words, d = pos * words, e = s + count * words; s < e; s++, d++) dst[d] = src[s];
    }
    into.add(key, pos);
    pos += count;
  }
}

/** Reads `length` bytes at `position` of `fd` into `into` from `at` on (all of `into` by default). */
function readFully(fd: number, into: Buffer, position: number, at = 0, length = into.length - at): void {
  let off = 0;
  while (off < length) {
    const n = readSync(fd, into, at + off, length - off, position + off);
    if (n === 0) throw new LdmError('READ_MODEL_CORRUPT', 'the read model file is shorter than its header says');
    off += n;
  }
}

function corrupt(path: string, why: string): LdmError {
  return new LdmError('READ_MODEL_CORRUPT', `read model ${path}: ${why}; it will be rebuilt from the store`);
}

/**
 * The replaced entries of a dense personReplacedBy column (-1 = not replaced), as two sorted
 * arrays: person indexes (as doubles, for findKey) and their new SSINs.
 */
function sparseReplacements(dense: Float64Array): [Float64Array, Float64Array] {
  let n = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] >= 0) n++;
  const index = new Float64Array(n);
  const ssin = new Float64Array(n);
  for (let i = 0, k = 0; i < dense.length; i++) {
    if (dense[i] < 0) continue;
    index[k] = i;
    ssin[k++] = dense[i];
  }
  return [index, ssin];
}
