// A big batch writes its audit entries (AuditSink) while two other connections read the store
// all the time (the lookups). SQLite's automatic checkpoints cannot start the WAL over while a
// reader uses it, so without an explicit restart the WAL grew with the batch (476 MB after 90 s of
// a 5M-line batch). Here: continuous readers on two connections, 12 flushes; the WAL must stay
// small whatever the number of flushes.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, siblingConnection, type Db } from '../../src/store/db.js';
import { AuditSink } from '../../src/audit/record.js';
import { countAuditLines } from '../../src/audit/query.js';

let db: Db;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-wal-'));
  file = join(dir, 'store.sqlite');
  db = await openDatabase({ client: 'sqlite', filename: file });
  const persons = Array.from({ length: 2000 }, (_, i) => ({ ssin: String(10_000_000_000 + i), replaced_by: null }));
  for (let i = 0; i < persons.length; i += 400) await db('persons').insert(persons.slice(i, i + 400));
});

afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

const walBytes = async (): Promise<number> => (await stat(`${file}-wal`).catch(() => ({ size: 0 }))).size;

describe('audit writes beside continuous readers', () => {
  it('keep the WAL from growing with the number of entries', async () => {
    const readers = [siblingConnection(db), siblingConnection(db)];
    let reading = true;
    let reads = 0;
    // Each reader keeps a read transaction open most of the time, as the overlapping lookups do.
    const loops = readers.map(async (r) => {
      while (reading) {
        await r.db.raw('SELECT count(*) AS n FROM persons p JOIN persons q ON q.ssin = p.ssin');
        reads++;
      }
    });
    const rowsPerFlush = 5000;
    const sink = new AuditSink(db, {
      batchId: 1,
      clientId: 'fin',
      service: 'LivingWagesWithAmount',
      legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
      deliberation: null,
      consultedAt: '2026-03-15T03:00:00Z',
    }, { rowsPerFlush });
    const sizes: number[] = [];
    try {
      for (let seq = 1; seq <= 12 * rowsPerFlush; seq++) {
        const due = sink.add(seq, String(10_000_000_000 + (seq % 2000)), 2, 'MSG00000');
        if (due) {
          await due;
          sizes.push(await walBytes());
        }
      }
      await sink.close();
    } finally {
      reading = false;
      await Promise.all(loops);
      for (const r of readers) await r.release();
    }
    expect(reads).toBeGreaterThan(12); // the readers really ran during the flushes
    const n = await countAuditLines(db, 1);
    expect(Number(n)).toBe(12 * rowsPerFlush);
    // One flush of 5,000 entries is well under 2 MB of WAL; 12 of them without restarts are several.
    expect(Math.max(...sizes, await walBytes()), `WAL sizes after each flush: ${sizes.join(', ')}`).toBeLessThan(2 << 20);
  });
});
