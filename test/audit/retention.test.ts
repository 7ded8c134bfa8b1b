// Retention: audit.retentionYears on a clock set forward day by day (no sleeping: the runs are
// given their "today"), every run journaled; the daemon's retention hook with an injected clock;
// and the real daemon process running it on its own schedule.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/audit/record.js';
import { countAuditLines } from '../../src/audit/query.js';
import { retentionCutoff, retentionRuns, runRetention } from '../../src/audit/purge.js';
import { Daemon, daemonSettings } from '../../src/daemon/daemon.js';
import { parseConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import type { SpoolContext } from '../../src/pipeline/processSpoolFile.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { openJournal, startDaemon } from '../daemon/harness.js';
import { addBatch, entry, openTestStore, type TestStore } from './fixture.js';

const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);

/** Independent: the first day kept is today's month and day, `years` earlier (29 Feb → 28 Feb). */
function firstDayKept(today: string, years: number): string {
  const y = Number(today.slice(0, 4)) - years;
  let md = today.slice(5);
  if (md === '02-29' && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) md = '02-28';
  return `${String(y).padStart(4, '0')}-${md}`;
}

function nextDay(d: string): string {
  return new Date(Date.parse(`${d}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

describe('retentionCutoff', () => {
  it.each([
    ['2026-03-01', 10, '2016-03-01'],
    ['2026-02-28', 10, '2016-02-28'],
    ['2028-02-29', 10, '2018-02-28'],
    ['2028-02-29', 4, '2024-02-29'],
    ['2026-12-31', 1, '2025-12-31'],
  ])('today %s, %i years → keeps from %s', (today, years, want) => {
    expect(retentionCutoff(today, years)).toBe(want);
    expect(firstDayKept(today, years)).toBe(want);
  });
});

describe('retention with the clock set forward', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore('ldm-audit-retention-');
  });
  afterAll(async () => {
    await store?.close();
  });

  it('each day purges exactly what is older than retentionYears; every run is one journal line', async () => {
    // Consultations around the boundary: the last days of Feb 2016 (a leap year) and early March.
    const at = ['2016-02-26T23:30:00Z', '2016-02-27T00:00:00Z', '2016-02-28T12:00:00Z', '2016-02-29T08:00:00Z', '2016-03-01T00:00:01Z', '2016-03-03T10:00:00Z', '2020-01-01T00:00:00Z'];
    const ids: number[] = [];
    for (const t of at) {
      const id = await addBatch(store.db, 'DONE');
      ids.push(id);
      await recordAudit(store.db, [entry({ batchId: id, seq: 1, ssin: A, consultedAt: t }), entry({ batchId: id, seq: 2, ssin: A, consultedAt: t })]);
    }
    let today = '2026-02-25';
    let runs = 0;
    while (today <= '2026-03-05') {
      const run = await runRetention(store.db, { purgedBefore: retentionCutoff(today, 10), ranAt: `${today}T03:30:00Z`, trigger: 'daemon', instanceId: 'ldm-test' });
      runs++;
      const kept = firstDayKept(today, 10);
      const want = at.filter((t) => t.slice(0, 10) >= kept);
      const left = ((await store.db('audit_batches').orderBy('consulted_at').pluck('consulted_at')) as string[]);
      expect(left, `today ${today}`).toEqual(want);
      expect(await countAuditLines(store.db)).toBe(2 * want.length);
      expect(run.purgedBefore).toBe(kept);
      today = nextDay(today);
    }
    const journal = await retentionRuns(store.db, 100);
    expect(journal).toHaveLength(runs);
    expect(journal.every((r) => r.outcome === 'OK' && r.trigger === 'daemon')).toBe(true);
    // Every consultation was purged by exactly one run; the 2020 one is still there.
    expect(journal.reduce((n, r) => n + r.batches, 0)).toBe(at.length - 1);
    expect(journal.reduce((n, r) => n + r.persons, 0)).toBe(at.length - 1);
  });
});

describe('the daemon retention hook (injected clock)', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore('ldm-audit-retention-daemon-');
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store.db('audit_persons').delete();
    await store.db('audit_batches').delete();
  });

  it('purges with the daemon clock and the configured years, logs one line and journals the run', async () => {
    const config = parseConfig({ database: './store.sqlite', audit: { retentionYears: 3, retentionSchedule: '0 4 * * *' } }, '/tmp/ldm-batch.config.json');
    const settings = daemonSettings(config);
    expect(settings.retention).toEqual({ schedule: '0 4 * * *', years: 3 });
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    let instant = '2026-05-10T02:00:00Z';
    const ctx = { db: store.db, clock: () => ({ date: instant.slice(0, 10), instant }), transport: { description: 'none', close: async () => undefined } } as unknown as SpoolContext;
    const daemon = new Daemon(ctx, [], settings, log);
    const old = await addBatch(store.db, 'DONE');
    const recent = await addBatch(store.db, 'DONE');
    await recordAudit(store.db, [entry({ batchId: old, seq: 1, ssin: A, consultedAt: '2023-05-09T10:00:00Z' })]);
    await recordAudit(store.db, [entry({ batchId: recent, seq: 1, ssin: A, consultedAt: '2023-05-11T10:00:00Z' })]);
    const first = await daemon.retentionRun();
    expect(first).toMatchObject({ trigger: 'daemon', purgedBefore: '2023-05-10', batches: 1, persons: 1, outcome: 'OK', ranAt: instant });
    // The clock moves on two days: the other one goes.
    instant = '2026-05-12T02:00:00Z';
    const second = await daemon.retentionRun();
    expect(second).toMatchObject({ purgedBefore: '2023-05-12', batches: 1 });
    expect(await countAuditLines(store.db)).toBe(0);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'audit.retention');
    expect(logged.map((e) => [e.run, e.purgedBefore, e.batches])).toEqual([
      [first?.id, '2023-05-10', 1],
      [second?.id, '2023-05-12', 1],
    ]);
    expect((await retentionRuns(store.db)).map((r) => r.id)).toEqual([second?.id, first?.id]);
  });

  it('"off" disables it', () => {
    const config = parseConfig({ database: './store.sqlite', audit: { retentionSchedule: 'off' } }, '/tmp/ldm-batch.config.json');
    expect(daemonSettings(config).retention).toBeNull();
    expect(config.audit).toEqual({ retentionYears: 10, onlineMonths: 12, retentionSchedule: 'off' });
  });
});

describe('the daemon process runs retention on its own schedule', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
  }, 120_000);
  afterAll(async () => {
    await inst?.cleanup?.();
  });

  it('one journal line per run, and the old consultation is gone', async () => {
    const db = await openJournal(inst);
    try {
      await db('clients').insert({ client_id: 'fin', cbe_number: '0308357159', sector: 17, name: 'FOD Financiën' }).onConflict('client_id').ignore();
      const old = await addBatch(db, 'DONE');
      const kept = await addBatch(db, 'DONE');
      await recordAudit(db, [entry({ batchId: old, seq: 1, ssin: A, consultedAt: '2015-06-01T03:00:00Z' })]);
      await recordAudit(db, [entry({ batchId: kept, seq: 1, ssin: A, consultedAt: '2020-06-01T03:00:00Z' })]);
    } finally {
      await db.destroy();
    }
    const cfg = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    // Polls rarely; retention every second (the harness's clock: 2026-02-15T03:00:00Z).
    await writeFile(inst.config, JSON.stringify({ ...cfg, schedule: '0 0 1 1 *', notifySchedule: 'off', audit: { retentionYears: 10, retentionSchedule: '*/1 * * * * *' } }, null, 2));
    const d = startDaemon(inst.config);
    try {
      const e = await d.waitFor((x) => x.event === 'audit.retention', 20_000, 'audit.retention');
      expect(e).toMatchObject({ purgedBefore: '2016-02-15', batches: 1, persons: 1 });
      expect(JSON.stringify(d.events)).not.toContain(A);
    } finally {
      await d.signal('SIGTERM');
    }
    const after = await openJournal(inst);
    try {
      const runs = await retentionRuns(after, 100);
      const logged = d.events.filter((x) => x.event === 'audit.retention').length;
      expect(runs).toHaveLength(logged); // one journal line per run, each logged once
      expect(runs.every((r) => r.trigger === 'daemon' && r.outcome === 'OK' && r.purgedBefore === '2016-02-15')).toBe(true);
      expect(runs.reduce((n, r) => n + r.batches, 0)).toBe(1);
      expect(await countAuditLines(after)).toBe(1);
    } finally {
      await after.destroy();
    }
  }, 60_000);
});
