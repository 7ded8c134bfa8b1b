// Loads one import file: a first pass checks every row, a second stores them in one transaction,
// so a file with any bad row changes nothing (contract §8) and memory stays flat for big files.
import type { Db } from '../store/db.js';
import { LdmError } from '../errors.js';
import { readCsvRows } from './csvRows.js';
import { BadRow, IMPORT_KINDS, type ImportContext, type ImportKind } from './kinds.js';

export interface ImportReport {
  kind: string;
  file: string;
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
  if (owner !== undefined && owner !== id) throw new BadRow(`cbe_number ${row.cbe_number} already belongs to client ${owner}`);
  seen.set(`cbe:${row.cbe_number}`, id);
  const auth = `auth:${id}|${row.service}|${row.legal_context}`;
  if (seen.has(auth)) throw new BadRow(`duplicate authorization for ${id}, ${row.service}, ${row.legal_context}`);
  seen.set(auth, '1');
}

export async function importCsv(db: Db, kindName: string, file: string, onProgress?: (rows: number) => void): Promise<ImportReport> {
  const kind = importKind(kindName);
  const ocmwRows: { cbe_number: string }[] = await db('ocmws').select('cbe_number');
  const ctx: ImportContext = { ocmws: new Set(ocmwRows.map((r) => r.cbe_number)) };

  const bad: BadRowReport[] = [];
  let badCount = 0;
  let rows = 0;
  const seen = new Map<string, string>();
  for await (const r of readCsvRows(file, kind.columns)) {
    rows++;
    try {
      if ('__columns' in r.values) throw new BadRow(`expected ${kind.columns.length} columns, found ${r.values.__columns}`);
      const checked = kind.check(r.values, ctx);
      if (kind.name === 'clients') clientConsistency(checked, seen);
      if (kind.name === 'ocmws') ctx.ocmws.add(String(checked.cbe_number));
    } catch (err) {
      if (!(err instanceof BadRow)) throw err;
      badCount++;
      if (bad.length < MAX_REPORTED) bad.push({ line: r.line, reason: err.message });
    }
  }
  if (badCount > 0) throw new ImportRejected(file, bad, badCount);

  // Stay under SQLite's bound-variable limit (999 on old builds) with multi-row inserts.
  const rowsPerInsert = Math.max(1, Math.floor(900 / kind.columns.length));
  let stored = 0;
  await db.transaction(async (trx) => {
    let chunk: Record<string, unknown>[] = [];
    for await (const r of readCsvRows(file, kind.columns)) {
      chunk.push(kind.check(r.values, ctx));
      if (chunk.length >= rowsPerInsert) {
        await kind.write(trx, chunk);
        stored += chunk.length;
        onProgress?.(stored);
        chunk = [];
      }
    }
    await kind.write(trx, chunk);
    stored += chunk.length;
    if (stored !== rows) throw new LdmError('IMPORT_CHANGED', `${file} changed while it was being imported; nothing was imported, import it again`);
  });
  return { kind: kind.name, file, rows };
}
