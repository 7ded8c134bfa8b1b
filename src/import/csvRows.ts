// Streams a CSV import file as rows keyed by the contract's column names, with line numbers.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { LdmError } from '../errors.js';

export interface CsvRow {
  line: number;
  /** Values by column name; empty cells are null (contract §8: empty = null). */
  values: Record<string, string | null>;
}

export async function* readCsvRows(path: string, columns: readonly string[]): AsyncGenerator<CsvRow> {
  const parser = createReadStream(path).pipe(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: false }),
  );
  let header: string[] | undefined;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      if (!header) {
        header = cells.map((c) => c.trim());
        const expected = columns.join(',');
        if (header.join(',') !== expected) {
          throw new LdmError('IMPORT_HEADER', `${path}: line ${rec.info.lines}: the header must be exactly "${expected}", found "${header.join(',')}"`);
        }
        continue;
      }
      const values: Record<string, string | null> = {};
      if (cells.length !== columns.length) {
        yield { line: rec.info.lines, values: { __columns: String(cells.length) } };
        continue;
      }
      columns.forEach((c, i) => {
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
