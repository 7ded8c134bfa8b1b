// Builds the read model of the store's current version (layout.ts): one read transaction (a
// consistent snapshot), written to a temporary file that is fsynced and then renamed into place
// (readers never see a partial file).
//
// Streaming (national scale: ~20M amount rows in ~256 MB): the amount rows are read in SSIN order
// (the store's index), a person at a time, and written to the file as they come; the partner
// references likewise in partner order. Held in memory meanwhile: the persons, the repertory until
// its columns are written, the per-SSIN indexes, and one id per amount record (to number the
// partner references). Text values are stored as first-seen ids while they stream; once every
// value is known the table is sorted and one pass over the file turns ids into sorted indexes
// (index order = string order, which the rules rely on) while it computes the checksum.
//
// Sections go to the file in the order they are ready (the header names every offset); a new
// builder (e.g. another service's tables) adds its sections to `tail` in readStore().
import { crc32 } from 'node:zlib';
import { closeSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, mkdirSync, existsSync } from 'node:fs';
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import { isSqlite, siblingConnection } from '../store/db.js';
import { storeVersion } from '../store/storeVersion.js';
import { LdmError } from '../errors.js';
import { AMOUNT_RECORD_BYTES, FORMAT, MAGIC, MAX_STRINGS, NONE, PREFIX_BYTES, SECTION_NAMES, align8, findKey, ssinKey, type ReadModelHeader, type SectionName } from './layout.js';
import { readModelFile } from './files.js';
import { buildHandiservice, handiserviceRowCount } from './handiservice.js';
import { dataFileMode, dirMode } from '../files/modes.js';
import { writeAllSync } from '../files/writeAll.js';

/** Rows per query page (the `pageRows` build option changes it, for tests of page boundaries). */
const PAGE_ROWS = 10_000;
/** Bytes reserved at the start of the file for the prefix and the header (written last). */
const HEADER_RESERVE = 16_384;
/** Write and remap buffer. */
const CHUNK = 4 << 20;
/** A first-seen id of "no value" in 16-bit columns (ids stay below MAX_STRINGS). */
const NONE16 = 0xffff;

type Cell = string | number | null;

/**
 * The rows of a table in primary-key pages, as arrays of `columns` (after the key). On SQLite a
 * page comes back as one JSON text: the driver's object per result row costs more than the read.
 */
async function* pages(db: Knex | Knex.Transaction, table: string, key: string, columns: readonly string[], sqlite: boolean, PAGE: number): AsyncGenerator<Cell[][]> {
  let after: Cell = null;
  for (;;) {
    let rows: Cell[][];
    if (sqlite) {
      const where = after === null ? '' : `WHERE ${key} > ?`;
      const sql = `SELECT json_group_array(json_array(${[key, ...columns].join(', ')})) AS j FROM (SELECT ${[key, ...columns].join(', ')} FROM ${table} ${where} ORDER BY ${key} LIMIT ${PAGE})`;
      const res = (await db.raw(sql, after === null ? [] : [after])) as { j: string }[];
      rows = JSON.parse(res[0].j) as Cell[][];
    } else {
      const q = db(table).select(key, ...columns).orderBy(key).limit(PAGE);
      if (after !== null) q.where(key, '>', after);
      const objs = (await q) as Record<string, Cell>[];
      rows = objs.map((o) => [o[key], ...columns.map((c) => o[c])]);
    }
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1][0];
  }
}

/**
 * The amount rows in order of `key` (an SSIN column with an index: `ssin`, `partner_ssin`), as
 * arrays [key, ...columns], in pages that hold every row of each key they hold (a page's last
 * key may be cut by the LIMIT: it is read again with the next page). Rows with a null key are left out.
 */
