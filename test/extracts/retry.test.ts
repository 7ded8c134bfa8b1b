// The attempt cap of scheduled extracts: the request batches' retry policy (src/pipeline/retryPolicy.ts)
// applied to extracts. A table of extracts whose publication into out/ fails (an EROFS injected
// into the real spool transport, classified transient by src/pipeline/faults.ts) a given number
// of times, or always, or with a fault no retry changes, each run the daemon's way — a first
// run, then the resumption of every poll tick — against what the policy says: an extract that
// fails every time is attempted exactly maxAttempts times and then given up (FAILED, the fault's
// code, a message an operator can act on, no SSIN), and is not tried again by any resumption or
// scheduled run until an operator re-opens it; one that fails and then succeeds is written once.
// Time never passes in these tests: the backoff is checked on the journal's lease, then "ended"
// by moving the lease into the past, as the database clock would. The metrics move with it.
// Runs on SQLite, and on PostgreSQL when a server answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';
import { patient } from '../helpers/patience.js';
import { openApp, type AppContext } from '../../src/cli/context.js';
import { openTransport } from '../../src/spool/open.js';
import { createLogger } from '../../src/log/logger.js';
import { ExtractGivenUp, resumeExtracts, runExtract, type ExtractContext, type ExtractResult } from '../../src/extracts/run.js';
import { findExtract } from '../../src/extracts/journal.js';
import { retryDelaySeconds, type RetryPolicy } from '../../src/pipeline/retryPolicy.js';
import { Metrics } from '../../src/daemon/metrics.js';
import type { SpoolTransport } from '../../src/spool/transport.js';
import type { ExtractConfig } from '../../src/config/config.js';
import { erofs, faulty, loadStore } from './fixture.js';

const AS_OF = '2026-01-15';

/** A bug: no errno, no code — not transient (faults.ts: INTERNAL). */
const bug = (): Error => new TypeError('Cannot read properties of undefined (reading "sha256") for 85073003328');

interface Row {
  name: string;
  client: string;
  year: number;
  maxAttempts: number;
  /** How many publications fail before one succeeds (Infinity: every one). */
  failures: number;
  fault: 'EROFS' | 'bug';
}

const ROWS: Row[] = [
  { name: 'EROFS every time, limit 3', client: 'fin', year: 2025, maxAttempts: 3, failures: Infinity, fault: 'EROFS' },
  { name: 'EROFS every time, limit 1', client: 'fin', year: 2024, maxAttempts: 1, failures: Infinity, fault: 'EROFS' },
  { name: 'EROFS once, then written (limit 3)', client: 'fin', year: 2023, maxAttempts: 3, failures: 1, fault: 'EROFS' },
  { name: 'EROFS twice, written at the last allowed attempt (limit 3)', client: 'mut', year: 2025, maxAttempts: 3, failures: 2, fault: 'EROFS' },
  { name: 'a fault no retry changes (a bug), limit 3', client: 'mut', year: 2024, maxAttempts: 3, failures: Infinity, fault: 'bug' },
];

/** What the policy says, written out plainly: the reference the runs are compared with. */
function expected(r: Row): { outcome: 'WRITTEN' | 'GIVEN_UP'; attempts: number; code?: string } {
  if (r.fault === 'bug') return { outcome: 'GIVEN_UP', attempts: 1, code: 'INTERNAL' };
  if (r.failures < r.maxAttempts) return { outcome: 'WRITTEN', attempts: r.failures + 1 };
  return { outcome: 'GIVEN_UP', attempts: r.maxAttempts, code: 'EROFS' };
}

/** The value of one series in a Prometheus text body (undefined when absent). */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const pg = await postgresAvailable();
const DATABASES: { kind: string; skip: string }[] = [
  { kind: 'sqlite', skip: '' },
  { kind: 'postgres', skip: pg ? '' : PG_SKIP_REASON },
];

