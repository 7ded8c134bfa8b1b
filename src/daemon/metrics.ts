// The daemon's Prometheus metrics, fed by poll results, rendered by hand in the text exposition
// format (0.0.4). Labels are client ids, outcomes and codes only: no SSIN, amount or file name
// ever becomes a label (file names are chosen by senders and could carry anything).
import { redact } from '../log/logger.js';
import type { ClientPoll, FileResult } from '../pipeline/runOnce.js';
import type { FileOutcome } from '../pipeline/processSpoolFile.js';
import type { NotifySummary } from '../notifications/notify.js';

/** Seconds; from a small file (~50 ms) to a very large one (minutes). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const OUTCOMES: readonly FileOutcome[] = ['ANSWERED', 'REJECTED', 'REDELIVERED', 'FAILED', 'SKIPPED', 'RETRYING'];

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return redact(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}`;
}

function num(v: number): string {
  if (v === Infinity) return '+Inf';
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
}

/** A family of series keyed by their label set. */
class Family {
  readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
  ) {}

  private entry(labels: Labels): { labels: Labels; value: number } {
    const key = labelText(labels);
    let e = this.series.get(key);
    if (!e) {
      e = { labels, value: 0 };
      this.series.set(key, e);
    }
    return e;
  }

  inc(labels: Labels, by = 1): void {
    this.entry(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  /** Makes the series exist at 0, so a rate() sees its first increment. */
  touch(labels: Labels): void {
    this.entry(labels);
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) out.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return out;
  }
}

class Histogram {
  readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  private entry(labels: Labels): { labels: Labels; counts: number[]; sum: number; count: number } {
    const key = labelText(labels);
    let e = this.series.get(key);
    if (!e) {
      e = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, e);
    }
    return e;
  }

  observe(labels: Labels, value: number): void {
    const e = this.entry(labels);
    this.buckets.forEach((le, i) => {
      if (value <= le) e.counts[i]++;
    });
    e.sum += value;
    e.count++;
  }

  touch(labels: Labels): void {
    this.entry(labels);
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      // Bucket counts are cumulative: each holds every observation ≤ its bound.
      this.buckets.forEach((le, i) => out.push(`${this.name}_bucket${labelText({ ...labels, le: num(le) })} ${counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${num(sum)}`);
      out.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return out;
  }
}

export class Metrics {
  private readonly info = new Family('ldm_batch_info', 'gauge', 'Always 1; labels name the instance.');
  private readonly seen = new Family('ldm_files_seen_total', 'counter', "Request files (final names) seen for the first time in a client's in/ folder.");
  private readonly processed = new Family('ldm_files_processed_total', 'counter', 'Request files processed, by outcome (SKIPPED: another poller claimed it first).');
  private readonly rejected = new Family('ldm_files_rejected_total', 'counter', 'Request files rejected as a whole, by rejection code (contract §7).');
  private readonly failed = new Family('ldm_files_failed_total', 'counter', 'Request files that could not be processed (moved to error/), by error code.');
  private readonly lines = new Family('ldm_response_lines_total', 'counter', 'Response lines of answered files, by per-line status code (contract §4).');
  private readonly duration = new Histogram('ldm_batch_duration_seconds', 'Time from claim to completion of a request file.', DURATION_BUCKETS);
  private readonly polls = new Family('ldm_polls_total', 'counter', "Polls of a client's spool, by result.");
  private readonly pollFailures = new Family('ldm_poll_failures_total', 'counter', 'Failed polls, by error code (SFTP_UNREACHABLE, HOST_KEY_MISMATCH…).');
  private readonly lastSuccess = new Family('ldm_last_successful_poll_timestamp_seconds', 'gauge', 'Unix time of the last poll of the client that succeeded.');
  private readonly stopped = new Family('ldm_spool_stopped', 'gauge', '1 when the daemon stopped polling this spool until a restart (HOST_KEY_MISMATCH).');
  private readonly inRetry = new Family('ldm_batches_in_retry', 'gauge', "Batches of the client waiting for a retry after a transient fault (disk full, database busy, SFTP down…), at the end of its last poll.");
  private readonly notifyRuns = new Family('ldm_notify_runs_total', 'counter', 'Notify runs of this instance, by result (locked: another run, of any instance, held the lock).');
  private readonly notifyFiles = new Family('ldm_notification_files_total', 'counter', 'Notification files this instance published, by client (ALREADY_PUBLISHED ones of a dead run included).');
  private readonly certExpiry = new Family('ldm_signing_certificate_expiry_timestamp_seconds', 'gauge', 'Unix time at which the signing certificate expires (alert 30 days before).');
  private readonly notifications = new Family('ldm_notifications_total', 'counter', 'Notifications in the files this instance published, by client.');

  constructor(instanceId: string, clients: readonly string[]) {
    this.info.set({ instance_id: instanceId }, 1);
    for (const client of clients) {
      this.seen.touch({ client });
      for (const outcome of OUTCOMES) this.processed.touch({ client, outcome });
      this.polls.touch({ client, result: 'ok' });
      this.polls.touch({ client, result: 'failed' });
      this.duration.touch({ client });
      this.stopped.set({ client }, 0);
      this.inRetry.set({ client }, 0);
    }
    for (const result of ['ok', 'locked', 'failed']) this.notifyRuns.touch({ result });
  }

  recordNotify(s: NotifySummary): void {
    this.notifyRuns.inc({ result: s.ran ? 'ok' : 'locked' });
    for (const f of s.files) {
      this.notifyFiles.inc({ client: f.client });
      this.notifications.inc({ client: f.client }, f.notifications);
    }
  }

  /** The code goes to the log (notify.failed): a failed run retries at the next tick anyway. */
  recordCertificateExpiry(notAfterMs: number): void {
    this.certExpiry.set({}, Math.floor(notAfterMs / 1000));
  }

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
    this.seen.inc({ client }, count);
  }

  recordFile(f: FileResult): void {
    const client = f.client;
    this.processed.inc({ client, outcome: f.outcome });
    if (f.outcome === 'REJECTED' && f.code) this.rejected.inc({ client, code: f.code });
    if (f.outcome === 'FAILED') this.failed.inc({ client, code: f.code ?? 'UNKNOWN' });
    // Re-deliveries repeat an earlier response: their lines were counted when it was answered.
    if (f.outcome === 'ANSWERED' && f.statusCounts) {
      for (const [status, n] of Object.entries(f.statusCounts)) if (n) this.lines.inc({ client, status }, n);
    }
    if (f.durationMs !== undefined) this.duration.observe({ client }, f.durationMs / 1000);
  }

  recordInRetry(client: string, count: number): void {
    this.inRetry.set({ client }, count);
  }

  recordSuccess(client: string, atMs: number): void {
    this.polls.inc({ client, result: 'ok' });
    this.lastSuccess.set({ client }, Math.floor(atMs / 1000));
  }

  recordFailure(client: string, code: string, stopped: boolean): void {
    this.polls.inc({ client, result: 'failed' });
    this.pollFailures.inc({ client, code });
    if (stopped) this.stopped.set({ client }, 1);
  }

  render(): string {
    const families = [this.info, this.seen, this.processed, this.rejected, this.failed, this.lines, this.duration, this.polls, this.pollFailures, this.lastSuccess, this.stopped, this.inRetry, this.notifyRuns, this.notifyFiles, this.notifications, this.certExpiry];
    return families.flatMap((f) => f.render()).join('\n') + '\n';
  }
}