async function* keyPages(db: Knex.Transaction, key: string, columns: readonly string[], sqlite: boolean, PAGE: number): AsyncGenerator<Cell[][]> {
  let from: string | null = null;
  const cols = [key, ...columns];
  const fetch = async (where: string, args: string[], limit: boolean): Promise<Cell[][]> => {
    if (sqlite) {
      const sql = `SELECT json_group_array(json_array(${cols.join(', ')})) AS j FROM (SELECT ${cols.join(', ')} FROM amounts WHERE ${where} ORDER BY ${key}${limit ? ` LIMIT ${PAGE}` : ''})`;
      const res = (await db.raw(sql, args)) as { j: string }[];
      return JSON.parse(res[0].j) as Cell[][];
    }
    const objs = (await db.raw(`SELECT ${cols.join(', ')} FROM amounts WHERE ${where} ORDER BY ${key}${limit ? ` LIMIT ${PAGE}` : ''}`, args)) as { rows: Record<string, Cell>[] };
    return objs.rows.map((o) => cols.map((c) => o[c]));
  };
  for (;;) {
    const rows: Cell[][] = from === null ? await fetch(`${key} IS NOT NULL`, [], true) : await fetch(`${key} >= ?`, [from], true);
    if (rows.length < PAGE) {
      if (rows.length > 0) yield rows;
      return;
    }
    const last = rows[rows.length - 1][0] as string;
    let cut = rows.length;
    while (cut > 0 && rows[cut - 1][0] === last) cut--;
    if (cut === 0) {
      // one key holds a whole page: read all of its rows, then go on after it
      yield await fetch(`${key} = ?`, [last], false);
      const next = await fetch(`${key} > ?`, [last], true);
      if (next.length === 0) return;
      from = next[0][0] as string;
      continue;
    }
    yield rows.slice(0, cut);
    from = last;
  }
}

/** Interns strings as first-seen ids; sorted indexes are assigned once all are seen. */
class Strings {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.values.length;
      if (i >= MAX_STRINGS) {
        throw new LdmError('READ_MODEL_BUILD', `the store holds more than ${MAX_STRINGS} distinct dates, codes and CBE numbers; read model format ${FORMAT} takes at most ${MAX_STRINGS}`);
      }
      this.values.push(s);
      this.ids.set(s, i);
    }
    return i;
  }
  /** The sorted values and, per first-seen id, its sorted index. */
  sorted(): { values: string[]; rank: Uint32Array } {
    const order = this.values.map((_, i) => i).sort((a, b) => (this.values[a] < this.values[b] ? -1 : this.values[a] > this.values[b] ? 1 : 0));
    const rank = new Uint32Array(this.values.length);
    order.forEach((id, r) => (rank[id] = r));
    return { values: order.map((i) => this.values[i]), rank };
  }
}

/** A growable typed column (sized from the table's row count up front: no doubling). */
class Col<T extends Float64Array | Uint32Array | Uint16Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  done(): T {
    return this.data.subarray(0, this.length) as T;
  }
}
const f64 = (n = 1024): Col<Float64Array> => new Col(new Float64Array(Math.max(n, 16)), (m) => new Float64Array(m));
const u32 = (n = 1024): Col<Uint32Array> => new Col(new Uint32Array(Math.max(n, 16)), (m) => new Uint32Array(m));
const u16 = (n = 1024): Col<Uint16Array> => new Col(new Uint16Array(Math.max(n, 16)), (m) => new Uint16Array(m));

async function rowCount(trx: Knex.Transaction, table: string): Promise<number> {
  const [row] = (await trx(table).count({ n: '*' })) as { n: number | string }[];
  return Number(row.n);
}

function key(ssin: Cell, what: string): number {
  const k = typeof ssin === 'string' ? ssinKey(ssin) : undefined;
  if (k === undefined) throw new LdmError('READ_MODEL_BUILD', `the store holds a ${what} SSIN that is not 11 digits; the read model cannot be built`);
  return k;
}

export interface BuildResult {
  path: string;
  storeVersion: number;
  bytes: number;
  ms: number;
  counts: ReadModelHeader['counts'];
}

/** Builds the read model of the store's current version into `dir` (unless that file exists already). */
export async function buildReadModel(db: Db, dir: string, opts: { force?: boolean; pageRows?: number } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const sqlite = isSqlite(db);
  mkdirSync(dir, { recursive: true, mode: dirMode() });
  // On SQLite the store has one connection: a build holding it for seconds would stall the batches'
  // journal updates (heartbeats) in this process, so it reads on a connection of its own.
  const reader = siblingConnection(db);
  let built: { path: string; version: number; bytes: number; counts: ReadModelHeader['counts'] };
  try {
    built = await reader.db.transaction(
      async (trx) => {
        const version = await storeVersion(trx);
        const path = readModelFile(dir, version);
        if (!opts.force && existsSync(path)) return { path, version, bytes: 0, counts: await storeCounts(trx) };
        const file = new ModelFile(`${path}.${process.pid}.part`);
        try {
          const counts = await readStore(trx, sqlite, file, opts.pageRows ?? PAGE_ROWS);
          const bytes = file.finish(version, counts);
          renameSync(file.tmp, path);
          return { path, version, bytes, counts };
        } catch (err) {
          file.abandon();
          throw err;
        }
      },
      sqlite ? undefined : { isolationLevel: 'repeatable read', readOnly: true },
    );
  } finally {
    await reader.release();
  }
  return { path: built.path, storeVersion: built.version, bytes: built.bytes, ms: performance.now() - t0, counts: built.counts };
}

