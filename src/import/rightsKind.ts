// The `rights` import (contract §8 rights.csv): one row per version of a right; every version
// is kept, the highest version of a right_id is current.
//
// Row checks (first pass, with line numbers): shapes, SSIN check digits, the OCMW on the
// reference list, type/event enums, dates, end ≥ start, a positive version, and within the file
// one right naming two SSINs; the same (right_id, version) with other content is importCsv's
// same-key check (fileKey), which names both lines.
// Checks against the store (in the write transaction, so nothing is stored when one fails):
// a version already stored with other content, or a right stored under another SSIN. The same
// content again is an idempotent re-import: the stored row (and its notification state) is kept.
import type { Knex } from 'knex';
import { LdmError } from '../errors.js';
import type { RightVersion } from '../interfaces.js';
import { checkRightRow, RIGHTS_COLUMNS, RowProblem } from '../services/rights/rowCheck.js';
import { ssinConflict, versionDifferences } from '../services/rights/rules.js';
import { insertRightVersions, toRightRow, toRightVersion, versionsOfRights, type RightRow } from '../store/rights.js';
// kinds.ts imports this module to register it: reach it through kinds.ts (or importCsv.ts), never
// first, or the cycle sees `rights` before it is defined. Tests use services/rights/rowCheck.ts.
import { BadRow, type ImportContext, type ImportKind, type WriteCounts } from './kinds.js';

const key = (v: { rightId: string; version: number }): string => `${v.rightId}\u0000${v.version}`;

/** What one import has seen so far (both passes see the same rows; an identical row is no conflict). */
interface FileState {
  ssinOf: Map<string, string>;
}
// Keyed by the import's context object, which importCsv creates once per import.
const fileStates = new WeakMap<ImportContext, FileState>();
// Data rows handed to write() so far, per import transaction (for the store-conflict message).
const writtenRows = new WeakMap<Knex.Transaction, number>();

function fileState(ctx: ImportContext): FileState {
  let s = fileStates.get(ctx);
  if (s === undefined) {
    s = { ssinOf: new Map() };
    fileStates.set(ctx, s);
  }
  return s;
}

export const rights: ImportKind = {
  name: 'rights',
  columns: RIGHTS_COLUMNS,
  check(v, ctx) {
    let row: RightVersion;
    try {
      row = checkRightRow(v, ctx.ocmws, ctx.referenceYear);
    } catch (err) {
      if (err instanceof RowProblem) throw new BadRow(err.message);
      throw err;
    }
    const state = fileState(ctx);
    const conflict = ssinConflict(state.ssinOf.get(row.rightId), row);
    if (conflict !== null) throw new BadRow(conflict);
    state.ssinOf.set(row.rightId, row.ssin);
    return { ...toRightRow(row) };
  },
  chunkRows: 100, // versionsOfRights looks the chunk's right ids up in one statement
  describeKey: (r) => `right ${String(r.right_id)} version ${String(r.version)}`,
  fileKey: (r) => `${String(r.right_id)}\u0000${String(r.version)}`,
  async write(trx, rows): Promise<WriteCounts> {
    const first = (writtenRows.get(trx) ?? 0) + 1;
    writtenRows.set(trx, first - 1 + rows.length);
    const incoming = rows.map((r) => toRightVersion(r as unknown as RightRow));
    const stored = await versionsOfRights(trx, incoming.map((v) => v.rightId));
    const storedByKey = new Map(stored.map((v) => [key(v), v]));
    const storedSsin = new Map(stored.map((v) => [v.rightId, v.ssin]));
    const problems: string[] = [];
    let unchanged = 0;
    const fresh = new Map<string, RightVersion>();
    incoming.forEach((v, i) => {
      const where = `data row ${first + i} (right ${v.rightId} version ${v.version})`;
      const old = storedByKey.get(key(v));
      if (old !== undefined) {
        const diff = versionDifferences(old, v);
        if (diff.length > 0) problems.push(`${where}: this version is already stored with another ${diff.join(', ')}; versions are history and never change — send a new version`);
        else unchanged++;
        return;
      }
      const conflict = ssinConflict(storedSsin.get(v.rightId), v);
      if (conflict !== null) problems.push(`${where}: ${conflict}`);
      else fresh.set(key(v), v);
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, 50).map((p) => `  ${p}`).join('\n');
      const more = problems.length > 50 ? `\n  … and ${problems.length - 50} more in this part of the file` : '';
      throw new LdmError('IMPORT_BAD_ROWS', `rights: ${problems.length} row(s) conflict with stored rights, nothing was imported:\n${shown}${more}`);
    }
    // Only new versions are stored, so only they reach the notification planner (planned = 0).
    await insertRightVersions(trx, [...fresh.values()]);
    return { inserted: fresh.size, updated: 0, unchanged };
  },
};
