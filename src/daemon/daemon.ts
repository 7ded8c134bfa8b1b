// The daemon: every client's spool polled on its cron schedule (the global `schedule`, or the
// client's own), each client's poll never overlapping itself. A failed poll is logged and
// counted and the next tick tries again, except HOST_KEY_MISMATCH, which stops that spool until
// an operator has checked the server and restarted. On stop the files in hand are finished;
// after the grace period they are abandoned claimed, and lease recovery finishes them later.
//
// The notify run (LivingWagesNotifications) has its own cron task, on `notifySchedule` (default:
// `schedule`; "off" disables it). Every instance runs it; the lock in the database lets one run
// at a time across instances and hosts, and the outbox sends each notification once.
import cron, { type ScheduledTask, type Logger as CronLogger } from 'node-cron';
import type { Client } from '../interfaces.js';
import type { Config } from '../config/config.js';
import { LdmError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { PickupState } from '../spool/pickup.js';
import type { SpoolContext } from '../pipeline/processSpoolFile.js';
import { errorCode, pollClient } from '../pipeline/runOnce.js';
import { notificationsPerFile, runNotifications } from '../notifications/notify.js';
import { Health } from './health.js';
import { Metrics } from './metrics.js';
import { assertSignerCurrent, certificateExpiry } from '../response/sign.js';
import { clockNow } from '../pipeline/clock.js';
import { startHttp, type HttpEndpoint } from './http.js';
import { retentionCutoff, runRetention, type RetentionRun } from '../audit/purge.js';
import type { ExtractConfig } from '../config/config.js';
import { ExtractScheduler } from '../extracts/scheduler.js';

export interface DaemonSettings {
  instanceId: string;
  schedule: string;
  timezone: string;
  clientSchedules: Record<string, string>;
  minAgeSeconds: number;
  shutdownGraceSeconds: number;
  http?: { host: string; port: number };
  /** The notify run's cron expression and file size; null: the daemon sends no notifications. */
  notify: { schedule: string; maxPerFile: number } | null;
  /** The audit retention run (audit.retentionSchedule, audit.retentionYears); absent or null: none. */
  retention?: { schedule: string; years: number } | null;
  /** Scheduled extracts (contract §6d), each on its own cron; absent or empty: none. */
  extracts?: readonly ExtractConfig[];
}

export function daemonSettings(config: Config, httpOverride?: { host: string; port: number }): DaemonSettings {
  const notifySchedule = config.notifySchedule ?? config.schedule;
  return {
    instanceId: config.instanceId,
    schedule: config.schedule,
    timezone: config.timezone,
    clientSchedules: config.clientSchedules,
    minAgeSeconds: config.spool.minAgeSeconds,
    shutdownGraceSeconds: config.shutdownGraceSeconds,
    http: httpOverride ?? config.http,
    notify: notifySchedule === 'off' ? null : { schedule: notifySchedule, maxPerFile: notificationsPerFile() },
    retention: config.audit.retentionSchedule === 'off' ? null : { schedule: config.audit.retentionSchedule, years: config.audit.retentionYears },
    extracts: config.extracts,
  };
}

/** Codes after which polling the spool again cannot help: a person must look first. */
const STOPPING_CODES = new Set(['HOST_KEY_MISMATCH']);

interface InFlight {
  startedAt: number;
  file: string | null;
  warned: boolean;
  done: Promise<void>;
}

function checkSchedule(expr: string, where: string): void {
  const v = cron.validateDetailed(expr);
  if (!v.valid) {
    const why = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new LdmError('CONFIG', `${where} "${expr}" is not a valid cron expression (${why}); e.g. "*/5 * * * *" is every 5 minutes, "*/30 * * * * *" every 30 seconds`, { exitCode: 2 });
  }
}

function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new LdmError('CONFIG', `"timezone" "${tz}" is not a time zone this Node.js knows; use an IANA name such as Europe/Brussels`, { exitCode: 2 });
  }
}

export class Daemon {
  readonly health: Health;
  readonly metrics: Metrics;
  private readonly groups: { schedule: string; clients: Client[] }[];
  private readonly states = new Map<string, PickupState>();
  private readonly inFlight = new Map<string, InFlight>();
  private tasks: ScheduledTask[] = [];
  private http: HttpEndpoint | null = null;
  private stopping = false;
  /** The notify run in progress (never two in one process; the database lock covers other instances). */
  private notifying: { startedAt: number; warned: boolean; done: Promise<void> } | null = null;
  /** The retention run in progress (awaited on stop). */
  private retaining: Promise<RetentionRun | null> | null = null;
  /** Scheduled extracts (src/extracts): their cron tasks and runs. */
  private extracts: ExtractScheduler | null = null;

