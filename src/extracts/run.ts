// Runs one scheduled extract (contract §6d): claim (client, year) once, write the signed
// EXTRACT-<client>-<YYYY>.xml from the read model of the store version fixed at the claim, audit
// its lines, publish it to the client's out/ through the spool transport, record it.
//
//   refuse?   the client, its authorization for the configured legal context (with Year in its
//             field profile), a year that has passed, and a finality basis — checked before the
//             claim, so a refused extract can run once the cause is fixed;
//   claim     batches row + extracts row in one transaction (unique client, year); reference
//             date, ProcessedAt, store version and the authorization are fixed here;
//   write     a local work file; the audit entries of its lines are stored (500 at a time,
//             (batch, seq) unique) before the file is signed;
//   publish   temporary name, then no-clobber link into out/ (the transport's publish: no link
//             followed, mode 0600) — an existing file of that name is never replaced;
//   complete  DONE, guarded by state and holder.
//
// A run that dies anywhere leaves the batch CLAIMED; once its lease expired, the next run (the
// daemon resumes them at every poll tick, `extract run` on demand) takes it over and writes the
// same bytes: everything it writes is a function of what the claim fixed. A crash between the
// publication and the record makes the next run find the file in out/ (or the client took it):
// it is not written again, only recorded.
//
// Attempts are capped as a request batch's are (pipeline/retryPolicy.ts, the config's `retry`):
// a transient fault (pipeline/faults.ts: spool I/O, disk full, database, network, SFTP down)
// leaves the claim with the fault recorded and its lease set to the end of the backoff, and the
// first resume after it takes it over (an attempt counted); a run found dead counts as an attempt
// too (CRASHED). After `retry.maxAttempts` attempts, `retry.maxSeconds` after the claim, or at
// once for a fault no retry will change, the extract is given up: its batch ends FAILED with the
// fault's code and nothing retries it until an operator re-opens it (journal.ts reopenExtract).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Db } from '../store/db.js';
import type { Client, ProfiledResponseLine, Signer } from '../interfaces.js';
import type { Logger } from '../log/logger.js';
import type { SpoolTransport } from '../spool/transport.js';
import type { ReadModels } from '../readmodel/registry.js';
import type { ExtractConfig } from '../config/config.js';
import { LdmError, errorMessage } from '../errors.js';
import { redact } from '../log/logger.js';
import { clockNow, type Clock } from '../pipeline/clock.js';
import { crashPoint } from '../pipeline/crashPoint.js';
import { workDirName } from '../pipeline/workDirs.js';
import { checkPeriod } from '../domain/period.js';
import { yearOf } from '../domain/ssin.js';
import { isValidDate } from '../domain/dates.js';
import { periodKindAllowed } from '../services/amounts/profile.js';
import { loadClients } from '../store/clients.js';
import { AuditSink } from '../audit/record.js';
import { writeResponse } from '../response/writer.js';
import { assertSignerCurrent } from '../response/sign.js';
import { takeOver } from '../journal/takeOver.js';
import { deferBatch } from '../journal/deferBatch.js';
import { dbInstant, dbNowMs } from '../journal/dbClock.js';
import { classifyFault, type Fault } from '../pipeline/faults.js';
import { DEFAULT_RETRY, mayRetry, retryDelaySeconds, type RetryPolicy } from '../pipeline/retryPolicy.js';
import { auditLeaseFence, heartbeat } from '../journal/heartbeat.js';
import { markBatch } from '../journal/markBatch.js';
import { completeBatch } from '../journal/completeBatch.js';
import { isLeaseLost } from '../journal/leaseLost.js';
import { DEFAULT_LEASE_SECONDS } from '../journal/record.js';
import { claimExtract, extractBacklog, extractFileName, extractId, findExtract, giveUpExtract, reopenExtract, type ExtractRecord } from './journal.js';
import { personsOf } from './source.js';
import { extractLine, hasFinalityBasis, type ExtractFacts } from './lines.js';

