// Streams a CSV import file as rows keyed by the contract's column names, with line numbers.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { LdmError } from '../errors.js';
import { Utf8Guard } from './utf8Guard.js';

export interface CsvRow {
  line: number;
  /** Values by column name; empty cells are null (contract §8: empty = null). */
  values: Record<string, string | null>;
}

/**
 * `optional` columns may follow the required ones in the header (e.g. amounts' payment_id);
 * a row has as many cells as the header has columns; a missing optional column is null.
 */
export async function* readCsvRows(path: string, columns: readonly string[], optional: readonly string[] = []): AsyncGenerator<CsvRow> {
  const source = createReadStream(path);
  const guard = new Utf8Guard(path);
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: false });
  // pipe() does not pass errors on: a read or encoding failure must end the parse with that error.
  source.on('error', (e) => parser.destroy(e));
  guard.on('error', (e) => parser.destroy(e));
  source.pipe(guard).pipe(parser);
  let header: string[] | undefined;
  let present: readonly string[] = columns;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      if (!header) {
        header = cells.map((c) => c.trim());
        const found = header.join(',');
        const allowed = optional.map((_, k) => [...columns, ...optional.slice(0, k + 1)]);
        const match = [columns, ...allowed].find((cols) => cols.join(',') === found);
        if (match === undefined) {
          const expected = [columns, ...allowed].map((cols) => `"${cols.join(',')}"`).join(' or ');
          throw new LdmError('IMPORT_HEADER', `${path}: line ${rec.info.lines}: the header must be exactly ${expected}, found "${found}"`);
        }
        present = match;
        continue;
      }
      const values: Record<string, string | null> = {};
      if (cells.length !== present.length) {
        yield { line: rec.info.lines, values: { __columns: String(cells.length), __expected: String(present.length) } };
        continue;
      }
      for (const c of optional) values[c] = null;
      present.forEach((c, i) => {
        const v = cells[i].trim();
        values[c] = v === '' ? null : v;
      });
      yield { line: rec.info.lines, values };
    }
  } catch (err) {
    if (err instanceof LdmError) throw err;
    const e = err as { message?: string; lines?: number };
    throw new LdmError('IMPORT_CSV', `${path}: not a readable CSV file${e.lines ? ` (line ${e.lines})` : ''}: ${e.message ?? String(err)}`);
  }
  if (!header) throw new LdmError('IMPORT_EMPTY', `${path}: the file is empty; expected the header "${columns.join(',')}"`);
}
