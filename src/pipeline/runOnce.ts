// One poll of a client's spool: finish what dead holders left, pick up ready files, process
// each, and report what happened — with what the journal recorded about each file, for metrics.
import type { Client, StatusCode } from '../interfaces.js';
import { LdmError, errorMessage } from '../errors.js';
import { hostileEntryReason, isCandidateRequest, sanitizedName } from '../spool/transport.js';
import { pickReady, type PickupState } from '../spool/pickup.js';
import { processSpoolFile, quarantine, recoverClient, type FileOutcome, type SpoolContext } from './processSpoolFile.js';
import { countInRetry, failAbandonedRuns, lastBatchId, lastFinished } from '../journal/batches.js';
import { removeDeadWorkDirs } from './workDirs.js';

export interface FileResult {
  client: string;
  file: string;
  outcome: FileOutcome;
  /** Claim to completion in this process, ms; absent for batches finished by recovery. */
  durationMs?: number;
  batchId?: number;
  /** Lines in the response (0 for a rejection). */
  lines?: number;
  statusCounts?: Partial<Record<StatusCode, number>>;
  /** The journal's error code: the rejection code, REDELIVERY, INTERNAL… */
  code?: string;
}

export interface ClientPoll {
  client: string;
  /** Final-name request files in in/ that the previous poll had not listed (all of them without pickup state). */
  seen: number;
  files: FileResult[];
  /** Batches of the client waiting for a retry after a transient fault, when the poll ended. */
  inRetry?: number;
}

export interface SpoolFailure {
  client: string;
  code: string;
  error: string;
}

export interface PollSummary {
  files: FileResult[];
  /** Clients whose poll failed (the others were still polled). */
  failures: SpoolFailure[];
}

export interface PollOptions {
  minAgeMs: number;
  /** The daemon's memory of the previous listing: a file is taken only when unchanged since then. */
  state?: PickupState;
  /** Checked before each file: the file in hand is always finished. */
  shouldStop?: () => boolean;
  /** Told which file is in hand (for shutdown logs). */
  onFile?: (file: string | null) => void;
  /** Told each result as soon as it is known, so a poll that fails later still counts what it did. */
  onResult?: (result: FileResult) => void;
  /** Told how many files this poll saw for the first time. */
  onSeen?: (count: number) => void;
  /** The host's wall clock in epoch ms (file ages); default Date.now. */
  nowMs?: () => number;
}

/** Errors of the spool connection itself: every client on it would fail the same way. */
const TRANSPORT_WIDE = new Set(['SFTP_UNREACHABLE', 'HOST_KEY_MISMATCH', 'SFTP_AUTH', 'SFTP_KEY', 'SFTP_CONNECT', 'KEY_PERMISSIONS', 'CONFIG']);

export function errorCode(err: unknown): string {
  if (err instanceof LdmError) return err.code;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'SPOOL_ERROR';
}

/** What the journal recorded for a file just finished (the pipeline returns only the outcome). */
async function journalEntry(ctx: SpoolContext, client: Client, file: string, afterId: number | null): Promise<Partial<FileResult>> {
  const b = await lastFinished(ctx.db, client.clientId, file, afterId);
  if (!b) return {};
  return {
    batchId: b.id,
    lines: b.recordCount ?? undefined,
    statusCounts: Object.keys(b.statusCounts).length > 0 ? b.statusCounts : undefined,
    code: b.errorCode ?? undefined,
  };
}

/** Polls one client; throws when the spool cannot be read (the caller decides what that means). */
export async function pollClient(ctx: SpoolContext, client: Client, opts: PollOptions): Promise<ClientPoll> {
  const result: ClientPoll = { client: client.clientId, seen: 0, files: [], inRetry: 0 };
  if (opts.shouldStop?.()) return result;
  await removeDeadWorkDirs(ctx.workDir, ctx.log);
  const abandoned = await failAbandonedRuns(ctx.db);
  if (abandoned > 0) ctx.log.warn('batch.abandoned_runs', { count: abandoned, note: 'process/reprocess rows whose command stopped: marked FAILED (ABANDONED)' });
  await ctx.transport.ensureFolders(client.clientId);
  const add = (f: FileResult): void => {
    result.files.push(f);
    opts.onResult?.(f);
  };
  for (const r of await recoverClient(ctx, client)) {
    add({ client: client.clientId, ...r, ...(r.outcome === 'SKIPPED' ? {} : await journalEntry(ctx, client, r.file, null)) });
  }
  const entries = await ctx.transport.list(client.clientId, 'in');
  const previous = opts.state?.previous;
  result.seen = entries.filter((e) => e.kind === undefined && isCandidateRequest(e.name) && !previous?.has(e.name)).length;
  opts.onSeen?.(result.seen);
  // Links, FIFOs, folders and names that are not UTF-8 are moved to error/ at once, unread.
  for (const entry of entries) {
    const why = hostileEntryReason(entry);
    if (why === undefined || opts.shouldStop?.()) continue;
    const watermark = await lastBatchId(ctx.db);
    const outcome = await quarantine(ctx, client, entry.name, why, entry.kind === undefined ? 'UNSAFE_NAME' : 'NOT_A_FILE');
    add({ client: client.clientId, file: entry.name, outcome, ...(outcome === 'SKIPPED' ? {} : await journalEntry(ctx, client, sanitizedName(entry.name), watermark)) });
  }
  // File ages compare the spool's mtimes with this host's clock (the spool's own time base).
  const ready = pickReady(entries, opts.state, (opts.nowMs ?? Date.now)(), opts.minAgeMs);
  for (const entry of ready) {
    if (opts.shouldStop?.()) break;
    opts.onFile?.(entry.name);
    try {
      const watermark = await lastBatchId(ctx.db);
      const started = performance.now();
      const outcome = await processSpoolFile(ctx, client, entry.name);
      const durationMs = performance.now() - started;
      const journal = outcome === 'SKIPPED' ? {} : await journalEntry(ctx, client, entry.name, watermark);
      add({ client: client.clientId, file: entry.name, outcome, ...(outcome === 'SKIPPED' ? {} : { durationMs }), ...journal });
    } finally {
      opts.onFile?.(null);
    }
  }
  result.inRetry = await countInRetry(ctx.db, client.clientId);
  return result;
}

/**
 * One poll of every client (run-once, demo). A client whose spool fails is reported in
 * `failures`; after a failure of the connection itself the remaining clients are reported
 * with the same error instead of each waiting out its own retries.
 */
export async function pollOnce(ctx: SpoolContext, clients: readonly Client[], opts: { minAgeMs: number; states?: Map<string, PickupState>; shouldStop?: () => boolean }): Promise<PollSummary> {
  const summary: PollSummary = { files: [], failures: [] };
  let broken: SpoolFailure | null = null;
  for (const client of clients) {
    if (broken) {
      summary.failures.push({ client: client.clientId, code: broken.code, error: `not polled: ${broken.error}` });
      continue;
    }
    try {
      const r = await pollClient(ctx, client, { minAgeMs: opts.minAgeMs, state: opts.states?.get(client.clientId), shouldStop: opts.shouldStop });
      summary.files.push(...r.files);
    } catch (err) {
      const failure = { client: client.clientId, code: errorCode(err), error: errorMessage(err) };
      ctx.log.error('poll.failed', failure);
      summary.failures.push(failure);
      if (TRANSPORT_WIDE.has(failure.code)) broken = failure;
    }
    if (opts.shouldStop?.()) break;
  }
  return summary;
}