describe.each(DATABASES)('extract attempts capped by the retry policy ($kind)', ({ kind, skip }) => {
  let inst: Instance;
  let app: AppContext;
  let temp: TempDatabase | undefined;
  let transport: SpoolTransport;
  const logs: { event: string; level: string; [k: string]: unknown }[] = [];
  const metrics = new Metrics('test', ['fin', 'mut'], ['fin', 'mut']);

  beforeAll(async () => {
    if (skip) return;
    if (kind === 'postgres') temp = await createTempDatabase();
    inst = await makeInstance({ database: temp?.url });
    await loadStore(inst, 120, 11);
    app = await openApp(inst.config);
    transport = openTransport(app.config, createLogger({ write: () => undefined, base: {} }));
  }, patient(180_000));
  afterAll(async () => {
    await transport?.close();
    await app?.close();
    await inst?.cleanup();
    await temp?.drop();
  });

  const log = createLogger({ write: (line) => logs.push(JSON.parse(line) as { event: string; level: string }), base: {} });
  const spec = (client: string): ExtractConfig => {
    const s = app.config.extracts.find((e) => e.clientId === client);
    if (!s) throw new Error(`no extract configured for ${client}`);
    return s;
  };
  const contextFor = async (retry: RetryPolicy, fault: { left: number; error: () => Error; calls: number }): Promise<ExtractContext> => ({
    db: app.db,
    transport: faulty(transport, fault),
    signer: await app.signer(),
    readModels: app.readModels,
    workDir: app.workDir,
    instanceId: 'ldm-test',
    timezone: app.config.timezone,
    log,
    retry,
    metrics,
  });
  const batchOf = async (client: string, year: number) => {
    const e = await findExtract(app.db, client, year);
    if (!e) throw new Error(`${client} ${year} was never claimed`);
    return e.batch;
  };
  /** The end of the backoff, as the database clock would bring it: the lease moves into the past. */
  const endBackoff = (id: number) => app.db('batches').where({ id }).update({ lease_until: '2000-01-01T00:00:00.000Z' });
  const attempt = async (f: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await f();
    } catch (err) {
      return err;
    }
  };

  it.skipIf(skip !== '').each(ROWS)('$name', async (r) => {
    const policy: RetryPolicy = { maxAttempts: r.maxAttempts, firstDelaySeconds: 600, maxDelaySeconds: 1200, maxSeconds: 24 * 3600 };
    const fault = { left: r.failures, error: r.fault === 'EROFS' ? erofs : bug, calls: 0 };
    const ctx = await contextFor(policy, fault);
    const want = expected(r);
    const failedBefore = sample(await metrics.render(), `ldm_extract_attempts_failed_total{client="${r.client}",code="${want.code ?? 'EROFS'}"}`) ?? 0;

    // The scheduled run, then the resumptions of the poll ticks, the daemon's way.
    let last = await attempt(() => runExtract(ctx, spec(r.client), { year: r.year, asOf: AS_OF }));
    for (let tick = 0; tick < r.maxAttempts + 2; tick++) {
      const b = await batchOf(r.client, r.year);
      if (b.state !== 'CLAIMED') break;
      // Waiting for its retry: the lease ends when the backoff does, and no resumption takes it before.
      expect(b.errorCode).toBe('EROFS');
      expect(b.leaseUntil).not.toBeNull();
      const waitMs = Date.parse(b.leaseUntil ?? '') - Date.parse(b.updatedAt);
      expect(Math.abs(waitMs - retryDelaySeconds(policy, b.attempts) * 1000)).toBeLessThan(1000);
      const calls = fault.calls;
      expect((await resumeExtracts(ctx)).results).toEqual([]);
      expect(fault.calls).toBe(calls);
      await endBackoff(b.id);
      const resumed = await resumeExtracts(ctx);
      last = resumed.failures[0]?.error ?? resumed.results[0];
    }

    const b = await batchOf(r.client, r.year);
    const file = join(inst.spool, r.client, 'out', `EXTRACT-${r.client}-${r.year}.xml`);
    expect(fault.calls, 'publications tried').toBe(want.attempts);
    if (want.outcome === 'WRITTEN') {
      expect(last).toMatchObject({ outcome: 'WRITTEN', resumed: true });
      expect(b).toMatchObject({ state: 'DONE', attempts: want.attempts, errorCode: null, clientId: r.client });
      expect(existsSync(file)).toBe(true);
      expect((await app.db('batches').where('file_name', `EXTRACT-${r.client}-${r.year}`)).length).toBe(1);
      return;
    }
    // Given up: the journal says what and why, in words an operator can act on, without an SSIN.
    expect(last).toBeInstanceOf(ExtractGivenUp);
    expect(last).toMatchObject({ code: 'EXTRACT_GIVEN_UP', now: true });
    expect(b).toMatchObject({ state: 'FAILED', attempts: want.attempts, errorCode: want.code, clientId: r.client, leaseUntil: null });
    expect(b.error).toContain(`extract EXTRACT-${r.client}-${r.year} given up after ${want.attempts} attempt(s)`);
    expect(b.error).toMatch(/re-open/);
    expect(b.error).not.toMatch(/\d{11}/);
    expect(String((last as Error).message)).not.toMatch(/\d{11}/);
    expect(existsSync(file)).toBe(false);
    const line = logs.find((l) => l.event === 'extract.given_up' && l.batch === b.id);
    expect(line).toMatchObject({ level: 'error', code: want.code, attempts: want.attempts, maxAttempts: r.maxAttempts, client: r.client, year: r.year });
    expect(JSON.stringify(line)).not.toMatch(/\d{11}/);

    // Not retried again: no resumption, no scheduled run, even with the fault gone.
    fault.left = 0;
    await endBackoff(b.id);
    expect(await resumeExtracts(ctx)).toEqual({ results: [], failures: [] });
    const again = await attempt(() => runExtract(ctx, spec(r.client), { year: r.year, asOf: AS_OF }));
    expect(again).toBeInstanceOf(ExtractGivenUp);
    expect(again).toMatchObject({ code: 'EXTRACT_GIVEN_UP', now: false });
    expect(fault.calls).toBe(want.attempts);
    expect(await batchOf(r.client, r.year)).toMatchObject({ state: 'FAILED', attempts: want.attempts });
    const m = await metrics.render();
    expect(sample(m, `ldm_extracts_given_up_total{client="${r.client}",code="${want.code}"}`)).toBeGreaterThanOrEqual(1);
    expect((sample(m, `ldm_extract_attempts_failed_total{client="${r.client}",code="${want.code}"}`) ?? 0) - failedBefore).toBe(want.attempts);
  }, patient(60_000));

  it.skipIf(skip !== '')('the metrics: written, failed attempts, given up, and the journal backlog', async () => {
    const m = await metrics.render();
    expect(sample(m, 'ldm_extracts_written_total{client="fin"}')).toBe(1);
    expect(sample(m, 'ldm_extracts_written_total{client="mut"}')).toBe(1);
    expect(sample(m, 'ldm_extract_attempts_failed_total{client="fin",code="EROFS"}')).toBe(3 + 1 + 1);
    expect(sample(m, 'ldm_extract_attempts_failed_total{client="mut",code="EROFS"}')).toBe(2);
    expect(sample(m, 'ldm_extract_attempts_failed_total{client="mut",code="INTERNAL"}')).toBe(1);
    expect(sample(m, 'ldm_extracts_given_up_total{client="fin",code="EROFS"}')).toBe(2);
    expect(sample(m, 'ldm_extracts_given_up_total{client="mut",code="INTERNAL"}')).toBe(1);
    expect(sample(m, 'ldm_extracts_given_up{client="fin"}')).toBe(2);
    expect(sample(m, 'ldm_extracts_given_up{client="mut"}')).toBe(1);
    expect(sample(m, 'ldm_extracts_in_retry{client="fin"}')).toBe(0);
  });

  it.skipIf(skip !== '')('an operator re-opens a given-up extract: written once, the ProcessedAt of its claim', async () => {
    const fault = { left: 0, error: erofs, calls: 0 };
    const ctx = await contextFor({ maxAttempts: 3, firstDelaySeconds: 600, maxDelaySeconds: 1200, maxSeconds: 24 * 3600 }, fault);
    const before = await batchOf('fin', 2025);
    expect(before.state).toBe('FAILED');
    const r = (await runExtract(ctx, spec('fin'), { year: 2025, asOf: AS_OF, reopen: true })) as ExtractResult;
    expect(r).toMatchObject({ outcome: 'WRITTEN', resumed: true, batchId: before.id, processedAt: before.processedAt, referenceDate: before.referenceDate });
    expect(await batchOf('fin', 2025)).toMatchObject({ state: 'DONE', attempts: 1, clientId: 'fin' });
    expect(fault.calls).toBe(1);
    expect(existsSync(join(inst.spool, 'fin', 'out', 'EXTRACT-fin-2025.xml'))).toBe(true);
    expect(logs.some((l) => l.event === 'extract.reopened' && l.batch === before.id)).toBe(true);
    // Once written, re-opening changes nothing.
    expect(await runExtract(ctx, spec('fin'), { year: 2025, asOf: AS_OF, reopen: true })).toMatchObject({ outcome: 'ALREADY_WRITTEN' });
    await resumeExtracts(ctx);
    const m = await metrics.render();
    expect(sample(m, 'ldm_extracts_written_total{client="fin"}')).toBe(2);
    expect(sample(m, 'ldm_extracts_given_up{client="fin"}')).toBe(1);
  });
});