export const EXTRACT_SERVICE = 'LivingWagesWithAmount';
/** Audit entries of an extract are stored this many at a time (all of them before the file is signed). */
export const EXTRACT_AUDIT_ROWS_PER_FLUSH = 500;

export interface ExtractContext {
  db: Db;
  transport: SpoolTransport;
  signer: Signer;
  readModels: ReadModels;
  /** Local folder for files being written (the instance's data/work). */
  workDir: string;
  instanceId: string;
  timezone: string;
  log: Logger;
  clock?: Clock;
  leaseSeconds?: number;
  /** Attempts and backoff after a fault: the request batches' policy (the config's `retry`; default DEFAULT_RETRY). */
  retry?: RetryPolicy;
  /** Where the daemon counts what extracts do (daemon/metrics.ts); absent for the CLI. */
  metrics?: ExtractMetrics;
}

/** What the daemon's metrics learn from extracts (daemon/metrics.ts implements it). */
export interface ExtractMetrics {
  /** An extract this instance wrote and recorded (WRITTEN). */
  recordExtractWritten(client: string): void;
  /** An attempt that failed on our side, by fault code (CRASHED: a holder found dead at a take-over). */
  recordExtractAttemptFailed(client: string, code: string): void;
  /** An extract this instance gave up, by fault code. */
  recordExtractGivenUp(client: string, code: string): void;
  /** From the journal, per client: extracts waiting for a retry, and given up (waiting for an operator). */
  recordExtractBacklog(backlog: ReadonlyMap<string, { inRetry: number; givenUp: number }>): void;
}

/** EXTRACT_GIVEN_UP: the extract's attempts are used up (or its fault is one no retry changes); nothing is tried until an operator re-opens it. */
export class ExtractGivenUp extends LdmError {
  constructor(
    message: string,
    /** True for the run that gave it up (it logged extract.given_up); false for a later run that found it given up. */
    readonly now: boolean,
    cause?: unknown,
  ) {
    super('EXTRACT_GIVEN_UP', message, { exitCode: 1, cause });
  }
}

export type ExtractOutcome =
  /** Written and published now (or resumed after a crash and finished now). */
  | 'WRITTEN'
  /** Written before (this year's extract exists): nothing done. */
  | 'ALREADY_WRITTEN'
  /** Another run holds it (its lease is live): nothing done; that run finishes it. */
  | 'IN_PROGRESS';

export interface ExtractResult {
  client: string;
  year: number;
  extractId: string;
  /** `out/EXTRACT-<client>-<YYYY>.xml` in the client's spool. */
  file: string;
  outcome: ExtractOutcome;
  batchId?: number;
  referenceDate?: string;
  processedAt?: string;
  /** Persons in the extract (Response elements). */
  records?: number;
  /** hex SHA-256 of the file. */
  sha256?: string;
  /** Who holds it (IN_PROGRESS). */
  holder?: string | null;
  leaseUntil?: string | null;
  /** Set when this run took over a claim a dead or failed run left. */
  resumed?: boolean;
  /** The file was already in out/ (a run died after publishing it): it was recorded, not written again. */
  alreadyPublished?: boolean;
}

export interface ExtractRunOptions {
  /** The year to extract (default: per the config's period, the year before the reference date's). */
  year?: number;
  /** The reference date (default: today in the time zone). */
  asOf?: string;
  /** An operator's retry: an extract given up (EXTRACT_GIVEN_UP) is re-opened and run again, with the same bytes. */
  reopen?: boolean;
}

const refused = (code: string, message: string, exitCode = 1): LdmError => new LdmError(code, message, { exitCode });