async function storeCounts(trx: Knex.Transaction): Promise<ReadModelHeader['counts']> {
  const [row] = (await trx('amounts').whereNotNull('partner_ssin').count({ n: '*' })) as { n: number | string }[];
  return {
    persons: await rowCount(trx, 'persons'),
    repertory: await rowCount(trx, 'repertory'),
    amounts: await rowCount(trx, 'amounts'),
    partnerRefs: Number(row.n),
    handiservice: await handiserviceRowCount(trx),
  };
}

/** How the first-seen ids of a section become sorted indexes in the final pass. */
type Remap = 'amountRecords' | 'u32OrNone';

/**
 * The file being built: sections are appended (8-aligned) after the space reserved for the
 * header; `finish` sorts the strings, rewrites the ids, hashes the body and writes the header.
 */
class ModelFile {
  readonly fd: number;
  private pos = HEADER_RESERVE;
  private readonly layout = new Map<SectionName, { offset: number; length: number; remap?: Remap }>();
  private open: { name: SectionName; offset: number; remap?: Remap } | undefined;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  readonly strings = new Strings();

  constructor(readonly tmp: string) {
    this.fd = openSync(tmp, 'wx+', dataFileMode()); // personal data: the instance's file mode (files/modes.ts)
  }

  /** Starts a streamed section. */
  begin(name: SectionName, remap?: Remap): void {
    this.flush();
    this.pad();
    this.open = { name, offset: this.pos, remap };
  }

