// Scheduled extracts at the daemon's /metrics, next to the batch families: a daemon (local
// spool, extracts of fin and mut every second) writes mut's extract and leaves fin's alone, which
// was given up before it started (its attempts used up by a read-only out/). /metrics shows the
// written extract and the given-up one; the scheduled runs of fin's do not attempt it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { patient } from '../helpers/patience.js';
import { openApp } from '../../src/cli/context.js';
import { openTransport } from '../../src/spool/open.js';
import { createLogger } from '../../src/log/logger.js';
import { ExtractGivenUp, runExtract } from '../../src/extracts/run.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { erofs, faulty, loadStore } from '../extracts/fixture.js';
import { EVERY_SECOND, getText, startDaemon, waitUntil } from './harness.js';

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('extract metrics at /metrics', () => {
  let inst: Instance;
  let db: Db;

  beforeAll(async () => {
    inst = await makeInstance();
    await loadStore(inst, 120, 13, {
      schedule: EVERY_SECOND,
      http: { port: 0 },
      extracts: [
        { clientId: 'fin', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: EVERY_SECOND },
        { clientId: 'mut', legalContext: 'HEALTH_INSURANCE:INCREASED_REIMBURSEMENT', schedule: EVERY_SECOND },
      ],
    });
    // fin's 2025 extract, given up before the daemon starts: a read-only out/ and one attempt allowed.
    const app = await openApp(inst.config);
    const transport = openTransport(app.config, createLogger({ write: () => undefined, base: {} }));
    try {
      const spec = app.config.extracts.find((e) => e.clientId === 'fin');
      if (!spec) throw new Error('fin extract not configured');
      const ctx = {
        db: app.db,
        transport: faulty(transport, { left: 1, error: erofs, calls: 0 }),
        signer: await app.signer(),
        readModels: app.readModels,
        workDir: app.workDir,
        instanceId: 'ldm-before',
        timezone: app.config.timezone,
        log: createLogger({ write: () => undefined, base: {} }),
        retry: { maxAttempts: 1, firstDelaySeconds: 30, maxDelaySeconds: 60, maxSeconds: 3600 },
      };
      await expect(runExtract(ctx, spec, { year: 2025, asOf: '2026-01-15' })).rejects.toBeInstanceOf(ExtractGivenUp);
    } finally {
      await transport.close();
      await app.close();
    }
    db = await openDatabase(parseDatabaseSpec(join(inst.dir, 'data', 'ldm-batch.sqlite')));
  }, patient(180_000));
  afterAll(async () => {
    await db?.destroy();
    await inst?.cleanup();
  });

  it('counts the extract written, shows the given-up one, and does not run it again', async () => {
    const d = startDaemon(inst.config);
    try {
      const port = await d.httpPort();
      await d.waitFor((e) => e.event === 'extract.written' && e.client === 'mut', 30_000, "mut's extract written");
      // fin's scheduled runs find it given up (several ticks), and a resumption has read the journal.
      await waitUntil(() => d.events.filter((e) => e.event === 'extract.skipped' && e.client === 'fin' && e.outcome === 'GIVEN_UP').length >= 3, 30_000, "three scheduled runs of fin's extract");
      const body = await waitUntil(async () => {
        const m = (await getText(port, '/metrics')).body;
        return sample(m, 'ldm_extracts_given_up{client="fin"}') === 1 ? m : undefined;
      }, 30_000, 'the given-up extract in /metrics');
      expect(sample(body, 'ldm_extracts_written_total{client="mut"}')).toBe(1);
      expect(sample(body, 'ldm_extracts_written_total{client="fin"}')).toBe(0);
      expect(sample(body, 'ldm_extracts_given_up{client="mut"}')).toBe(0);
      expect(sample(body, 'ldm_extracts_in_retry{client="fin"}')).toBe(0);
      for (const name of ['ldm_extracts_written_total', 'ldm_extract_attempts_failed_total', 'ldm_extracts_given_up_total', 'ldm_extracts_in_retry', 'ldm_extracts_given_up']) {
        expect(body).toContain(`# HELP ${name} `);
      }
      expect(body).toContain('# HELP ldm_files_processed_total '); // beside the batch families
      // fin's extract was not attempted again: still the one attempt, FAILED, nothing in out/.
      expect(await db('batches').where('file_name', 'EXTRACT-fin-2025').first()).toMatchObject({ state: 'FAILED', attempts: 1, error_code: 'EROFS' });
      expect(d.events.some((e) => (e.event === 'extract.takeover' || e.event === 'extract.retry') && e.client === 'fin')).toBe(false);
      expect(await readdir(join(inst.spool, 'fin', 'out')).catch(() => [] as string[])).toEqual([]);
      const stop = await d.signal('SIGTERM');
      expect(stop.code, d.stderr()).toBe(0);
    } finally {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
    }
  }, patient(120_000));
});