/** Runs the extract of one configured client now. Throws LdmError for a refusal (nothing is claimed then). */
export async function runExtract(ctx: ExtractContext, spec: ExtractConfig, opts: ExtractRunOptions = {}): Promise<ExtractResult> {
  const now = (ctx.clock ?? clockNow)(ctx.timezone);
  const referenceDate = opts.asOf ?? now.date;
  if (!isValidDate(referenceDate)) throw refused('USAGE', `the reference date must be a date YYYY-MM-DD, got "${referenceDate}"`, 2);
  const year = opts.year ?? yearOf(referenceDate) - 1; // period "previous-year"
  const existing = await findExtract(ctx.db, spec.clientId, year);
  if (existing) return resume(ctx, existing, opts.reopen === true);

  const client = (await loadClients(ctx.db)).find((c) => c.clientId === spec.clientId);
  if (client === undefined) {
    throw refused('EXTRACT_UNKNOWN_CLIENT', `extract of ${spec.clientId}: no client "${spec.clientId}" in the store (import clients, or declare it in the config)`, 2);
  }
  const authorization = client.authorizations.find((a) => a.service === EXTRACT_SERVICE && a.legalContext === spec.legalContext);
  if (authorization === undefined) {
    throw refused(
      'EXTRACT_NOT_AUTHORIZED',
      `extract of ${spec.clientId} for ${year} refused: the client holds no ${EXTRACT_SERVICE} authorization for the legal context "${spec.legalContext}" (as a request would be refused with MSG00013); import it (clients.csv) or fix extracts[].legalContext`,
    );
  }
  if (!periodKindAllowed('year', authorization.fields)) {
    throw refused('EXTRACT_NOT_AUTHORIZED', `extract of ${spec.clientId} for ${year} refused: the field profile of its ${EXTRACT_SERVICE} authorization (${spec.legalContext}) does not include Year`);
  }
  const period = checkPeriod({ kind: 'year', year }, EXTRACT_SERVICE, referenceDate);
  if (!period.ok) {
    throw refused('EXTRACT_YEAR_OPEN', `extract of ${spec.clientId} for ${year} refused: with reference date ${referenceDate} that year cannot be answered (${period.reason}); an extract covers a year that has ended`, 2);
  }
  // Nothing is claimed with a certificate that would not be valid at the claim's ProcessedAt.
  assertSignerCurrent(ctx.signer, new Date(now.instant));

  const lease = await ctx.readModels.acquire(ctx.db, null);
  try {
    const facts: ExtractFacts = { year, referenceDate, holder: { cbeNumber: client.cbeNumber, sector: client.sector }, authorization };
    if (!hasFinalityBasis(personsOf(lease.model, facts.holder), facts)) {
      throw refused(
        'EXTRACT_NO_FINALITY',
        `extract of ${spec.clientId} for ${year} refused: no finality basis — the repertory holds no integration for this client in ${year} ` +
          `(sector ${client.sector} at sector level or CBE ${client.cbeNumber}, quality code ${authorization.qualityCodes.join('/') || '(none allowed)'}, overlapping the year)`,
      );
    }
    const claimed = await claimExtract(ctx.db, {
      clientId: client.clientId,
      year,
      cbeNumber: client.cbeNumber,
      sector: client.sector,
      authorization,
      referenceDate,
      processedAt: now.instant,
      storeVersion: lease.model.storeVersion,
      instanceId: ctx.instanceId,
      leaseSeconds: leaseOf(ctx),
    });
    if (claimed === undefined) {
      // Another run claimed it first (another instance on the same schedule).
      const other = await findExtract(ctx.db, spec.clientId, year);
      if (other === undefined) throw new Error(`extract ${extractId(spec.clientId, year)} was claimed by another run but is not in the journal`);
      return report(other, other.batch.state === 'DONE' ? 'ALREADY_WRITTEN' : 'IN_PROGRESS');
    }
    ctx.log.info('extract.claimed', { client: client.clientId, year, batch: claimed.batch.id, referenceDate, processedAt: now.instant, storeVersion: lease.model.storeVersion });
    crashPoint('extract-claimed');
    return await write(ctx, claimed, client, false);
  } finally {
    lease.release();
  }
}

/**
 * An extract claimed before: done, given up, held by a live run, or left by a dead or failed one
 * (taken over and finished, unless its attempts are used up: then it is given up instead).
 */