  constructor(
    private readonly ctx: SpoolContext,
    private readonly clients: readonly Client[],
    private readonly settings: DaemonSettings,
    private readonly log: Logger,
  ) {
    checkTimezone(settings.timezone);
    checkSchedule(settings.schedule, '"schedule"');
    if (settings.notify) checkSchedule(settings.notify.schedule, '"notifySchedule"');
    if (settings.retention) checkSchedule(settings.retention.schedule, '"audit.retentionSchedule"');
    const known = new Set(clients.map((c) => c.clientId));
    for (const [clientId, expr] of Object.entries(settings.clientSchedules)) {
      checkSchedule(expr, `clients[${clientId}].schedule`);
      if (!known.has(clientId)) log.warn('daemon.unknown_client_schedule', { client: clientId, schedule: expr });
    }
    const bySchedule = new Map<string, Client[]>();
    for (const c of clients) {
      const expr = settings.clientSchedules[c.clientId] ?? settings.schedule;
      bySchedule.set(expr, [...(bySchedule.get(expr) ?? []), c]);
      this.states.set(c.clientId, { previous: new Map() });
    }
    this.groups = [...bySchedule].map(([schedule, cs]) => ({ schedule, clients: cs }));
    this.health = new Health(
      settings.instanceId,
      clients.map((c) => ({ client: c.clientId, schedule: settings.clientSchedules[c.clientId] ?? settings.schedule })),
    );
    this.metrics = new Metrics(settings.instanceId, clients.map((c) => c.clientId), (settings.extracts ?? []).map((e) => e.clientId));
    ctx.readModels?.onRead((version, builtAtMs) => this.metrics.setReadModel(version, builtAtMs));
  }

  /** The port /healthz and /metrics listen on, once started (null when off). */
  get httpPort(): number | null {
    return this.http?.port ?? null;
  }

  async start(): Promise<void> {
    if (this.settings.http) this.http = await startHttp({ ...this.settings.http, health: this.health, metrics: this.metrics, log: this.log });
    // node-cron's own messages (missed ticks…) become structured log lines instead of console text.
    const cronLog: CronLogger = {
      info: (m) => this.log.debug('cron.info', { message: m }),
      warn: (m) => this.log.warn('cron.warning', { message: m }),
      error: (m, err) => this.log.error('cron.error', { message: m instanceof Error ? m.message : m, error: err ? errorMessage(err) : undefined }),
      debug: (m) => this.log.debug('cron.debug', { message: m instanceof Error ? m.message : m }),
    };
    for (const group of this.groups) {
      const task = cron.createTask(group.schedule, () => this.tick(group.clients), { timezone: this.settings.timezone, name: `poll ${group.schedule}`, logger: cronLog });
      // A tick only starts polls and returns, so a missed tick (a busy event loop) loses nothing.
      task.on('execution:missed', (c) => this.log.debug('cron.missed_tick', { schedule: group.schedule, at: c.date.toISOString() }));
      await task.start();
      this.tasks.push(task);
    }
    if (this.settings.notify) {
      const task = cron.createTask(this.settings.notify.schedule, () => this.notifyTick(), { timezone: this.settings.timezone, name: 'notify', logger: cronLog });
      task.on('execution:missed', (c) => this.log.debug('cron.missed_tick', { schedule: this.settings.notify?.schedule, task: 'notify', at: c.date.toISOString() }));
      await task.start();
      this.tasks.push(task);
    }
    const retention = this.settings.retention;
    if (retention) {
      const task = cron.createTask(retention.schedule, () => void this.retentionRun(), { timezone: this.settings.timezone, name: 'audit retention', logger: cronLog });
      task.on('execution:missed', (c) => this.log.debug('cron.missed_tick', { schedule: retention.schedule, task: 'audit retention', at: c.date.toISOString() }));
      await task.start();
      this.tasks.push(task);
    }
    if ((this.settings.extracts?.length ?? 0) > 0) {
      const { db, transport, signer, workDir, instanceId, timezone, clock, leaseSeconds, readModels, retry } = this.ctx;
      if (readModels === undefined) this.log.warn('extract.unavailable', { note: 'no read model registry in this context: scheduled extracts do not run' });
      else {
        // The request batches' retry policy, and the daemon's metrics (ldm_extract*).
        const ctx = { db, transport, signer, workDir, instanceId, timezone, log: this.log, clock, leaseSeconds, readModels, retry, metrics: this.metrics };
        this.extracts = new ExtractScheduler(ctx, this.settings.extracts ?? [], this.settings.schedule, this.log);
        await this.extracts.start(cronLog);
      }
    }
    this.log.info('daemon.started', {
      spool: this.ctx.transport.description,
      timezone: this.settings.timezone,
      schedules: this.groups.map((g) => ({ schedule: g.schedule, clients: g.clients.map((c) => c.clientId) })),
      minAgeSeconds: this.settings.minAgeSeconds,
      notifySchedule: this.settings.notify?.schedule ?? 'off',
      retentionSchedule: this.settings.retention?.schedule ?? 'off',
      http: this.http ? `${this.http.host}:${this.http.port}` : null,
      pid: process.pid,
    });
    // The certificate was checked as current at load; from 30 days before expiry, say so at every start.
    const cert = certificateExpiry(this.ctx.signer);
    this.metrics.recordCertificateExpiry(cert.notAfter.getTime());
    if (cert.warn) this.log.warn('signing.certificate_expiring', { notAfter: cert.notAfter.toISOString(), daysLeft: Math.floor(cert.daysLeft), note: 'configure the renewed certificate before then (README: Rotating the signing certificate)' });
    if (this.clients.length === 0) this.log.warn('daemon.no_clients', { note: 'no client spool to poll: import clients or declare them in the config, then restart the daemon' });
    // First look at once: it records the listing, so files already there are taken at the next tick.
    this.tick(this.clients);
  }

