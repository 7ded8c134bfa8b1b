// Leases on the database's clock: a host whose clock runs ten minutes fast cannot take over a
// live batch (graphile-worker's `now()`), on SQLite and PostgreSQL. The fast host is this test
// process with its Date faked ten minutes ahead; the database's clock is untouched.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { claimBatch, expiredBatches, getBatch, heartbeat, takeOver } from '../../src/journal/batches.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';

const pgUp = await postgresAvailable();
if (!pgUp) console.warn(`clock-skew on PostgreSQL skipped: ${PG_SKIP_REASON}`);

const engines: { name: string; skip: boolean; open: () => Promise<{ db: Db; done: () => Promise<void> }> }[] = [
  {
    name: 'SQLite',
    skip: false,
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ldm-skew-'));
      const db = await openDatabase({ client: 'sqlite', filename: join(dir, 'j.sqlite') });
      return { db, done: async () => (await db.destroy(), rm(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !pgUp,
    open: async () => {
      const t: TempDatabase = await createTempDatabase();
      const db = await openDatabase({ client: 'postgres', url: t.url });
      return { db, done: async () => (await db.destroy(), t.drop()) };
    },
  },
];

describe.each(engines)('leases on $name', ({ skip, open }) => {
  let h: { db: Db; done: () => Promise<void> };
  beforeAll(async () => {
    if (!skip) h = await open();
  }, 60_000);
  afterAll(async () => h?.done());
  afterEach(() => vi.useRealTimers());

  it.skipIf(skip)('a host ten minutes fast cannot take over a live batch; a dead one is taken over', async () => {
    const live = await claimBatch(h.db, { clientId: 'fin', fileName: 'R.xml', size: 0, sha256: '', referenceDate: '2026-02-15', processedAt: '2026-02-15T03:00:00Z', responseName: 'R.response.xml', instanceId: 'A', claimName: 'R.xml.ldm-processing.A.1.x', leaseSeconds: 120 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10 * 60 * 1000);
    expect(await expiredBatches(h.db, 'fin')).toEqual([]);
    expect(await takeOver(h.db, live.id, 'B-fast', 120)).toBeUndefined();
    expect((await getBatch(h.db, live.id))?.instanceId).toBe('A');
    // The holder renews on the database's clock too, whatever its own says.
    expect(await heartbeat(h.db, live.id, 'A', 120)).toBe(true);
    vi.useRealTimers();
    // A batch whose lease ran out (by the database's clock) is taken over.
    const dead = await claimBatch(h.db, { clientId: 'fin', fileName: 'D.xml', size: 0, sha256: '', referenceDate: '2026-02-15', processedAt: '2026-02-15T03:00:00Z', responseName: 'D.response.xml', instanceId: 'A', claimName: 'D.xml.ldm-processing.A.1.x', leaseSeconds: -1 });
    expect((await expiredBatches(h.db, 'fin')).map((b) => b.id)).toEqual([dead.id]);
    expect((await takeOver(h.db, dead.id, 'B', 120))?.instanceId).toBe('B');
  });
});
