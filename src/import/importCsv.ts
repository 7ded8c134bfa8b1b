// Loads one import file: a first pass checks every row, a second stores them in one transaction,
// so a file with any bad row changes nothing (contract §8) and memory stays flat for big files
// (what is kept per row is a key and a digest, for the same-key check).
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { LdmError } from '../errors.js';
import { currentYear } from '../domain/ssin.js';
import { bumpStoreVersion } from '../store/storeVersion.js';
import { readCsvRows } from './csvRows.js';
import { BadRow, IMPORT_KINDS, type ImportContext, type ImportKind, type WriteCounts } from './kinds.js';

export interface ImportReport extends WriteCounts {
  kind: string;
  file: string;
  /** Data rows in the file (= inserted + updated + unchanged). */
  rows: number;
}

export interface BadRowReport {
  line: number;
  reason: string;
}

export class ImportRejected extends LdmError {
  constructor(readonly file: string, readonly badRows: BadRowReport[], readonly badRowCount: number) {
    const shown = badRows.map((b) => `  line ${b.line}: ${b.reason}`).join('\n');
    const more = badRowCount > badRows.length ? `\n  … and ${badRowCount - badRows.length} more` : '';
    super('IMPORT_BAD_ROWS', `${file}: ${badRowCount} bad row(s), nothing was imported:\n${shown}${more}`);
  }
}

const MAX_REPORTED = 50;

/** The kinds whose rows the read model holds (src/readmodel): importing them makes a new store version. */
export const READ_MODEL_KINDS: ReadonlySet<string> = new Set(['persons', 'repertory', 'amounts', 'handicap_recognitions', 'handicap_rights', 'handicap_payments', 'social_cards']);

export function importKind(name: string): ImportKind {
  const kind = IMPORT_KINDS[name];
  if (!kind) throw new LdmError('IMPORT_KIND', `unknown import kind "${name}"; use one of: ${Object.keys(IMPORT_KINDS).join(', ')}`, { exitCode: 2 });
  return kind;
}

/** Client rows repeat the client's own columns per authorization; they must agree. */
function clientConsistency(row: Record<string, unknown>, seen: Map<string, string>): void {
  const id = String(row.client_id);
  const identity = `${row.cbe_number}|${row.sector}|${row.name}`;
  const prev = seen.get(`id:${id}`);
  if (prev !== undefined && prev !== identity) throw new BadRow(`client ${id} has another cbe_number, sector or name on an earlier row`);
  seen.set(`id:${id}`, identity);
  const owner = seen.get(`cbe:${row.cbe_number}`);
  if (owner !== undefined && owner !== id) throw new BadRow(`cbe_number ${row.cbe_number} already belongs to client ${owner} on an earlier row (a CBE number belongs to one client)`);
  seen.set(`cbe:${row.cbe_number}`, id);
}

/** 128 bits of SHA-256 as a 16-character one-byte string: compact in memory (a Map value per key of the file). */
const digest = (row: Record<string, unknown>): string => createHash('sha256').update(JSON.stringify(row)).digest().subarray(0, 16).toString('latin1');

export async function importCsv(db: Db, kindName: string, file: string, onProgress?: (rows: number) => void, referenceYear = currentYear()): Promise<ImportReport> {
  const kind = importKind(kindName);
  const ocmwRows: { cbe_number: string }[] = await db('ocmws').select('cbe_number');
  const clientRows: { client_id: string; cbe_number: string }[] = kind.name === 'clients' ? await db('clients').select('client_id', 'cbe_number') : [];
  const ctx: ImportContext = {
    ocmws: new Set(ocmwRows.map((r) => r.cbe_number)),
    referenceYear,
    cbeOwners: new Map(clientRows.map((r) => [r.cbe_number, r.client_id])),
    ranks: new Map(),
    ranking: false,
  };

  const bad: BadRowReport[] = [];
  let badCount = 0;
  let rows = 0;
  const seen = new Map<string, string>();
  // The first line and content of each key, to name both lines when it comes again with other content.
  const keys = new Map<string, { line: number; digest: string }>();
  for await (const r of readCsvRows(file, kind.columns, kind.optionalColumns)) {
    rows++;
    try {
      if ('__columns' in r.values) throw new BadRow(`expected ${r.values.__expected} columns, found ${r.values.__columns}`);
      const checked = kind.check(r.values, ctx);
      const key = kind.fileKey(checked);
      if (key !== undefined) {
        const first = keys.get(key);
        const d = digest(checked);
        if (first === undefined) keys.set(key, { line: r.line, digest: d });
        else if (first.digest !== d) {
          throw new BadRow(`${kind.describeKey(checked)} appears earlier in the file, on line ${first.line}, with other content (a key is given once per file; an identical repeat is allowed)`);
        }
      }
      if (kind.name === 'clients') clientConsistency(checked, seen);
      if (kind.name === 'ocmws') ctx.ocmws.add(String(checked.cbe_number));
    } catch (err) {
      if (!(err instanceof BadRow)) throw err;
      badCount++;
      if (bad.length < MAX_REPORTED) bad.push({ line: r.line, reason: err.message });
    }
  }
  if (badCount > 0) throw new ImportRejected(file, bad, badCount);

  // Rows go to the kind's write() in chunks; it splits them into statements SQLite takes.
  const rowsPerInsert = kind.chunkRows ?? 2000;
  const counts: WriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  let stored = 0;
  ctx.ranking = true; // the storing pass ranks the rows, from the start of the file
  const written = new Set<string>();
  await db.transaction(async (trx) => {
    let chunk: Record<string, unknown>[] = [];
    const flush = async (): Promise<void> => {
      const c = await kind.write(trx, chunk);
      counts.inserted += c.inserted;
      counts.updated += c.updated;
      counts.unchanged += c.unchanged;
      stored += chunk.length;
      onProgress?.(stored);
      chunk = [];
    };
    for await (const r of readCsvRows(file, kind.columns, kind.optionalColumns)) {
      const row = kind.check(r.values, ctx);
      const key = kind.fileKey(row);
      if (key !== undefined) {
        // An identical repeat of a key (the first pass refused any other): it changes nothing.
        if (written.has(key)) {
          counts.unchanged++;
          stored++;
          continue;
        }
        written.add(key);
      }
      chunk.push(row);
      if (chunk.length >= rowsPerInsert) await flush();
    }
    await flush();
    if (stored !== rows) throw new LdmError('IMPORT_CHANGED', `${file} changed while it was being imported; nothing was imported, import it again`);
    // A new store version for the read model (store/storeVersion.ts), in the same transaction.
    if (READ_MODEL_KINDS.has(kind.name) && counts.inserted + counts.updated > 0) await bumpStoreVersion(trx);
  });
  return { kind: kind.name, file, rows, ...counts };
}