  /** Starts a poll for every given client that is not already polling (never awaits it). */
  private tick(clients: readonly Client[]): void {
    for (const client of clients) {
      if (this.stopping) return;
      const id = client.clientId;
      if (this.health.state(id) === 'stopped') continue;
      const running = this.inFlight.get(id);
      if (running) {
        // Once per long poll: a stuck server would otherwise add a line every tick.
        if (!running.warned) this.log.warn('poll.skipped', { client: id, reason: 'the previous poll of this client is still running', runningMs: Date.now() - running.startedAt, file: running.file });
        running.warned = true;
        continue;
      }
      const entry: InFlight = { startedAt: Date.now(), file: null, warned: false, done: Promise.resolve() };
      this.inFlight.set(id, entry);
      entry.done = this.poll(client, entry).finally(() => this.inFlight.delete(id));
    }
  }

  private async poll(client: Client, entry: InFlight): Promise<void> {
    const id = client.clientId;
    this.health.started(id, new Date(entry.startedAt));
    // Every tick polls: only a poll that found something is worth an info line.
    this.log.debug('poll.started', { client: id });
    try {
      // Nothing is claimed with a certificate that would not be valid at the claim's ProcessedAt.
      assertSignerCurrent(this.ctx.signer, new Date((this.ctx.clock ?? clockNow)(this.settings.timezone).instant));
      const r = await pollClient(this.ctx, client, {
        minAgeMs: this.settings.minAgeSeconds * 1000,
        state: this.states.get(id),
        shouldStop: () => this.stopping,
        onFile: (file) => (entry.file = file),
        onSeen: (n) => this.metrics.recordSeen(id, n),
        onResult: (f) => this.metrics.recordFile(f),
      });
      const now = new Date();
      this.metrics.recordSuccess(id, now.getTime());
      this.metrics.recordInRetry(id, r.inRetry ?? 0);
      this.health.succeeded(id, now, r.files.length, r.inRetry ?? 0);
      const outcomes: Record<string, number> = {};
      for (const f of r.files) outcomes[f.outcome] = (outcomes[f.outcome] ?? 0) + 1;
      const quiet = r.seen === 0 && r.files.length === 0 && !r.inRetry;
      this.log[quiet ? 'debug' : 'info']('poll.done', { client: id, seen: r.seen, files: r.files.length, outcomes, inRetry: r.inRetry, ms: now.getTime() - entry.startedAt });
    } catch (err) {
      const code = errorCode(err);
      const stop = STOPPING_CODES.has(code);
      const now = new Date();
      this.metrics.recordFailure(id, code, stop);
      this.health.failed(id, now, code, errorMessage(err), stop);
      const fields = { client: id, code, error: errorMessage(err), ms: now.getTime() - entry.startedAt };
      if (stop) {
        this.log.error('spool.stopped', { ...fields, action: 'this spool is no longer polled; confirm the server key with its administrator, fix spool.sftp.hostKeyFingerprint / knownHostsFile, then restart the daemon' });
      } else {
        this.log.error('poll.failed', { ...fields, consecutiveFailures: this.health.consecutiveFailures(id), next: 'retried at the next scheduled poll' });
      }
    }
  }