  /** Room for `n` more bytes in the write buffer; returns where they go in `buf`. */
  reserve(n: number): number {
    if (this.used + n > this.buf.length) this.flush();
    const at = this.used;
    this.used += n;
    return at;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  end(): void {
    if (this.open === undefined) throw new Error('no read model section is open');
    this.flush();
    this.layout.set(this.open.name, { offset: this.open.offset, length: this.pos - this.open.offset, remap: this.open.remap });
    this.open = undefined;
  }

  /** A whole section at once. */
  section(name: SectionName, data: Uint8Array, remap?: Remap): void {
    this.begin(name, remap);
    this.flush();
    writeAllSync(this.fd, data, this.pos);
    this.pos += data.byteLength;
    this.end();
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAllSync(this.fd, this.buf.subarray(0, this.used), this.pos);
    this.pos += this.used;
    this.used = 0;
  }

  private pad(): void {
    const to = align8(this.pos);
    if (to > this.pos) writeAllSync(this.fd, Buffer.alloc(to - this.pos), this.pos);
    this.pos = to;
  }

  /** Writes the strings, turns first-seen ids into sorted indexes, checksums, writes the header, fsyncs. */
  finish(version: number, counts: ReadModelHeader['counts']): number {
    const { values, rank } = this.strings.sorted();
    this.section('strings', Buffer.from(JSON.stringify(values), 'utf8'));
    this.pad();
    const end = this.pos;
    for (const name of SECTION_NAMES) if (!this.layout.has(name)) throw new Error(`read model section ${name} was not built`);
    // One pass over the body in file order: remap where needed, write back, checksum.
    const sections = [...this.layout.values()].sort((a, b) => a.offset - b.offset);
    let crc = 0;
    const chunk = this.buf;
    let s = 0;
    for (let at = HEADER_RESERVE; at < end; ) {
      // chunks never cross a section's start: a chunk is inside one section or in padding
      while (s < sections.length && sections[s].offset + sections[s].length <= at) s++;
      const sec = sections[s];
      let stop = Math.min(end, at + chunk.length);
      if (sec !== undefined && sec.offset > at) stop = Math.min(stop, sec.offset);
      else if (sec !== undefined) stop = Math.min(stop, sec.offset + sec.length);
      const n = stop - at;
      readFully(this.fd, chunk.subarray(0, n), at);
      if (sec !== undefined && sec.offset <= at && sec.remap !== undefined) {
        remap(chunk, n, sec.remap, rank);
        writeAllSync(this.fd, chunk.subarray(0, n), at);
      }
      crc = crc32(chunk.subarray(0, n), crc);
      at = stop;
    }
    const header: ReadModelHeader = {
      format: FORMAT,
      storeVersion: version,
      builtAt: new Date().toISOString(),
      counts,
      sections: Object.fromEntries(SECTION_NAMES.map((n) => [n, { offset: (this.layout.get(n) as { offset: number }).offset, length: (this.layout.get(n) as { length: number }).length }])) as ReadModelHeader['sections'],
      crc32: crc,
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    if (PREFIX_BYTES + json.length > HEADER_RESERVE) throw new Error('read model header is larger than the space reserved for it');
    const head = Buffer.alloc(HEADER_RESERVE, 0x20); // the header is padded with spaces (layout.ts)
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(FORMAT, 8);
    head.writeUInt32LE(HEADER_RESERVE - PREFIX_BYTES, 12);
    json.copy(head, PREFIX_BYTES);
    writeAllSync(this.fd, head, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    return end;
  }

  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* closed already */
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* gone already */
    }
  }
}

/** First-seen ids → sorted indexes in `n` bytes of a section (chunks start on a record boundary). */
function remap(chunk: Buffer, n: number, how: Remap, rank: Uint32Array): void {
  if (how === 'amountRecords') {
    const w = new Uint16Array(chunk.buffer, chunk.byteOffset, n >> 1);
    for (let r = 0; r < w.length; r += 16) for (let f = 8; f < 16; f++) w[r + f] = rank[w[r + f]];
  } else {
    const w = new Uint32Array(chunk.buffer, chunk.byteOffset, n >> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== NONE) w[i] = rank[w[i]];
  }
}

const bytes = (t: Float64Array | Uint32Array | Uint16Array | Uint8Array): Uint8Array => new Uint8Array(t.buffer, t.byteOffset, t.byteLength);

/**
 * The repertory: kept only for known persons (an unknown SSIN stops at MSG00005 first), grouped by
 * person (counting sort), a person's rows by (start, qualityCode, institution, sector); written
 * out before the amounts are read, and its arrays dropped with this function's scope.
 */
async function writeRepertory(trx: Knex.Transaction, sqlite: boolean, file: ModelFile, page: number, personSsin: Float64Array): Promise<number> {
  const strings = file.strings;
  const P = personSsin.length;
  const nRep = await rowCount(trx, 'repertory');
  const r = { person: u32(nRep), sector: u32(nRep), inst: u16(nRep), qc: u32(nRep), start: u16(nRep), end: u16(nRep) };
  for await (const rows of pages(trx, 'repertory', 'id', ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date'], sqlite, page)) {
    for (const [, ssin, sector, inst, qc, start, end] of rows) {
      const p = findKey(personSsin, key(ssin, 'repertory'));
      if (p < 0) continue;
      r.person.push(p);
      r.sector.push(Number(sector));
      r.inst.push(strings.id(String(inst ?? '')));
      r.qc.push(Number(qc));
      r.start.push(strings.id(String(start)));
      r.end.push(end === null ? NONE16 : strings.id(String(end)));
    }
  }
  const R = r.person.length;
  const personRep = new Uint32Array(P + 1);
  for (let i = 0; i < R; i++) personRep[r.person.get(i) + 1]++;
  for (let i = 0; i < P; i++) personRep[i + 1] += personRep[i];
  const rOrder = new Uint32Array(R);
  {
    const fill = personRep.slice(0, P);
    for (let i = 0; i < R; i++) rOrder[fill[r.person.get(i)]++] = i;
  }
  const S = strings.values;
  const cmpText = (a: number, b: number): number => (S[a] < S[b] ? -1 : S[a] > S[b] ? 1 : 0);
  const repCmp = (x: number, y: number): number => cmpText(r.start.get(x), r.start.get(y)) || r.qc.get(x) - r.qc.get(y) || cmpText(r.inst.get(x), r.inst.get(y)) || r.sector.get(x) - r.sector.get(y);
  for (let p = 0; p < P; p++) {
    const a = personRep[p];
    const b = personRep[p + 1];
    if (b - a > 1) rOrder.subarray(a, b).sort(repCmp);
  }
  file.section('personRep', bytes(personRep));
  const repColumn = (name: SectionName, value: (i: number) => number, remapIt: boolean): void => {
    file.begin(name, remapIt ? 'u32OrNone' : undefined);
    for (let k = 0; k < R; k++) file.buffer.writeUInt32LE(value(rOrder[k]), file.reserve(4));
    file.end();
  };
  repColumn('repSector', (i) => r.sector.get(i), false);
  repColumn('repInstitution', (i) => r.inst.get(i), true);
  repColumn('repQualityCode', (i) => r.qc.get(i), false);
  repColumn('repStart', (i) => r.start.get(i), true);
  repColumn('repEnd', (i) => (r.end.get(i) === NONE16 ? NONE : r.end.get(i)), true);

  return R;
}

/** Persons and the repertory, written out; their arrays are dropped with this function's scope. */
async function writePersons(trx: Knex.Transaction, sqlite: boolean, file: ModelFile, page: number): Promise<{ P: number; R: number }> {
  // ---- persons (primary key order is SSIN order: 11 digits compare as numbers)
  const nPersons = await rowCount(trx, 'persons');
  const pSsin = f64(nPersons);
  const pReplaced = f64(nPersons);
  for await (const rows of pages(trx, 'persons', 'ssin', ['replaced_by'], sqlite, page)) {
    for (const [ssin, replacedBy] of rows) {
      pSsin.push(key(ssin, 'person'));
      pReplaced.push(replacedBy === null ? -1 : key(replacedBy, 'replaced_by'));
    }
  }
  const personSsin = pSsin.done();
  const P = personSsin.length;
  // SQLite compares text, PostgreSQL may collate: sort by number to be sure of the order.
  sortByKey(personSsin, [pReplaced]);
  file.section('personSsin', bytes(personSsin));
  file.section('personReplacedBy', bytes(pReplaced.done()));

  const R = await writeRepertory(trx, sqlite, file, page, personSsin);
  return { P, R };
}

async function readStore(trx: Knex.Transaction, sqlite: boolean, file: ModelFile, page: number): Promise<ReadModelHeader['counts']> {
  const strings = file.strings;

  const { P, R } = await writePersons(trx, sqlite, file, page);

  // ---- amounts, in beneficiary order, by (month, id) within a person, as they stream
  const A = await rowCount(trx, 'amounts');
  const recordId = new Uint32Array(A); // the store id of each record, to number partner references
  const amountKey = f64(P);
  const amountStart = u32(P);
  let records = 0;
  file.begin('amounts', 'amountRecords');
  const group: Cell[][] = [];
  const writeGroup = (ssin: number): void => {
    if (group.length === 0) return;
    // a person's rows by (month, id)
    group.sort((x, y) => (x[6] === y[6] ? (x[1] as number) - (y[1] as number) : (x[6] as string) < (y[6] as string) ? -1 : 1));
    amountKey.push(ssin);
    amountStart.push(records);
    for (const [, id, partner, ocmw, bt, cat, month, gf, gt, cents, paid, status] of group) {
      if (records === A) throw new LdmError('READ_MODEL_BUILD', 'the amounts table changed while the read model was built from one snapshot');
      const n = Number(id);
      if (!(n >= 0 && n <= 0xffffffff)) throw new LdmError('READ_MODEL_BUILD', `amount row id ${String(id)} is beyond what the build can number (32 bits)`);
      recordId[records++] = n;
      const o = file.reserve(AMOUNT_RECORD_BYTES);
      const b = file.buffer;
      b.writeDoubleLE(partner === null ? -1 : key(partner, 'partner'), o);
      b.writeDoubleLE(Number(cents), o + 8);
      b.writeUInt16LE(strings.id(String(ocmw)), o + 16);
      b.writeUInt16LE(strings.id(String(bt)), o + 18);
      b.writeUInt16LE(strings.id(String(cat)), o + 20);
      b.writeUInt16LE(strings.id(String(month)), o + 22);
      b.writeUInt16LE(strings.id(String(gf)), o + 24);
      b.writeUInt16LE(strings.id(String(gt)), o + 26);
      b.writeUInt16LE(strings.id(String(paid)), o + 28);
      b.writeUInt16LE(strings.id(String(status)), o + 30);
    }
    group.length = 0;
  };
  let previous = -1;
  for await (const rows of keyPages(trx, 'ssin', ['id', 'partner_ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'grant_from', 'grant_to', 'amount_cents', 'paid_on', 'status'], sqlite, page)) {
    for (const row of rows) {
      const k = key(row[0], 'amounts');
      if (k !== previous) {
        if (k < previous) throw new LdmError('READ_MODEL_BUILD', 'the store returned amount rows out of SSIN order; the read model cannot be built');
        writeGroup(previous);
        previous = k;
      }
      group.push(row); // [ssin, id, partner_ssin, ocmw_cbe, benefit_type, category, month, …]
    }
  }
  writeGroup(previous);
  file.end();
  if (records !== A) throw new LdmError('READ_MODEL_BUILD', `the amounts table holds ${A} rows but ${records} were read; the read model cannot be built`);
  amountStart.push(A);
  const amountKeys = amountKey.done();
  const amountStarts = amountStart.done();

  // ---- partner references, in partner order, by (month, record) within a partner
  let refs = 0;
  const partnerKey = f64();
  const partnerStart = u32();
  const refGroup: { month: string; record: number }[] = [];
  file.begin('partnerRow');
  const writeRefs = (): void => {
    refGroup.sort((x, y) => (x.month === y.month ? x.record - y.record : x.month < y.month ? -1 : 1));
    for (const ref of refGroup) file.buffer.writeUInt32LE(ref.record, file.reserve(4));
    refs += refGroup.length;
    refGroup.length = 0;
  };
  previous = -1;
  for await (const rows of keyPages(trx, 'partner_ssin', ['ssin', 'month', 'id'], sqlite, page)) {
    for (const [partner, ssin, month, id] of rows) {
      const k = key(partner, 'partner');
      if (k !== previous) {
        if (k < previous) throw new LdmError('READ_MODEL_BUILD', 'the store returned partner references out of SSIN order; the read model cannot be built');
        writeRefs();
        partnerKey.push(k);
        partnerStart.push(refs);
        previous = k;
      }
      refGroup.push({ month: String(month), record: recordOf(amountKeys, amountStarts, recordId, key(ssin, 'amounts'), Number(id)) });
    }
  }
  writeRefs();
  file.end();
  partnerStart.push(refs);

  file.section('amountKey', bytes(amountKeys));
  file.section('amountStart', bytes(amountStarts));
  file.section('partnerKey', bytes(partnerKey.done()));
  file.section('partnerStart', bytes(partnerStart.done()));
  // (other builders' sections go here: file.section(name, data[, 'u32OrNone' for string ids]))
  const handiservice = await buildHandiservice(trx, page);
  for (const [name, data] of handiservice.sections) file.section(name, data);
  return { persons: P, repertory: R, amounts: A, partnerRefs: refs, handiservice: handiservice.rows };
}

/** The record number of amount row `id` of beneficiary `ssin`. */
function recordOf(keys: Float64Array, starts: Uint32Array, ids: Uint32Array, ssin: number, id: number): number {
  const p = findKey(keys, ssin);
  if (p >= 0) for (let i = starts[p]; i < starts[p + 1]; i++) if (ids[i] === id) return i;
  throw new LdmError('READ_MODEL_BUILD', 'a partner reference names an amount row that was not read; the read model cannot be built');
}

/** Sorts `keys` ascending and applies the same permutation to the companion columns. */
function sortByKey(keys: Float64Array, companions: Col<Float64Array>[]): void {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) if (keys[i - 1] >= keys[i]) sorted = false;
  if (sorted) return;
  const order = new Uint32Array(keys.length).map((_, i) => i);
  order.sort((x, y) => keys[x] - keys[y]);
  const copy = Float64Array.from(keys);
  for (let i = 0; i < keys.length; i++) keys[i] = copy[order[i]];
  for (const c of companions) {
    const d = Float64Array.from(c.done());
    const out = c.done();
    for (let i = 0; i < out.length; i++) out[i] = d[order[i]];
  }
}


function readFully(fd: number, into: Buffer, position: number): void {
  let off = 0;
  while (off < into.length) {
    const n = readSync(fd, into, off, into.length - off, position + off);
    if (n === 0) throw new Error('the read model being built is shorter than written');
    off += n;
  }
}