async function resume(ctx: ExtractContext, found: ExtractRecord, reopen = false): Promise<ExtractResult> {
  let e = found;
  if (e.batch.state === 'DONE') return report(e, 'ALREADY_WRITTEN');
  if (e.batch.state === 'FAILED' && e.batch.claimName !== null) {
    if (!reopen) throw givenUpAlready(e);
    if (await reopenExtract(ctx.db, e.batch.id)) {
      ctx.log.warn('extract.reopened', { client: e.clientId, year: e.year, batch: e.batch.id, lastFault: e.batch.errorCode ?? undefined, note: 'given up before; re-opened by an operator, run again with the same reference date and ProcessedAt' });
    }
    e = (await findExtract(ctx.db, e.clientId, e.year)) ?? e;
    if (e.batch.state === 'DONE') return report(e, 'ALREADY_WRITTEN');
  }
  if (e.batch.state !== 'CLAIMED') {
    throw new LdmError('EXTRACT_JOURNAL', `extract ${e.extractId}: its batch ${e.batch.id} is ${e.batch.state}, which an extract never is; see "ldm-batch batches show ${e.batch.id}"`);
  }
  const mine = await takeOver(ctx.db, e.batch.id, ctx.instanceId, leaseOf(ctx));
  if (mine === undefined) return report(e, 'IN_PROGRESS');
  // Its last attempt recorded a fault (counted by the instance that met it), or its holder died
  // (counted here; a re-opened extract has had no attempt yet).
  const retry = e.batch.errorCode !== null;
  if (!retry && e.batch.attempts > 0) ctx.metrics?.recordExtractAttemptFailed(e.clientId, 'CRASHED');
  const policy = policyOf(ctx);
  ctx.log.warn(retry ? 'extract.retry' : 'extract.takeover', { client: e.clientId, year: e.year, batch: e.batch.id, previousHolder: e.batch.instanceId ?? undefined, attempt: mine.attempts, maxAttempts: policy.maxAttempts, lastFault: e.batch.errorCode ?? undefined });
  const taken: ExtractRecord = { ...e, batch: mine };
  const ageSeconds = ((await dbNowMs(ctx.db)) - Date.parse(mine.createdAt)) / 1000;
  if (!mayRetry(policy, mine.attempts - 1, ageSeconds)) {
    // The runs so far (attempts - 1) used up the limit: the last one crashed, or faulted transiently.
    const fault: Fault = retry ? { code: e.batch.errorCode ?? 'EXTRACT_FAILED', transient: 'spool-io' } : { code: 'CRASHED' };
    const why = retry ? `its last attempt failed: ${e.batch.error ?? e.batch.errorCode}` : 'every attempt so far ended with its process dying (crash, kill or stall past the lease)';
    const log = ctx.log.child({ client: e.clientId, year: e.year, batch: mine.id });
    throw markLogged(await giveUp(ctx, taken, fault, why, mine.attempts - 1, ageSeconds, log));
  }
  const client: Client = { clientId: e.clientId, cbeNumber: e.cbeNumber, sector: e.sector, name: e.clientId, authorizations: [e.authorization] };
  return write(ctx, taken, client, true);
}

/** What an operator does about a given-up extract (in its error, its log line and the refusal of later runs). */
function operatorNext(e: ExtractRecord): string {
  return (
    `nothing retries it until an operator acts: find the cause (the fault above; "ldm-batch batches show ${e.batch.id}", the extract.failed log lines), fix it, ` +
    `then re-open the extract (README "Scheduled extracts", given up): it is then written with the same reference date and ProcessedAt`
  );
}

function givenUpAlready(e: ExtractRecord): ExtractGivenUp {
  const last = e.batch.errorCode === null ? '' : ` (last fault ${e.batch.errorCode})`;
  return new ExtractGivenUp(redact(`extract ${e.extractId} was given up after ${e.batch.attempts} attempt(s)${last}; ${operatorNext(e)}`), false);
}