  /** Starts a notify run unless one of this process is still going (never awaits it). */
  private notifyTick(): void {
    const notify = this.settings.notify;
    if (this.stopping || !notify) return;
    if (this.notifying) {
      if (!this.notifying.warned) this.log.warn('notify.skipped', { reason: 'the previous notify run of this instance is still running', runningMs: Date.now() - this.notifying.startedAt });
      this.notifying.warned = true;
      return;
    }
    const entry = { startedAt: Date.now(), warned: false, done: Promise.resolve() };
    this.notifying = entry;
    entry.done = this.notify(notify.maxPerFile).finally(() => (this.notifying = null));
  }

  private async notify(maxPerFile: number): Promise<void> {
    const started = Date.now();
    try {
      const { db, transport, signer, workDir, instanceId, timezone, clock, leaseSeconds } = this.ctx;
      const summary = await runNotifications({ db, transport, signer, workDir, instanceId, timezone, log: this.log, clock, leaseSeconds, maxPerFile });
      this.metrics.recordNotify(summary);
      // Quiet when there was nothing to do, which is most runs.
      if (summary.eventsPlanned > 0 || summary.files.length > 0) {
        this.log.info('notify.done', { eventsPlanned: summary.eventsPlanned, queued: summary.notificationsQueued, files: summary.files.length, notifications: summary.files.reduce((n, f) => n + f.notifications, 0), ms: Date.now() - started });
      }
    } catch (err) {
      const code = errorCode(err);
      this.metrics.recordNotifyFailure();
      this.log.error('notify.failed', { code, error: errorMessage(err), ms: Date.now() - started, next: 'what is pending stays in the outbox for the next run (of any instance)' });
    }
  }

  /**
   * One audit retention run now (the cron task's work): purges what was consulted before the
   * cutoff (today − retentionYears, in timezone) and journals the run in audit_retention_runs.
   * Never two at once in this process; a failure is logged (and journaled) and the next run retries.
   */
  async retentionRun(): Promise<RetentionRun | null> {
    const r = this.settings.retention;
    if (!r || this.stopping || this.retaining) return null;
    const run = this.retain(r.years);
    this.retaining = run;
    try {
      return await run;
    } finally {
      this.retaining = null;
    }
  }

  private async retain(years: number): Promise<RetentionRun | null> {
    const started = Date.now();
    try {
      const now = (this.ctx.clock ?? clockNow)(this.settings.timezone);
      const run = await runRetention(this.ctx.db, { purgedBefore: retentionCutoff(now.date, years), ranAt: now.instant, trigger: 'daemon', instanceId: this.settings.instanceId });
      this.log.info('audit.retention', { run: run.id, purgedBefore: run.purgedBefore, batches: run.batches, persons: run.persons, ms: Date.now() - started });
      return run;
    } catch (err) {
      this.log.error('audit.retention_failed', { code: errorCode(err), error: errorMessage(err), ms: Date.now() - started, next: 'retried at the next scheduled run' });
      return null;
    }
  }

  /** The files being processed right now. */
  inHand(): { client: string; file: string | null; runningMs: number }[] {
    return [...this.inFlight].map(([client, e]) => ({ client, file: e.file, runningMs: Date.now() - e.startedAt }));
  }

  /**
   * Stops the schedules and waits for the polls in flight: each finishes its file in hand and
   * takes no other. Returns false when the grace period ran out first (the files are abandoned).
   */
  async stop(signal: string): Promise<boolean> {
    this.stopping = true;
    for (const t of this.tasks) await t.destroy();
    this.tasks = [];
    const running = [...this.inFlight.values()].map((e) => e.done);
    if (this.notifying) running.push(this.notifying.done);
    if (this.retaining) running.push(this.retaining.then(() => undefined));
    if (this.extracts) running.push(this.extracts.stop());
    this.log.info('daemon.stopping', { signal, inFlight: this.inHand(), graceSeconds: this.settings.shutdownGraceSeconds });
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled(running).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.settings.shutdownGraceSeconds * 1000);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.logAbandoned(`still running after ${this.settings.shutdownGraceSeconds} s (shutdownGraceSeconds)`);
    return finished;
  }

  logAbandoned(reason: string): void {
    for (const f of this.inHand()) {
      this.log.warn('daemon.abandoned', { ...f, reason, note: 'the batch stays claimed; when its lease expires the next poll (of any instance) takes it over' });
    }
  }

  /** Closes the HTTP endpoint and the spool connection (only once the polls are done). */
  async close(): Promise<void> {
    await this.http?.close();
    this.http = null;
    await this.ctx.transport.close();
  }
}
