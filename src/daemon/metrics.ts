// The daemon's Prometheus metrics, with prom-client: the default process and Node.js metrics
// (CPU, memory, heap, event-loop lag, open file descriptors, GC) plus ours, fed by poll results.
// Labels are client ids, outcomes and codes only, masked like logs: no SSIN, amount or file name
// ever becomes a label (file names are chosen by senders and could carry anything).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { redact } from '../log/logger.js';
import type { ClientPoll, FileResult } from '../pipeline/runOnce.js';
import type { FileOutcome } from '../pipeline/processSpoolFile.js';
import type { NotifySummary } from '../notifications/notify.js';
import type { ExtractMetrics } from '../extracts/run.js';

/** Seconds; from a small file (~50 ms) to a very large one (minutes). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const OUTCOMES: readonly FileOutcome[] = ['ANSWERED', 'REJECTED', 'REDELIVERED', 'FAILED', 'SKIPPED', 'RETRYING'];

type Labels = Record<string, string>;

/** Label values pass the log's masking: an 11-digit run in a client id or code never leaves. */
const masked = (labels: Labels): Labels => Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, redact(v)]));

export class Metrics implements ExtractMetrics {
  /** Its own registry: several daemons (tests) in one process never share series. */
  readonly registry = new Registry();
  private readonly info: Gauge;
  private readonly seen: Counter;
  private readonly processed: Counter;
  private readonly rejected: Counter;
  private readonly failed: Counter;
  private readonly lines: Counter;
  private readonly duration: Histogram;
  private readonly polls: Counter;
  private readonly pollFailures: Counter;
  private readonly lastSuccess: Gauge;
  private readonly stopped: Gauge;
  private readonly notifyRuns: Counter;
  private readonly notifyFiles: Counter;
  private readonly notifications: Counter;
  private readonly certExpiry: Gauge;
  private readonly inRetry: Gauge;
  private readonly readModelVersion: Gauge;
  private readonly readModelAge: Gauge;
  private readonly extractsWritten: Counter;
  private readonly extractAttemptsFailed: Counter;
  private readonly extractsGivenUpTotal: Counter;
  private readonly extractsInRetry: Gauge;
  private readonly extractsGivenUp: Gauge;
  /** Clients whose extract gauges were set: reset to 0 when the journal no longer lists them. */
  private readonly extractClients = new Set<string>();
  private readModelBuiltAtMs: number | null = null;