/**
 * Ends a held extract FAILED: the fault's code, what happened and the attempts run go to the
 * journal, the log says what an operator does. Returns the error the run ends with.
 */
async function giveUp(ctx: ExtractContext, e: ExtractRecord, fault: Fault, why: string, attempts: number, ageSeconds: number, log: Logger, cause?: unknown): Promise<Error> {
  const policy = policyOf(ctx);
  const reason = !fault.transient
    ? 'a fault no retry will change'
    : attempts >= policy.maxAttempts
      ? `transient fault, all ${policy.maxAttempts} attempts used`
      : `transient fault, still failing ${Math.floor(ageSeconds)} s after the claim (retry.maxSeconds ${policy.maxSeconds})`;
  const published = e.batch.deliveredAt !== null ? `; out/${extractFileName(e.clientId, e.year)} was published by an attempt before it could be recorded` : '; no file was published';
  const message = redact(`extract ${e.extractId} given up after ${attempts} attempt(s) (${reason}) [${fault.code}]: ${why}${published}; ${operatorNext(e)}`);
  try {
    await giveUpExtract(ctx.db, e.batch.id, ctx.instanceId, { clientId: e.clientId, errorCode: fault.code, error: message, attempts });
  } catch (err) {
    if (isLeaseLost(err)) {
      log.warn('extract.lease_lost', { error: errorMessage(err), note: 'taken over by another instance before it could be given up' });
      return err instanceof Error ? err : new Error(errorMessage(err));
    }
    throw err;
  }
  ctx.metrics?.recordExtractGivenUp(e.clientId, fault.code);
  log.error('extract.given_up', { code: fault.code, kind: fault.transient, attempts, maxAttempts: policy.maxAttempts, error: why, next: operatorNext(e) });
  return new ExtractGivenUp(message, true, cause);
}

/**
 * A failed attempt (not a lost lease): a transient fault with attempts left stays claimed until
 * the end of its backoff (its lease is set there); anything else is given up. Returns the error
 * the run ends with. A journal that cannot be written leaves the claim to expire: taken over then.
 */
async function failedAttempt(ctx: ExtractContext, e: ExtractRecord, err: unknown, log: Logger): Promise<unknown> {
  const batch = e.batch;
  const fault = classifyFault(err);
  const policy = policyOf(ctx);
  ctx.metrics?.recordExtractAttemptFailed(e.clientId, fault.code);
  try {
    const ageSeconds = ((await dbNowMs(ctx.db)) - Date.parse(batch.createdAt)) / 1000;
    if (fault.transient && mayRetry(policy, batch.attempts, ageSeconds)) {
      const delay = retryDelaySeconds(policy, batch.attempts);
      await deferBatch(ctx.db, batch.id, ctx.instanceId, { code: fault.code, error: errorMessage(err), retryInSeconds: delay });
      log.error('extract.failed', {
        code: fault.code,
        kind: fault.transient,
        error: errorMessage(err),
        attempt: batch.attempts,
        maxAttempts: policy.maxAttempts,
        retryInSeconds: delay,
        next: 'the extract stays claimed; the first poll tick after the wait (any instance, or "ldm-batch extract run") finishes it with the same bytes',
      });
      return err;
    }
    return await giveUp(ctx, e, fault, errorMessage(err), batch.attempts, ageSeconds, log, err);
  } catch (journalErr) {
    if (isLeaseLost(journalErr)) {
      log.warn('extract.lease_lost', { error: errorMessage(err), note: 'taken over by another instance before the fault could be recorded' });
      return err;
    }
    log.error('extract.unrecorded', { code: fault.code, error: errorMessage(err), journalError: errorMessage(journalErr), next: 'taken over when its lease expires (an attempt counted)' });
    return err;
  }
}

