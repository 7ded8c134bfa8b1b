// Builds the read model of the store's current version (layout.ts): one read transaction (a
// consistent snapshot), rows read in primary-key pages, sorted in typed arrays, written to a
// temporary file that is fsynced and then renamed into place (readers never see a partial file).
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import { isSqlite, siblingConnection } from '../store/db.js';
import { storeVersion } from '../store/storeVersion.js';
import { LdmError } from '../errors.js';
import { AMOUNT_RECORD_BYTES, FORMAT, MAGIC, MAX_STRINGS, NONE, PREFIX_BYTES, SECTION_NAMES, align8, ssinKey, type ReadModelHeader, type SectionName } from './layout.js';
import { readModelFile } from './files.js';
import { dataFileMode, dirMode } from '../files/modes.js';

const PAGE = 50_000;

type Cell = string | number | null;

/**
 * The rows of a table in primary-key pages, as arrays of `columns` (after the key). On SQLite a
 * page comes back as one JSON text: the driver's object per result row costs more than the read.
 */
async function* pages(db: Knex | Knex.Transaction, table: string, key: string, columns: readonly string[], sqlite: boolean): AsyncGenerator<Cell[][]> {
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

/** Interns strings; indexes are renumbered in sorted order once all are seen. */
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
  constructor(private data: T, private readonly make: (n: number) => T) {}
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
/** First-seen string ids: more than MAX_STRINGS is refused anyway, so 16 bits hold them. */
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
export async function buildReadModel(db: Db, dir: string, opts: { force?: boolean } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const sqlite = isSqlite(db);
  mkdirSync(dir, { recursive: true, mode: dirMode() });
  // On SQLite the store has one connection: a build holding it for seconds would stall the batches'
  // journal updates (heartbeats) in this process, so it reads on a connection of its own.
  const reader = siblingConnection(db);
  let snapshot: Snapshot;
  try {
    snapshot = await reader.db.transaction(async (trx) => readStore(trx, sqlite), sqlite ? undefined : { isolationLevel: 'repeatable read', readOnly: true });
  } finally {
    await reader.release();
  }
  const path = readModelFile(dir, snapshot.version);
  if (!opts.force && existsSync(path)) {
    return { path, storeVersion: snapshot.version, bytes: 0, ms: performance.now() - t0, counts: snapshot.counts };
  }
  const bytes = writeModel(path, snapshot);
  return { path, storeVersion: snapshot.version, bytes, ms: performance.now() - t0, counts: snapshot.counts };
}

interface Snapshot {
  version: number;
  counts: ReadModelHeader['counts'];
  sections: Record<SectionName, Uint8Array>;
}

async function readStore(trx: Knex.Transaction, sqlite: boolean): Promise<Snapshot> {
  const version = await storeVersion(trx);
  const strings = new Strings();

  // persons (primary key order is SSIN order: 11 digits compare as numbers)
  const nPersons = await rowCount(trx, 'persons');
  const pSsin = f64(nPersons);
  const pReplaced = f64(nPersons);
  for await (const page of pages(trx, 'persons', 'ssin', ['replaced_by'], sqlite)) {
    for (const [ssin, replacedBy] of page) {
      pSsin.push(key(ssin, 'person'));
      pReplaced.push(replacedBy === null ? -1 : key(replacedBy, 'replaced_by'));
    }
  }
  const personSsin = pSsin.done();
  const P = personSsin.length;
  // SQLite compares text, PostgreSQL may collate: sort by number to be sure of the order.
  sortByKey(personSsin, [pReplaced]);

  // repertory: kept only for known persons (an unknown SSIN stops at MSG00005 first)
  const nRep = await rowCount(trx, 'repertory');
  const r = { person: u32(nRep), sector: u32(nRep), inst: u16(nRep), qc: u32(nRep), start: u16(nRep), end: u32(nRep) };
  for await (const page of pages(trx, 'repertory', 'id', ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date'], sqlite)) {
    for (const [, ssin, sector, inst, qc, start, end] of page) {
      const p = findIndex(personSsin, key(ssin, 'repertory'));
      if (p < 0) continue;
      r.person.push(p);
      r.sector.push(Number(sector));
      r.inst.push(strings.id(String(inst ?? '')));
      r.qc.push(Number(qc));
      r.start.push(strings.id(String(start)));
      r.end.push(end === null ? NONE : strings.id(String(end)));
    }
  }

  // amounts
  const n = await rowCount(trx, 'amounts');
  const a = { ssin: f64(n), partner: f64(n), cents: f64(n), ocmw: u16(n), bt: u16(n), cat: u16(n), month: u16(n), gf: u16(n), gt: u16(n), paid: u16(n), status: u16(n) };
  for await (const page of pages(trx, 'amounts', 'id', ['ssin', 'partner_ssin', 'ocmw_cbe', 'benefit_type', 'category', 'month', 'grant_from', 'grant_to', 'amount_cents', 'paid_on', 'status'], sqlite)) {
    for (const [, ssin, partner, ocmw, bt, cat, month, gf, gt, cents, paid, status] of page) {
      a.ssin.push(key(ssin, 'amounts'));
      a.partner.push(partner === null ? -1 : key(partner, 'partner'));
      a.cents.push(Number(cents));
      a.ocmw.push(strings.id(String(ocmw)));
      a.bt.push(strings.id(String(bt)));
      a.cat.push(strings.id(String(cat)));
      a.month.push(strings.id(String(month)));
      a.gf.push(strings.id(String(gf)));
      a.gt.push(strings.id(String(gt)));
      a.paid.push(strings.id(String(paid)));
      a.status.push(strings.id(String(status)));
    }
  }
  if (strings.values.length > MAX_STRINGS) {
    throw new LdmError('READ_MODEL_BUILD', `the store holds ${strings.values.length} distinct dates, codes and CBE numbers; read model format ${FORMAT} takes at most ${MAX_STRINGS}`);
  }
  const { values, rank } = strings.sorted();
  const S = (id: number): number => (id === NONE ? NONE : rank[id]);

  // repertory sorted by (person, start, qualityCode, institution, sector): the lookup's order
  const R = r.person.length;
  const rOrder = new Uint32Array(R).map((_, i) => i);
  rOrder.sort((x, y) => r.person.get(x) - r.person.get(y) || S(r.start.get(x)) - S(r.start.get(y)) || r.qc.get(x) - r.qc.get(y) || S(r.inst.get(x)) - S(r.inst.get(y)) || r.sector.get(x) - r.sector.get(y));
  const personRep = new Uint32Array(P + 1);
  const repCols = { sector: new Uint32Array(R), inst: new Uint32Array(R), qc: new Uint32Array(R), start: new Uint32Array(R), end: new Uint32Array(R) };
  for (let k = 0; k < R; k++) {
    const i = rOrder[k];
    personRep[r.person.get(i) + 1]++;
    repCols.sector[k] = r.sector.get(i);
    repCols.inst[k] = S(r.inst.get(i));
    repCols.qc[k] = r.qc.get(i);
    repCols.start[k] = S(r.start.get(i));
    repCols.end[k] = S(r.end.get(i));
  }
  for (let i = 0; i < P; i++) personRep[i + 1] += personRep[i];

  // amounts sorted by (beneficiary, month), then id (page order) for a stable layout
  const A = a.ssin.length;
  const aOrder = new Uint32Array(A).map((_, i) => i);
  aOrder.sort((x, y) => a.ssin.get(x) - a.ssin.get(y) || S(a.month.get(x)) - S(a.month.get(y)) || x - y);
  const records = new Uint8Array(A * AMOUNT_RECORD_BYTES);
  const view = new DataView(records.buffer);
  const amountKey = f64();
  const amountStart = u32();
  const recordOf = new Uint32Array(A); // page position -> record number
  for (let k = 0; k < A; k++) {
    const i = aOrder[k];
    recordOf[i] = k;
    const s = a.ssin.get(i);
    if (amountKey.length === 0 || amountKey.get(amountKey.length - 1) !== s) {
      amountKey.push(s);
      amountStart.push(k);
    }
    const o = k * AMOUNT_RECORD_BYTES;
    view.setFloat64(o, a.partner.get(i), true);
    view.setFloat64(o + 8, a.cents.get(i), true);
    const idx = [a.ocmw, a.bt, a.cat, a.month, a.gf, a.gt, a.paid, a.status];
    for (let f = 0; f < 8; f++) view.setUint16(o + 16 + 2 * f, S(idx[f].get(i)), true);
  }
  amountStart.push(A);

  // partner references, sorted by (partner, month, record)
  const refs = u32();
  for (let i = 0; i < A; i++) if (a.partner.get(i) !== -1) refs.push(i);
  const pr = refs.done();
  pr.sort((x, y) => a.partner.get(x) - a.partner.get(y) || S(a.month.get(x)) - S(a.month.get(y)) || recordOf[x] - recordOf[y]);
  const partnerKey = f64();
  const partnerStart = u32();
  const partnerRow = new Uint32Array(pr.length);
  for (let k = 0; k < pr.length; k++) {
    const p = a.partner.get(pr[k]);
    if (partnerKey.length === 0 || partnerKey.get(partnerKey.length - 1) !== p) {
      partnerKey.push(p);
      partnerStart.push(k);
    }
    partnerRow[k] = recordOf[pr[k]];
  }
  partnerStart.push(pr.length);

  const bytes = (t: Float64Array | Uint32Array | Uint8Array): Uint8Array => new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  return {
    version,
    counts: { persons: P, repertory: R, amounts: A, partnerRefs: pr.length },
    sections: {
      strings: Buffer.from(JSON.stringify(values), 'utf8'),
      personSsin: bytes(personSsin),
      personReplacedBy: bytes(pReplaced.done()),
      personRep: bytes(personRep),
      repSector: bytes(repCols.sector),
      repInstitution: bytes(repCols.inst),
      repQualityCode: bytes(repCols.qc),
      repStart: bytes(repCols.start),
      repEnd: bytes(repCols.end),
      amountKey: bytes(amountKey.done()),
      amountStart: bytes(amountStart.done()),
      amounts: records,
      partnerKey: bytes(partnerKey.done()),
      partnerStart: bytes(partnerStart.done()),
      partnerRow: bytes(partnerRow),
    },
  };
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

function findIndex(keys: Float64Array, k: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k) lo = mid + 1;
    else if (keys[mid] > k) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** Writes the file: header, sections, checksum; fsync, then an atomic rename into place. */
function writeModel(path: string, snap: Snapshot): number {
  const hash = createHash('sha256');
  const layout = {} as ReadModelHeader['sections'];
  let at = 0; // relative to the end of the header, fixed below
  for (const name of SECTION_NAMES) {
    at = align8(at);
    layout[name] = { offset: at, length: snap.sections[name].byteLength };
    at += snap.sections[name].byteLength;
  }
  const bodyLength = align8(at);
  // The header holds the absolute offsets; its own length depends on them, so size it twice.
  const headerFor = (base: number, sha256: string): Buffer => {
    const sections = Object.fromEntries(SECTION_NAMES.map((n) => [n, { offset: base + layout[n].offset, length: layout[n].length }])) as ReadModelHeader['sections'];
    const header: ReadModelHeader = { format: FORMAT, storeVersion: snap.version, builtAt: new Date().toISOString(), counts: snap.counts, sections, sha256 };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const padded = Buffer.alloc(align8(json.length), 0x20);
    json.copy(padded);
    return padded;
  };
  const zeros = Buffer.alloc(8);
  // body checksum: the sections with their padding
  let pos = 0;
  for (const name of SECTION_NAMES) {
    const pad = layout[name].offset - pos;
    if (pad > 0) hash.update(zeros.subarray(0, pad));
    hash.update(snap.sections[name]);
    pos = layout[name].offset + layout[name].length;
  }
  if (bodyLength > pos) hash.update(zeros.subarray(0, bodyLength - pos));
  const sha256 = hash.digest('hex');
  let header = headerFor(PREFIX_BYTES + 4096, sha256);
  const base = PREFIX_BYTES + header.length;
  header = headerFor(base, sha256);
  if (PREFIX_BYTES + header.length !== base) {
    // a different length of the offsets' digits: pad to the first estimate
    const fixed = Buffer.alloc(base - PREFIX_BYTES, 0x20);
    if (header.length > fixed.length) throw new Error('read model header grew while it was laid out');
    header.copy(fixed);
    header = fixed;
  }
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT, 8);
  prefix.writeUInt32LE(header.length, 12);

  const tmp = join(`${path}.${process.pid}.part`);
  const fd = openSync(tmp, 'wx', dataFileMode()); // personal data: the instance's file mode (files/modes.ts)
  try {
    writeSync(fd, prefix);
    writeSync(fd, header);
    pos = 0;
    for (const name of SECTION_NAMES) {
      const pad = layout[name].offset - pos;
      if (pad > 0) writeSync(fd, zeros, 0, pad);
      writeAll(fd, snap.sections[name]);
      pos = layout[name].offset + layout[name].length;
    }
    if (bodyLength > pos) writeSync(fd, zeros, 0, bodyLength - pos);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return base + bodyLength;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.byteLength) off += writeSync(fd, data, off, Math.min(data.byteLength - off, 1 << 24));
}
