// The daemon's side of scheduled extracts: one cron task per configured extract (its own
// `schedule`, in the instance's time zone) and, on the daemon's poll schedule, the resumption of
// extracts whose run died or failed (lease expired). Every instance runs them: the unique claim
// (client, year) lets one write the file; the others find it IN_PROGRESS or ALREADY_WRITTEN.
// A failed attempt is retried after the request batches' backoff (the config's `retry`) at the
// first resumption due; an extract given up after its attempts is not run again (its scheduled
// runs log extract.skipped GIVEN_UP) until an operator re-opens it.
import cron, { type ScheduledTask, type Logger as CronLogger } from 'node-cron';
import type { ExtractConfig } from '../config/config.js';
import { errorMessage, LdmError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ExtractGivenUp, loggedByRun, resumeExtracts, runExtract, type ExtractContext, type ExtractResult } from './run.js';

export class ExtractScheduler {
  private tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly ctx: ExtractContext,
    private readonly specs: readonly ExtractConfig[],
    /** The daemon's poll schedule: claimed extracts left by a dead run are resumed on it. */
    private readonly resumeSchedule: string,
    private readonly log: Logger,
  ) {}

  async start(cronLog: CronLogger): Promise<void> {
    if (this.specs.length === 0) return;
    for (const spec of this.specs) {
      const task = cron.createTask(spec.schedule, () => this.once(`extract:${spec.clientId}`, () => this.run(spec)), { timezone: this.ctx.timezone, name: `extract ${spec.clientId}`, logger: cronLog });
      task.on('execution:missed', (c) => this.log.debug('cron.missed_tick', { schedule: spec.schedule, task: 'extract', client: spec.clientId, at: c.date.toISOString() }));
      await task.start();
      this.tasks.push(task);
    }
    const resume = cron.createTask(this.resumeSchedule, () => this.once('resume', () => this.resume()), { timezone: this.ctx.timezone, name: 'extract resume', logger: cronLog });
    await resume.start();
    this.tasks.push(resume);
    this.log.info('extract.scheduled', { extracts: this.specs.map((s) => ({ client: s.clientId, schedule: s.schedule, legalContext: s.legalContext, period: s.period })) });
  }

  /** Starts `job` unless the same one of this process still runs (never awaits it). */
  private once(key: string, job: () => Promise<void>): void {
    if (this.stopping || this.running.has(key)) return;
    const p = job().finally(() => this.running.delete(key));
    this.running.set(key, p);
  }

  private async run(spec: ExtractConfig): Promise<void> {
    try {
      this.logResult(await runExtract(this.ctx, spec));
    } catch (err) {
      if (err instanceof ExtractGivenUp && !err.now) {
        this.log.warn('extract.skipped', { client: spec.clientId, outcome: 'GIVEN_UP', code: err.code, error: errorMessage(err) });
        return;
      }
      if (loggedByRun(err)) return; // extract.failed / extract.given_up said it, with what happens next
      const code = err instanceof LdmError ? err.code : 'EXTRACT_FAILED';
      const refused = err instanceof LdmError && code.startsWith('EXTRACT_') && code !== 'EXTRACT_JOURNAL';
      this.log.error(refused ? 'extract.refused' : 'extract.failed', { client: spec.clientId, code, error: errorMessage(err), next: refused ? 'fix the cause; the next scheduled run (or "ldm-batch extract run") tries again' : 'resumed at a later poll tick' });
    }
  }

  private async resume(): Promise<void> {
    try {
      const { results, failures } = await resumeExtracts(this.ctx);
      for (const r of results) this.logResult(r);
      for (const f of failures) {
        if (loggedByRun(f.error)) continue;
        this.log.error('extract.failed', { client: f.client, year: f.year, code: f.error instanceof LdmError ? f.error.code : 'EXTRACT_FAILED', error: errorMessage(f.error), next: 'resumed at a later poll tick' });
      }
    } catch (err) {
      this.log.error('extract.failed', { code: err instanceof LdmError ? err.code : 'EXTRACT_FAILED', error: errorMessage(err), next: 'resumed at a later poll tick' });
    }
  }

  private logResult(r: ExtractResult): void {
    // WRITTEN is logged by the run itself (extract.written).
    if (r.outcome !== 'WRITTEN') this.log.info('extract.skipped', { client: r.client, year: r.year, outcome: r.outcome, batch: r.batchId, holder: r.holder ?? undefined });
  }

  /** Stops the schedules and waits for the runs in flight (a run cut short is resumed later, with the same bytes). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.tasks) await t.destroy();
    this.tasks = [];
    await Promise.allSettled([...this.running.values()]);
  }

  /** The runs in flight, for the shutdown's wait. */
  inFlight(): Promise<void>[] {
    return [...this.running.values()];
  }
}