function report(e: ExtractRecord, outcome: ExtractOutcome): ExtractResult {
  return {
    client: e.clientId,
    year: e.year,
    extractId: e.extractId,
    file: `out/${extractFileName(e.clientId, e.year)}`,
    outcome,
    batchId: e.batch.id,
    referenceDate: e.batch.referenceDate,
    processedAt: e.batch.processedAt,
    ...(outcome === 'ALREADY_WRITTEN' ? { records: e.batch.recordCount ?? 0, sha256: e.batch.responseSha256 ?? undefined } : {}),
    ...(outcome === 'IN_PROGRESS' ? { holder: e.batch.instanceId, leaseUntil: e.batch.leaseUntil } : {}),
  };
}

const leaseOf = (ctx: ExtractContext): number => ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
const policyOf = (ctx: ExtractContext): RetryPolicy => ctx.retry ?? DEFAULT_RETRY;

/** Writes, publishes and records a held extract; everything written comes from what the claim fixed. */
async function write(ctx: ExtractContext, e: ExtractRecord, client: Client, resumed: boolean): Promise<ExtractResult> {
  const batch = e.batch;
  const log = ctx.log.child({ client: e.clientId, year: e.year, batch: batch.id });
  const lease = leaseOf(ctx);
  const beat = setInterval(() => {
    heartbeat(ctx.db, batch.id, ctx.instanceId, lease).catch((err: unknown) => log.warn('extract.heartbeat_failed', { error: errorMessage(err) }));
  }, Math.max(100, (lease * 1000) / 3));
  beat.unref();
  const work = join(ctx.workDir, workDirName(`b${batch.id}`));
  const fileName = extractFileName(e.clientId, e.year);
  // The store version fixed at the claim (contract §5): the same data on a re-run.
  const model = await ctx.readModels.acquire(ctx.db, batch.storeVersion);
  try {
    if (model.substitutedFor !== undefined) log.warn('extract.store_version_gone', { wanted: model.substitutedFor, reading: model.model.storeVersion, note: 'the file may differ from what the dead run would have written; none was published yet unless out/ holds it' });
    await mkdir(work, { recursive: true });
    const local = join(work, fileName);
    const facts: ExtractFacts = { year: e.year, referenceDate: batch.referenceDate, holder: { cbeNumber: e.cbeNumber, sector: e.sector }, authorization: e.authorization };
    const audit = new AuditSink(
      ctx.db,
      { batchId: batch.id, clientId: client.clientId, service: EXTRACT_SERVICE, legalContext: e.authorization.legalContext, deliberation: e.authorization.deliberation, consultedAt: batch.processedAt },
      // A run that lost its lease (frozen past it) writes no entry over the new holder's.
      { rowsPerFlush: EXTRACT_AUDIT_ROWS_PER_FLUSH, fence: auditLeaseFence(batch.id, ctx.instanceId, lease) },
    );
    const m = model.model;
    async function* lines(): AsyncGenerator<ProfiledResponseLine> {
      let seq = 0;
      let scanned = 0;
      let flushes = 0;
      try {
        for (const view of personsOf(m, facts.holder)) {
          if (++scanned % 4096 === 0) await yieldToLoop(); // heartbeats and signals get their turn on a long scan
          const found = extractLine(view, facts);
          if (found === undefined) continue;
          seq++;
          const due = audit.add(seq, view.person.ssin, found.qualityCode, 'MSG00000');
          if (due) {
            await due;
            // From the second chunk on, the first one is stored (the sink writes one chunk at a time).
            if (++flushes >= 2) crashPoint('extract-audited');
          }
          yield { seq, ...found.line };
        }
        // Every entry is stored before the writer gets past the last line, so before it signs.
        await audit.close();
      } finally {
        await audit.settle();
      }
    }
    const written = await writeResponse(
      createWriteStream(local, { flags: 'w' }),
      { extractId: e.extractId, service: EXTRACT_SERVICE, referenceDate: batch.referenceDate, processedAt: batch.processedAt },
      lines(),
      ctx.signer,
    );
    crashPoint('extract-written');
    await ctx.transport.ensureFolders(client.clientId);
    const published = await ctx.transport.publish(local, client.clientId, 'out', fileName);
    crashPoint('extract-published');
    if (published === 'exists') await checkSame(ctx, client.clientId, fileName, written.fileSha256, work, log);
    await markBatch(ctx.db, batch.id, ctx.instanceId, { deliveredAt: true });
    await completeBatch(ctx.db, batch.id, ctx.instanceId, {
      state: 'DONE',
      clientId: client.clientId,
      fileId: null,
      service: EXTRACT_SERVICE,
      recordCount: written.recordCount,
      statusCounts: written.statusCounts,
      responseSha256: written.fileSha256,
      archiveName: null,
      responseCopy: null,
    });
    ctx.metrics?.recordExtractWritten(e.clientId);
    log.info('extract.written', { file: `out/${fileName}`, records: written.recordCount, outcome: published, resumed, referenceDate: batch.referenceDate, processedAt: batch.processedAt });
    return {
      ...report(e, 'WRITTEN'),
      records: written.recordCount,
      sha256: written.fileSha256,
      ...(resumed ? { resumed: true } : {}),
      ...(published === 'exists' ? { alreadyPublished: true } : {}),
    };
  } catch (err) {
    // A fault on our side (disk, database, SFTP, a bug): retried after the backoff, or given up.
    if (isLeaseLost(err)) throw err;
    throw markLogged(await failedAttempt(ctx, e, err, log));
  } finally {
    clearInterval(beat);
    model.release();
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A file of that name in out/ can only be this extract's earlier publication; say so if its bytes differ (e.g. a new signing key). */
async function checkSame(ctx: ExtractContext, clientId: string, fileName: string, sha256: string, work: string, log: Logger): Promise<void> {
  try {
    const path = await ctx.transport.fetch(clientId, 'out', fileName, work);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== sha256) log.warn('extract.published_differs', { file: `out/${fileName}`, note: 'the file in out/ was kept; it is not replaced' });
  } catch (err) {
    log.debug('extract.check_skipped', { file: `out/${fileName}`, error: errorMessage(err) }); // taken away by the client meanwhile
  }
}

/**
 * Resumes every claimed extract whose run died or whose retry is due (lease expired): the daemon
 * calls it at every poll tick. Given-up (FAILED) extracts are not looked at. One extract's failure
 * does not keep the others waiting: its error is returned beside the results (already logged by
 * the run). Then the metrics get the journal's backlog.
 */
export async function resumeExtracts(ctx: ExtractContext): Promise<{ results: ExtractResult[]; failures: { client: string; year: number; error: unknown }[] }> {
  const rows: { client_id: string; year: number | string }[] = await ctx.db('extracts as e')
    .join('batches as b', 'b.id', 'e.batch_id')
    .where('b.state', 'CLAIMED')
    .andWhere((q) => q.whereNull('b.lease_until').orWhere('b.lease_until', '<', dbInstant(ctx.db)))
    .select('e.client_id', 'e.year')
    .orderBy('e.id');
  const out: ExtractResult[] = [];
  const failures: { client: string; year: number; error: unknown }[] = [];
  for (const r of rows) {
    const e = await findExtract(ctx.db, r.client_id, Number(r.year));
    if (e === undefined || e.batch.state !== 'CLAIMED') continue;
    try {
      const result = await resume(ctx, e);
      if (result.outcome !== 'IN_PROGRESS') out.push(result);
    } catch (err) {
      failures.push({ client: e.clientId, year: e.year, error: err });
    }
  }
  if (ctx.metrics) ctx.metrics.recordExtractBacklog(await extractBacklog(ctx.db));
  return { results: out, failures };
}

/** Errors whose run logged them already (extract.failed, extract.given_up…): the scheduler does not log them again. */
const logged = new WeakSet<object>();
const markLogged = <T>(err: T): T => {
  if (typeof err === 'object' && err !== null) logged.add(err);
  return err;
};
export function loggedByRun(err: unknown): boolean {
  return typeof err === 'object' && err !== null && logged.has(err);
}