  /** `extractClients`: the clients with a scheduled extract (contract §6d), whose extract series start at 0. */
  constructor(instanceId: string, clients: readonly string[], extractClients: readonly string[] = []) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string, labelNames: string[]): Counter => new Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, labelNames: string[]): Gauge => new Gauge({ name, help, labelNames, registers });
    this.info = gauge('ldm_batch_info', 'Always 1; labels name the instance.', ['instance_id']);
    this.seen = counter('ldm_files_seen_total', "Request files (final names) seen for the first time in a client's in/ folder.", ['client']);
    this.processed = counter('ldm_files_processed_total', 'Request files processed, by outcome (SKIPPED: another poller claimed it first).', ['client', 'outcome']);
    this.rejected = counter('ldm_files_rejected_total', 'Request files rejected as a whole, by rejection code (contract §7).', ['client', 'code']);
    this.failed = counter('ldm_files_failed_total', 'Request files that could not be processed (moved to error/), by error code.', ['client', 'code']);
    this.lines = counter('ldm_response_lines_total', 'Response lines of answered files, by per-line status code (contract §4).', ['client', 'status']);
    this.duration = new Histogram({ name: 'ldm_batch_duration_seconds', help: 'Time from claim to completion of a request file.', labelNames: ['client'], buckets: DURATION_BUCKETS, registers });
    this.polls = counter('ldm_polls_total', "Polls of a client's spool, by result.", ['client', 'result']);
    this.pollFailures = counter('ldm_poll_failures_total', 'Failed polls, by error code (SFTP_UNREACHABLE, HOST_KEY_MISMATCH…).', ['client', 'code']);
    this.lastSuccess = gauge('ldm_last_successful_poll_timestamp_seconds', 'Unix time of the last poll of the client that succeeded.', ['client']);
    this.stopped = gauge('ldm_spool_stopped', '1 when the daemon stopped polling this spool until a restart (HOST_KEY_MISMATCH).', ['client']);
    this.notifyRuns = counter('ldm_notify_runs_total', 'Notify runs of this instance, by result (locked: another run, of any instance, held the lock).', ['result']);
    this.notifyFiles = counter('ldm_notification_files_total', 'Notification files this instance published, by client (ALREADY_PUBLISHED ones of a dead run included).', ['client']);
    this.notifications = counter('ldm_notifications_total', 'Notifications in the files this instance published, by client.', ['client']);
    this.certExpiry = gauge('ldm_signing_certificate_expiry_timestamp_seconds', "Unix time at which the signing certificate expires (notAfter); alert 30 days ahead and rotate with an overlap.", []);
    this.inRetry = gauge('ldm_batches_in_retry', 'Batches of the client waiting for a retry after a transient fault (disk full, database busy, SFTP down…), at the end of its last poll.', ['client']);
    this.extractsWritten = counter('ldm_extracts_written_total', "Scheduled extracts (contract §6d) this instance wrote and recorded, by client (a dead run's extract it finished included).", ['client']);
    this.extractAttemptsFailed = counter('ldm_extract_attempts_failed_total', 'Extract attempts that failed on our side, by fault code (CRASHED: a holder found dead at a take-over); each is retried after the backoff or given up.', ['client', 'code']);
    this.extractsGivenUpTotal = counter('ldm_extracts_given_up_total', 'Extracts this instance gave up (attempts used up, or a fault no retry changes), by fault code; nothing retries them until an operator re-opens them.', ['client', 'code']);
    this.extractsInRetry = gauge('ldm_extracts_in_retry', 'Extracts of the client waiting for a retry after a fault, from the journal at the last extract resumption (every poll tick).', ['client']);
    this.extractsGivenUp = gauge('ldm_extracts_given_up', 'Extracts of the client given up and waiting for an operator (FAILED in the journal), from the journal at the last extract resumption; alert when above 0.', ['client']);
    // Registered when a read model is loaded: absent, not 0, before (setReadModel).
    this.readModelVersion = new Gauge({ name: 'ldm_read_model_version', help: 'Version of the read model the answers are computed from (absent until one is loaded).', registers: [] });
    this.readModelAge = new Gauge({
      name: 'ldm_read_model_age_seconds',
      help: 'Seconds since the read model the answers are computed from was built (absent until one is loaded).',
      registers: [],
      collect: () => {
        if (this.readModelBuiltAtMs !== null) this.readModelAge.set(Math.max(0, (Date.now() - this.readModelBuiltAtMs) / 1000));
      },
    });

    this.info.set({ instance_id: redact(instanceId) }, 1);
    for (const c of clients) {
      const client = redact(c);
      this.seen.inc({ client }, 0);
      for (const outcome of OUTCOMES) this.processed.inc({ client, outcome }, 0);
      this.polls.inc({ client, result: 'ok' }, 0);
      this.polls.inc({ client, result: 'failed' }, 0);
      this.duration.zero({ client });
      this.stopped.set({ client }, 0);
      this.inRetry.set({ client }, 0);
    }
    for (const result of ['ok', 'locked', 'failed']) this.notifyRuns.inc({ result }, 0);
    for (const c of extractClients) {
      const client = redact(c);
      this.extractClients.add(client);
      this.extractsWritten.inc({ client }, 0);
      this.extractsInRetry.set({ client }, 0);
      this.extractsGivenUp.set({ client }, 0);
    }
  }

  recordExtractWritten(client: string): void {
    this.extractsWritten.inc(masked({ client }));
  }

  recordExtractAttemptFailed(client: string, code: string): void {
    this.extractAttemptsFailed.inc(masked({ client, code }));
  }

  recordExtractGivenUp(client: string, code: string): void {
    this.extractsGivenUpTotal.inc(masked({ client, code }));
  }

  /** The journal's extracts in retry and given up, per client; a client it no longer lists goes back to 0. */
  recordExtractBacklog(backlog: ReadonlyMap<string, { inRetry: number; givenUp: number }>): void {
    const now = new Map([...backlog].map(([c, b]) => [redact(c), b]));
    for (const c of now.keys()) this.extractClients.add(c);
    for (const client of this.extractClients) {
      const b = now.get(client);
      this.extractsInRetry.set({ client }, b?.inRetry ?? 0);
      this.extractsGivenUp.set({ client }, b?.givenUp ?? 0);
    }
  }

  /** The signing certificate's notAfter (the daemon sets it from the loaded signer). */
  recordCertificateExpiry(notAfterMs: number): void {
    this.certExpiry.set(Math.floor(notAfterMs / 1000));
  }

  /** Batches of a client waiting for a retry after a transient fault. */
  recordInRetry(client: string, n: number): void {
    this.inRetry.set(masked({ client }), n);
  }

  /** The read model's version and build time, once the daemon has one. */
  setReadModel(version: number, builtAtMs: number): void {
    if (this.readModelBuiltAtMs === null) {
      this.registry.registerMetric(this.readModelVersion);
      this.registry.registerMetric(this.readModelAge);
    }
    this.readModelVersion.set(version);
    this.readModelBuiltAtMs = builtAtMs;
  }

  recordNotify(s: NotifySummary): void {
    this.notifyRuns.inc({ result: s.ran ? 'ok' : 'locked' });
    for (const f of s.files) {
      this.notifyFiles.inc(masked({ client: f.client }));
      this.notifications.inc(masked({ client: f.client }), f.notifications);
    }
  }

  /** The code goes to the log (notify.failed): a failed run retries at the next tick anyway. */
  recordNotifyFailure(): void {
    this.notifyRuns.inc({ result: 'failed' });
  }

  /** A whole poll at once (the daemon feeds the parts as they happen). */
  recordPoll(poll: ClientPoll, atMs: number): void {
    this.recordSeen(poll.client, poll.seen);
    for (const f of poll.files) this.recordFile(f);
    this.recordInRetry(poll.client, poll.inRetry ?? 0);
    this.recordSuccess(poll.client, atMs);
  }

  recordSeen(client: string, count: number): void {
    this.seen.inc(masked({ client }), count);
  }

  recordFile(f: FileResult): void {
    const client = f.client;
    this.processed.inc(masked({ client, outcome: f.outcome }));
    if (f.outcome === 'REJECTED' && f.code) this.rejected.inc(masked({ client, code: f.code }));
    if (f.outcome === 'FAILED') this.failed.inc(masked({ client, code: f.code ?? 'UNKNOWN' }));
    // Re-deliveries repeat an earlier response: their lines were counted when it was answered.
    if (f.outcome === 'ANSWERED' && f.statusCounts) {
      for (const [status, n] of Object.entries(f.statusCounts)) if (n) this.lines.inc(masked({ client, status }), n);
    }
    if (f.durationMs !== undefined) this.duration.observe(masked({ client }), f.durationMs / 1000);
  }

  recordSuccess(client: string, atMs: number): void {
    this.polls.inc(masked({ client, result: 'ok' }));
    this.lastSuccess.set(masked({ client }), Math.floor(atMs / 1000));
  }

  recordFailure(client: string, code: string, stopped: boolean): void {
    this.polls.inc(masked({ client, result: 'failed' }));
    this.pollFailures.inc(masked({ client, code }));
    if (stopped) this.stopped.set(masked({ client }), 1);
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
