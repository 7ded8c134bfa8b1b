// The disposition of one spool file, shaped as Apache Camel's file consumer: `begin` claims it,
// the run answers it, then `commit` or `rollback`. Every step is small, idempotent and recorded,
// so a batch whose process died is finished by whoever takes it over, with the same reference
// date and ProcessedAt, hence a byte-identical response:
//
//   begin     in/R.xml → in/R.xml.ldm-processing.<instance>.<ms>.<rnd> (no-clobber rename), then
//             the journal row CLAIMED, lease, reference date and ProcessedAt fixed
//   run       request fetched and hashed (recorded), signed response into a local work file
//   commit    deliver  out/R.response.xml (temp name + no-clobber rename), then delivered_at
//             keep     archive/R.<batchId>.response.xml (for re-delivery)
//             dispose  request → archive/ (answered) or error/ (rejected), name recorded first
//             complete journal DONE/REJECTED (guarded by state and holder)
//   rollback  lease lost → nothing (the batch is another instance's now);
//             transient fault with attempts left → the batch stays CLAIMED, retried later (backoff);
//             otherwise → give up: INTERNAL_ERROR to the client, request → error/, journal FAILED
//
// Times that decide who holds a batch come from the database's clock (journal/dbClock.ts); the
// claim's ProcessedAt and reference date from the injected clock.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, Environment, Signer } from '../interfaces.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../log/logger.js';
import { WITHOUT_STREAM_VALIDATOR } from '../batch/streamValidate.js';
import type { ReadModels } from '../readmodel/registry.js';
import type { SpoolFolder, SpoolTransport } from '../spool/transport.js';
import { claimFileName, parseClaimName, sanitizedName, unprocessableReason } from '../spool/transport.js';
import { randomBytes } from 'node:crypto';
import { responseFileName } from '../response/writer.js';
import {
  DEFAULT_LEASE_SECONDS,
  auditLeaseFence,
  claimBatch,
  claimedBatches,
  completeBatch,
  dbNowMs,
  deferBatch,
  expiredBatches,
  failBatch,
  findAnsweredByFileId,
  findByClaimName,
  getBatch,
  heartbeat,
  isLeaseLost,
  markBatch,
  renewOrLost,
  takeOver,
  withdrawClaim,
  type BatchRecord,
} from '../journal/batches.js';
import { answerRequest, completionOf, writeInternalError, type AnswerResult } from './answerRequest.js';
import { sha256File } from './sha256File.js';
import { LdmError, errorMessage } from '../errors.js';
import { clockNow, type Clock } from './clock.js';
import { crashPoint } from './crashPoint.js';
import { classifyFault, type Fault } from './faults.js';
import { DEFAULT_RETRY, mayRetry, retryDelaySeconds, type RetryPolicy } from './retryPolicy.js';
import { workDirName } from './workDirs.js';

/** Transport errors that say nothing about the file: every other file of the spool would fail the same way. */
const TRANSPORT_DOWN = new Set(['SFTP_UNREACHABLE', 'HOST_KEY_MISMATCH', 'SFTP_AUTH', 'SFTP_KEY']);

export interface SpoolContext {
  db: Db;
  transport: SpoolTransport;
  environment: Environment;
  clients: readonly Client[];
  signer: Signer;
  instanceId: string;
  workDir: string;
  /** The instance's read models (LivingWagesWithAmount batches read the version recorded at claim). */
  readModels?: ReadModels;
  timezone: string;
  log: Logger;
  clock?: Clock;
  asOf?: string;
  leaseSeconds?: number;
  retry?: RetryPolicy;
}

/** RETRYING: a transient fault; the batch stays CLAIMED and a later poll tries again. */
export type FileOutcome = 'ANSWERED' | 'REJECTED' | 'REDELIVERED' | 'FAILED' | 'SKIPPED' | 'RETRYING';

const leaseOf = (ctx: SpoolContext): number => ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
const policyOf = (ctx: SpoolContext): RetryPolicy => ctx.retry ?? DEFAULT_RETRY;

/** Claims a fresh request file of a client's in/ folder and processes it; never throws for a bad file. */
export async function processSpoolFile(ctx: SpoolContext, client: Client, name: string): Promise<FileOutcome> {
  const unfit = unprocessableReason(name);
  if (unfit !== undefined) return quarantine(ctx, client, name, unfit, 'UNSAFE_NAME');
  const batch = await begin(ctx, client, name, { folder: 'in', name });
  return batch ? runBatch(ctx, client, batch) : 'SKIPPED';
}

/**
 * begin: renames `from` to a claim name of this instance, then records the claim. The claim
 * name carries the database's time, so the age of a claim nobody recorded is judged on the
 * same clock by every instance. Undefined when another instance was first.
 */
async function begin(ctx: SpoolContext, client: Client, fileName: string, from: { folder: SpoolFolder; name: string }): Promise<BatchRecord | undefined> {
  const claimedAt = await dbNowMs(ctx.db);
  const claimName = claimFileName(fileName, ctx.instanceId, claimedAt);
  if (!(await ctx.transport.renameNoClobber(client.clientId, from, { folder: 'in', name: claimName }))) return undefined; // another poller took it first
  crashPoint('claimed');
  const { date, instant } = (ctx.clock ?? clockNow)(ctx.timezone);
  const batch = await claimBatch(ctx.db, {
    clientId: client.clientId,
    fileName,
    size: 0,
    sha256: '',
    referenceDate: ctx.asOf ?? date,
    processedAt: instant,
    responseName: responseFileName(fileName),
    instanceId: ctx.instanceId,
    claimName,
    leaseSeconds: leaseOf(ctx),
  });
  crashPoint('recorded');
  return confirmClaim(ctx, client, batch, claimedAt);
}

/**
 * A claim recorded more than a lease after its rename (this process stalled in between) may have
 * been taken for an orphan by another instance's recovery, which renames the claim file. Renaming
 * it once more, under a fresh name, settles it: exactly one of the two renames succeeds. The
 * loser withdraws its record, so a request never gets a second batch.
 */
async function confirmClaim(ctx: SpoolContext, client: Client, batch: BatchRecord, claimedAt: number): Promise<BatchRecord | undefined> {
  const lease = leaseOf(ctx);
  if (batch.claimName === null) return batch;
  const now = await dbNowMs(ctx.db);
  if (now - claimedAt < lease * 1000) return batch;
  // The record's own lease may have run out as well and the batch been taken over: then it is
  // the new holder's, file included. Otherwise this renews it, so nobody takes it over meanwhile.
  if (!(await heartbeat(ctx.db, batch.id, ctx.instanceId, lease))) {
    ctx.log.warn('batch.lease_lost', { batch: batch.id, client: client.clientId, file: batch.fileName, error: 'taken over before this instance confirmed its claim' });
    return undefined;
  }
  const fresh = claimFileName(batch.fileName, ctx.instanceId, now);
  if (await ctx.transport.renameNoClobber(client.clientId, { folder: 'in', name: batch.claimName }, { folder: 'in', name: fresh })) {
    await markBatch(ctx.db, batch.id, ctx.instanceId, { claimName: fresh });
    return { ...batch, claimName: fresh };
  }
  await withdrawClaim(ctx.db, batch.id, ctx.instanceId);
  ctx.log.warn('batch.claim_taken', { batch: batch.id, client: client.clientId, file: batch.fileName, note: 'this instance stalled past the lease before recording its claim; another instance recovered the file' });
  return undefined;
}

/**
 * A name we will not answer under (control characters, too long to claim, not UTF-8…) or an
 * entry that is not a regular file (a link, a FIFO, a folder): the sender cannot be told through
 * a response, so it goes to error/ under a generated printable name (with a random part, so no
 * client can plant something there first), never read, with a journal entry that keeps the
 * original name and the reason.
 */
export async function quarantine(ctx: SpoolContext, client: Client, name: string, why: string, code: 'UNSAFE_NAME' | 'NOT_A_FILE'): Promise<FileOutcome> {
  const { date, instant } = (ctx.clock ?? clockNow)(ctx.timezone);
  const batch = await claimBatch(ctx.db, {
    clientId: client.clientId,
    fileName: sanitizedName(name),
    size: 0,
    sha256: '',
    referenceDate: ctx.asOf ?? date,
    processedAt: instant,
    responseName: '',
    instanceId: ctx.instanceId,
  });
  const target = `${sanitizedName(name).replace(/\.xml$/, '')}.${batch.id}.${randomBytes(4).toString('hex')}.xml`;
  const moved = await ctx.transport.renameNoClobber(client.clientId, { folder: 'in', name }, { folder: 'error', name: target });
  if (!moved) {
    // Another instance quarantined it first: its entry is the file's one.
    await withdrawClaim(ctx.db, batch.id, ctx.instanceId);
    return 'SKIPPED';
  }
  const reason = `${JSON.stringify(name)}: ${why}; not processed`;
  await failBatch(ctx.db, batch.id, ctx.instanceId, { errorCode: code, error: reason, archiveName: `error/${target}` });
  ctx.log.warn(code === 'UNSAFE_NAME' ? 'batch.unsafe_name' : 'batch.not_a_file', { client: client.clientId, batch: batch.id, movedTo: `error/${target}`, reason: why });
  return 'FAILED';
}

/**
 * Finishes what dead holders left and retries what is due: CLAIMED batches whose lease expired
 * (by the database's clock), and claim files in in/ whose claimer died before recording them.
 * A batch past its attempt limit is given up instead of run again: a request that crashes the
 * process every time ends FAILED with INTERNAL_ERROR to the client.
 */
export async function recoverClient(ctx: SpoolContext, client: Client): Promise<{ file: string; outcome: FileOutcome }[]> {
  const done: { file: string; outcome: FileOutcome }[] = [];
  const lease = leaseOf(ctx);
  const claims = (await ctx.transport.list(client.clientId, 'in')).filter((e) => e.kind === undefined && parseClaimName(e.name));
  for (const b of await expiredBatches(ctx.db, client.clientId)) {
    const mine = await takeOver(ctx.db, b.id, ctx.instanceId, lease);
    if (!mine) continue;
    const retry = b.errorCode !== null;
    ctx.log.warn(retry ? 'batch.retry' : 'batch.takeover', { batch: b.id, client: client.clientId, file: b.fileName, previousHolder: b.instanceId, attempt: mine.attempts, lastFault: b.errorCode ?? undefined });
    const ageSeconds = ((await dbNowMs(ctx.db)) - Date.parse(mine.createdAt)) / 1000;
    if (!mayRetry(policyOf(ctx), mine.attempts - 1, ageSeconds)) {
      // The runs so far (attempts - 1) used up the limit: the last one crashed, or faulted transiently.
      const fault: Fault = retry ? { code: b.errorCode as string, transient: 'spool-io' } : { code: 'CRASHED' };
      const why = retry ? `its last attempt failed: ${b.error ?? b.errorCode}` : 'every attempt so far ended with its process dying (crash, kill or stall past the lease)';
      done.push({ file: b.fileName, outcome: await giveUp(ctx, client, { ...mine, attempts: mine.attempts - 1 }, fault, why) });
      continue;
    }
    done.push({ file: b.fileName, outcome: await runBatch(ctx, client, mine) });
  }
  // Claim files nobody recorded: the claimer died between its rename and its journal insert.
  const recorded = new Set((await claimedBatches(ctx.db, client.clientId)).map((b) => b.claimName));
  const now = await dbNowMs(ctx.db);
  for (const c of claims) {
    const parsed = parseClaimName(c.name);
    if (!parsed || recorded.has(c.name)) continue;
    if (now - parsed.epochMs < lease * 1000) continue; // its claimer may still be about to record it
    if (await findByClaimName(ctx.db, client.clientId, c.name)) continue; // finished meanwhile, or taken over above
    const batch = await begin(ctx, client, parsed.name, { folder: 'in', name: c.name });
    if (!batch) continue;
    ctx.log.warn('batch.orphan_claim', { batch: batch.id, client: client.clientId, file: parsed.name, previousClaim: c.name });
    done.push({ file: parsed.name, outcome: await runBatch(ctx, client, batch) });
  }
  return done;
}

/** Where the request of a held batch is now: still claimed in in/, or already disposed of. */
async function locateRequest(ctx: SpoolContext, client: Client, b: BatchRecord): Promise<{ folder: SpoolFolder; name: string } | undefined> {
  if (b.claimName && (await ctx.transport.exists(client.clientId, 'in', b.claimName))) return { folder: 'in', name: b.claimName };
  if (b.archiveName) {
    const [folder, name] = b.archiveName.split('/') as [SpoolFolder, string];
    if (await ctx.transport.exists(client.clientId, folder, name)) return { folder, name };
  }
  return undefined;
}

/** Runs a held batch from the step it reached; once more when a stale holder moved its request meanwhile. */
async function runBatch(ctx: SpoolContext, client: Client, batch: BatchRecord): Promise<FileOutcome> {
  const first = await runAttempt(ctx, client, batch, true);
  if (typeof first === 'string') return first;
  return (await runAttempt(ctx, client, first.rerun, false)) as FileOutcome;
}

/** What an attempt learnt before it failed, for its rollback. */
interface Progress {
  where?: { folder: SpoolFolder; name: string };
  request: RequestBytes;
}

interface Answered {
  where: { folder: SpoolFolder; name: string };
  result: AnswerResult;
  responseName: string;
  /** The file to deliver: the fresh response, or the earlier one of a re-delivery. */
  deliverable: string;
  /** For a re-delivery: the earlier batch's archived copy, and what the journal should say of it. */
  redelivery?: { copy: string; note?: string };
  /** Said in the journal beside the result. */
  note?: string;
}

async function runAttempt(ctx: SpoolContext, client: Client, batch: BatchRecord, mayRerun: boolean): Promise<FileOutcome | { rerun: BatchRecord }> {
  const log = ctx.log.child({ client: client.clientId, file: batch.fileName, batch: batch.id });
  const work = join(ctx.workDir, workDirName(`b${batch.id}`));
  const lease = leaseOf(ctx);
  const beat = setInterval(() => {
    heartbeat(ctx.db, batch.id, ctx.instanceId, lease).catch((err: unknown) => log.warn('batch.heartbeat_failed', { error: errorMessage(err) }));
  }, Math.max(100, (lease * 1000) / 3));
  beat.unref();
  /** The request's bytes, to recognise it if it has to be found after someone else moved it. */
  const progress: Progress = { request: { sha256: batch.sha256, work } };
  try {
    await mkdir(work, { recursive: true });
    const answered = await answer(ctx, client, batch, progress, log);
    return await commit(ctx, client, batch, answered, progress.request, log);
  } catch (err) {
    return await rollback(ctx, client, batch, err, progress, mayRerun, log);
  } finally {
    clearInterval(beat);
    await rm(work, { recursive: true, force: true }).catch((err: unknown) => log.warn('work.cleanup_failed', { error: errorMessage(err), note: 'removed at a later poll' }));
  }
}

/** The run: finds and reads the request (its digest recorded), and answers it into the work folder. */
async function answer(ctx: SpoolContext, client: Client, batch: BatchRecord, progress: Progress, log: Logger): Promise<Answered> {
  const work = progress.request.work;
  const where = await locateRequest(ctx, client, batch);
  progress.where = where;
  crashPoint('located');
  if (!where) throw new Error(`the request file of batch ${batch.id} is neither claimed in in/ nor at ${batch.archiveName ?? 'its archive name'}`);
  const local = await ctx.transport.fetch(client.clientId, where.folder, where.name, work);
  // The request's digest comes from the single pass of answerRequest over its bytes (the same
  // bytes it then validates and answers), recorded before anything is answered.
  const onRead = async ({ sha256, size }: { sha256: string; size: number }): Promise<void> => {
    if (batch.sha256 && batch.sha256 !== sha256) throw new Error(`the request file of batch ${batch.id} changed after it was claimed`);
    if (!batch.sha256) await markBatch(ctx.db, batch.id, ctx.instanceId, { sha256, size });
    progress.request.sha256 = sha256;
    log.info('batch.claimed', { size, referenceDate: batch.referenceDate, attempt: batch.attempts });
  };

  // Each audit write first renews the lease in its own transaction: one that lost the batch
  // writes nothing (LEASE_LOST), and a take-over waits for a write in progress to end.
  const auditFence = auditLeaseFence(batch.id, ctx.instanceId, leaseOf(ctx));
  const responseName = batch.responseName ?? responseFileName(batch.fileName);
  const responsePath = join(work, responseName);
  let earlier: BatchRecord | undefined;
  const base = {
    db: ctx.db,
    environment: ctx.environment,
    clients: ctx.clients,
    owner: client,
    requestPath: local,
    signer: ctx.signer,
    readModels: ctx.readModels,
  };
  const result = await answerRequest({
    ...base,
    referenceDate: batch.referenceDate,
    processedAt: batch.processedAt,
    outPath: responsePath,
    batchId: batch.id,
    auditFence,
    storeVersion: batch.storeVersion,
    onRead,
    checkFileId: async (sender, fileId, sha) => {
      // Known from here on, so an INTERNAL_ERROR given up later can name it.
      if (batch.fileId !== fileId) await markBatch(ctx.db, batch.id, ctx.instanceId, { fileId });
      const answered = (await findAnsweredByFileId(ctx.db, sender.clientId, fileId)).filter((b) => b.id !== batch.id);
      if (answered.length === 0) return 'new';
      earlier = answered.find((b) => b.sha256 === sha && b.responseCopy);
      return earlier ? { redeliver: earlier.responseCopy as string } : 'reused';
    },
  });
  crashPoint('answered');
  if (result.outcome !== 'REDELIVERED' || !earlier) return { where, result, responseName, deliverable: responsePath };

  const copy = result.redeliver as string;
  if (await ctx.transport.exists(client.clientId, 'archive', copy)) {
    return { where, result, responseName, deliverable: await ctx.transport.fetch(client.clientId, 'archive', copy, work), redelivery: { copy } };
  }
  // The archived copy was pruned (it holds personal data). The request in hand has the earlier
  // batch's bytes, and its reference date and ProcessedAt are recorded: a rebuild gives the
  // same response, which its recorded SHA-256 proves before it is delivered.
  const rebuilt = join(work, `rebuilt-${responseName}`);
  // ...and the store version fixed at its claim: the read model of that version answers the rebuild.
  const again = await answerRequest({ ...base, referenceDate: earlier.referenceDate, processedAt: earlier.processedAt, storeVersion: earlier.storeVersion, outPath: rebuilt });
  if (again.outcome !== 'REJECTED' && again.responseDigest === earlier.responseSha256) {
    log.info('batch.redelivery_rebuilt', { earlierBatch: earlier.id, copy });
    return { where, result, responseName, deliverable: rebuilt, redelivery: { copy, note: `the archived copy archive/${copy} of batch ${earlier.id}'s response was gone; rebuilt from the request with that batch's reference date and ProcessedAt, same SHA-256, delivered again` } };
  }
  // The store changed since (or the earlier response was not recorded with its digest): the
  // earlier answer cannot be reproduced, so this file is answered anew, as of this batch.
  log.warn('batch.redelivery_answered_anew', { earlierBatch: earlier.id, copy });
  const fresh = await answerRequest({ ...base, referenceDate: batch.referenceDate, processedAt: batch.processedAt, storeVersion: batch.storeVersion, outPath: responsePath, batchId: batch.id, auditFence });
  const note = `re-delivery of batch ${earlier.id}: its archived response copy archive/${copy} was gone and a rebuild did not reproduce its SHA-256; answered anew`;
  return { where, result: fresh, responseName, deliverable: responsePath, note };
}

/**
 * The last reason this process logged for answering without libxml2's streaming validator: a
 * reason is logged when it differs from that one (a missing binary once, not per batch; a time-out
 * after it, or after an earlier time-out of another file, again).
 */
let streamWarned: string | undefined;

/** commit: deliver, keep, dispose, complete — each recorded, each skipped when a run before this one did it. */
async function commit(ctx: SpoolContext, client: Client, batch: BatchRecord, a: Answered, request: RequestBytes, log: Logger): Promise<FileOutcome> {
  if (!batch.deliveredAt) await deliver(ctx, client, batch, a.deliverable, a.responseName, request.work, log);
  const responseCopy = a.redelivery ? a.redelivery.copy : await keep(ctx, client, batch, a.deliverable, a.responseName, request.work, log);
  const archiveName = await dispose(ctx, client, batch, a.where, a.result, request);
  crashPoint('disposed');
  const completion = completionOf(a.result);
  const note = a.redelivery?.note ?? a.note;
  await completeBatch(ctx.db, batch.id, ctx.instanceId, { ...completion, ...(note ? { error: [completion.error, note].filter(Boolean).join('\n') } : {}), archiveName, responseCopy });
  crashPoint('completed');
  const unavailable = a.result.validation?.streamUnavailable;
  if (unavailable !== undefined && unavailable !== streamWarned) {
    streamWarned = unavailable; // `ldm-batch check` reports a missing one too
    log.warn('validation.stream_unavailable', { reason: unavailable, note: WITHOUT_STREAM_VALIDATOR });
  }
  log.info('batch.done', { outcome: a.result.outcome, lines: a.result.recordCount, rejection: a.result.rejection?.code, statusCounts: a.result.statusCounts, validator: a.result.validation?.engine, note });
  return a.result.outcome;
}

async function deliver(ctx: SpoolContext, client: Client, batch: BatchRecord, file: string, responseName: string, work: string, log: Logger): Promise<void> {
  // Deliver only while still the holder: one that stalled past its lease would publish again
  // what the new holder delivered and the client may already have taken away.
  await renewOrLost(ctx.db, batch.id, ctx.instanceId, leaseOf(ctx), 'before delivery');
  const delivered = await ctx.transport.publish(file, client.clientId, 'out', responseName);
  crashPoint('delivered');
  if (delivered === 'exists') await checkSameResponse(ctx, client, responseName, file, work, log);
  await markBatch(ctx.db, batch.id, ctx.instanceId, { deliveredAt: true });
}

/** Keeps a copy of the response in archive/, for a re-delivery; returns its name. */
async function keep(ctx: SpoolContext, client: Client, batch: BatchRecord, file: string, responseName: string, work: string, log: Logger): Promise<string> {
  const stem = responseName.replace(/\.response\.xml$/, '');
  let copy = `${stem}.${batch.id}.response.xml`;
  if ((await ctx.transport.publish(file, client.clientId, 'archive', copy)) === 'exists' && !(await sameFile(ctx, client, 'archive', copy, file, join(work, 'kept')))) {
    // Not our copy from a run cut short: something planted under that name. Keep ours under a
    // name nobody could know beforehand; the journal records which one.
    log.warn('response.copy_name_taken', { copy, note: 'archive/ holds another file (or a link) under this name; the copy was kept under a generated name' });
    copy = `${stem}.${batch.id}.${randomBytes(6).toString('hex')}.response.xml`;
    if ((await ctx.transport.publish(file, client.clientId, 'archive', copy)) === 'exists') throw new LdmError('SPOOL_UNSAFE', `archive/${copy} exists already`);
  }
  crashPoint('kept');
  return copy;
}

/**
 * rollback: what a failed attempt leaves. Never drops the error: every branch logs it, and
 * records it unless the journal itself is what failed.
 */
async function rollback(ctx: SpoolContext, client: Client, batch: BatchRecord, err: unknown, progress: Progress, mayRerun: boolean, log: Logger): Promise<FileOutcome | { rerun: BatchRecord }> {
  // This instance stalled past its lease and another took the batch over: its request file and
  // journal row are the new holder's now; moving or failing them would undo its work.
  if (isLeaseLost(err)) {
    log.warn('batch.lease_lost', { error: errorMessage(err) });
    return 'SKIPPED';
  }
  const fault = classifyFault(err);
  let holds: boolean;
  try {
    holds = await heartbeat(ctx.db, batch.id, ctx.instanceId, leaseOf(ctx));
  } catch (dbErr) {
    // The journal cannot be written (database down or locked): the batch stays CLAIMED with its
    // lease, and whoever polls after it expired takes it over — an attempt counted then.
    log.error('batch.unrecorded', { code: fault.code, error: errorMessage(err), journalError: errorMessage(dbErr), next: 'taken over when its lease expires' });
    throw err;
  }
  if (!holds) {
    log.warn('batch.lease_lost', { error: errorMessage(err), note: 'taken over by another instance during this attempt' });
    return 'SKIPPED';
  }
  // Still the holder, but the request left in/ while this run read it: a holder that stalled
  // past its lease moved it to the archive name it had recorded. Run again from there (every
  // step is idempotent) instead of failing an answerable batch.
  const where = progress.where;
  const stillIn = async (name: string): Promise<boolean> =>
    ctx.transport.exists(client.clientId, 'in', name).catch((existsErr: unknown) => {
      log.warn('batch.locate_failed', { error: errorMessage(existsErr), note: 'cannot tell whether the request left in/; not running again' });
      return true;
    });
  if (mayRerun && where?.folder === 'in' && !(await stillIn(where.name))) {
    const fresh = await getBatch(ctx.db, batch.id);
    if (fresh && fresh.state === 'CLAIMED' && fresh.instanceId === ctx.instanceId) {
      log.warn('batch.request_moved', { error: errorMessage(err), note: 'the request left in/ during this run (moved by a stale holder); running the batch again from where it is' });
      return { rerun: fresh };
    }
  }
  const policy = policyOf(ctx);
  if (fault.transient) {
    const ageSeconds = ((await dbNowMs(ctx.db)) - Date.parse(batch.createdAt)) / 1000;
    if (mayRetry(policy, batch.attempts, ageSeconds)) {
      const delay = retryDelaySeconds(policy, batch.attempts);
      try {
        await deferBatch(ctx.db, batch.id, ctx.instanceId, { code: fault.code, error: errorMessage(err), retryInSeconds: delay });
      } catch (deferErr) {
        if (!isLeaseLost(deferErr)) throw deferErr;
        log.warn('batch.lease_lost', { error: errorMessage(err), note: 'taken over before the fault could be recorded' });
        return 'SKIPPED';
      }
      log.warn('batch.retry_later', { code: fault.code, kind: fault.transient, error: errorMessage(err), attempt: batch.attempts, maxAttempts: policy.maxAttempts, retryInSeconds: delay });
      // The spool itself is down: the client's other files would fail the same way.
      if (err instanceof LdmError && TRANSPORT_DOWN.has(err.code)) throw err;
      return 'RETRYING';
    }
  }
  return giveUp(ctx, client, batch, fault, errorMessage(err), progress.request);
}

/**
 * Ends a batch FAILED: the client gets a signed INTERNAL_ERROR rejection (unless its answer was
 * delivered already), the request goes to error/ (kept), the journal says what happened. Each
 * step that fails is logged and said in the journal; the batch still ends, so nothing stays stuck.
 */
async function giveUp(ctx: SpoolContext, client: Client, batch: BatchRecord, fault: Fault, why: string, request?: RequestBytes): Promise<FileOutcome> {
  const log = ctx.log.child({ client: client.clientId, file: batch.fileName, batch: batch.id });
  const work = request?.work ?? join(ctx.workDir, workDirName(`b${batch.id}`));
  const notes: string[] = [`${fault.transient ? 'transient fault, attempts used up' : 'fault'} after ${batch.attempts} attempt(s): ${why}`];
  let responseSha256: string | null = null;
  let archiveName = batch.archiveName;
  let located: { folder: SpoolFolder; name: string } | undefined;
  let moved = false;
  try {
    await mkdir(work, { recursive: true });
    const at = await locateRequest(ctx, client, batch).catch((locErr: unknown) => {
      log.error('batch.locate_failed', { error: errorMessage(locErr) });
      notes.push(`the request could not be located: ${errorMessage(locErr)}`);
      return undefined;
    });
    located = at;
    if (batch.deliveredAt) {
      notes.push('its response had been delivered already; no INTERNAL_ERROR sent');
    } else {
      try {
        if (!at) throw new Error('the request file is gone');
        const sha = batch.sha256 || request?.sha256 || (await sha256File(await ctx.transport.fetch(client.clientId, at.folder, at.name, work)));
        const responseName = batch.responseName ?? responseFileName(batch.fileName);
        const file = join(work, `internal-error-${responseName}`);
        const written = await writeInternalError({
          signer: ctx.signer,
          outPath: file,
          referenceDate: batch.referenceDate,
          processedAt: batch.processedAt,
          requestSha256: sha,
          fileId: batch.fileId,
          message: 'the file could not be processed because of a fault on our side that retries did not overcome; it is kept, and may be sent again',
        });
        await renewOrLost(ctx.db, batch.id, ctx.instanceId, leaseOf(ctx), 'before delivering INTERNAL_ERROR');
        const delivered = await ctx.transport.publish(file, client.clientId, 'out', responseName);
        if (delivered === 'exists') notes.push(`out/${responseName} exists already; INTERNAL_ERROR not delivered over it`);
        else {
          responseSha256 = written.responseDigest;
          notes.push('the client was sent a signed INTERNAL_ERROR rejection');
        }
      } catch (sendErr) {
        if (isLeaseLost(sendErr)) throw sendErr;
        log.error('batch.internal_error_not_sent', { error: errorMessage(sendErr) });
        notes.push(`the INTERNAL_ERROR rejection could not be delivered: ${errorMessage(sendErr)}`);
      }
    }
    if (at?.folder === 'in') {
      try {
        archiveName = await moveRecorded(ctx, client, batch, at.name, 'error', [batch.fileName, numbered(batch.fileName, batch.id)], request ?? { sha256: batch.sha256, work });
        moved = true;
      } catch (moveErr) {
        if (isLeaseLost(moveErr)) throw moveErr;
        log.error('batch.not_moved', { error: errorMessage(moveErr) });
        notes.push(`the request could not be moved to error/: ${errorMessage(moveErr)}`);
      }
    }
  } catch (err) {
    if (isLeaseLost(err)) {
      log.warn('batch.lease_lost', { error: errorMessage(err) });
      return 'SKIPPED';
    }
    log.error('batch.give_up_step_failed', { error: errorMessage(err) });
    notes.push(errorMessage(err));
  } finally {
    if (!request) await rm(work, { recursive: true, force: true }).catch((rmErr: unknown) => log.warn('work.cleanup_failed', { error: errorMessage(rmErr), note: 'removed at a later poll' }));
  }
  const error = notes.join('\n');
  try {
    if (located?.folder === 'in' && !moved) {
      // The request could not leave in/ (the spool is down or read-only): ending the batch now
      // would strand its claim file there. It stays CLAIMED and the give-up is tried again later.
      const retryInSeconds = policyOf(ctx).maxDelaySeconds;
      await deferBatch(ctx.db, batch.id, ctx.instanceId, { code: fault.code, error: `given up, waiting for the spool to move the request to error/\n${error}`, retryInSeconds });
      log.error('batch.give_up_pending', { code: fault.code, error, retryInSeconds });
      return 'RETRYING';
    }
    await failBatch(ctx.db, batch.id, ctx.instanceId, { errorCode: fault.code, error, archiveName, responseSha256, attempts: batch.attempts });
  } catch (err) {
    if (!isLeaseLost(err)) throw err;
    log.warn('batch.lease_lost', { error: 'taken over by another instance before this one could record the failure' });
    return 'SKIPPED';
  }
  log.error('batch.failed', { code: fault.code, error, movedTo: archiveName });
  return 'FAILED';
}

/** Whether `<folder>/<name>` is a regular file with the same bytes as `local` (a link or other special file never is). */
async function sameFile(ctx: SpoolContext, client: Client, folder: SpoolFolder, name: string, local: string, work: string): Promise<boolean> {
  try {
    return (await sha256File(await ctx.transport.fetch(client.clientId, folder, name, work))) === (await sha256File(local));
  } catch (err) {
    if (err instanceof LdmError && err.code === 'SPOOL_NOT_FILE') return false;
    throw err;
  }
}

/**
 * An existing out/ file of the same name must be our own earlier delivery (or a stale holder's);
 * anything else is reported, never replaced. If the client took it away meanwhile, it was delivered.
 */
async function checkSameResponse(ctx: SpoolContext, client: Client, responseName: string, ours: string, work: string, log: Logger): Promise<void> {
  let theirs: string;
  try {
    theirs = await sha256File(await ctx.transport.fetch(client.clientId, 'out', responseName, join(work, 'existing')));
  } catch (err) {
    if (err instanceof LdmError && TRANSPORT_DOWN.has(err.code)) throw err;
    if (err instanceof LdmError && err.code === 'SPOOL_NOT_FILE') {
      log.warn('response.exists', { response: responseName, note: 'out/ holds something that is not a regular file (a link?) under the response name; it was neither followed nor replaced' });
      return;
    }
    if (await ctx.transport.exists(client.clientId, 'out', responseName)) throw err;
    log.info('response.taken', { response: responseName, note: 'the response already in out/ was fetched by the client before it could be compared; not delivered again' });
    return;
  }
  if (theirs !== (await sha256File(ours))) {
    log.warn('response.exists', { response: responseName, note: 'a different response with this name is still in out/; it was not replaced' });
  }
}

/** Moves the request to archive/ or error/ (see moveRecorded); a request found disposed of already stays where it is. */
async function dispose(ctx: SpoolContext, client: Client, batch: BatchRecord, where: { folder: SpoolFolder; name: string }, result: AnswerResult, request: RequestBytes): Promise<string> {
  if (where.folder !== 'in') return `${where.folder}/${where.name}`; // disposed of before a crash
  const folder = result.outcome === 'REJECTED' ? 'error' : 'archive';
  // An earlier holder's recorded name comes first: if it stalled after recording it, it may
  // still move the file there, and both moves must then aim at the same name.
  const recorded = batch.archiveName?.startsWith(`${folder}/`) ? batch.archiveName.slice(folder.length + 1) : undefined;
  return moveRecorded(ctx, client, batch, where.name, folder, [recorded ?? batch.fileName, batch.fileName, numbered(batch.fileName, batch.id)], request);
}

/** The request's SHA-256 ('' when not read yet) and a work folder to fetch a candidate into. */
interface RequestBytes {
  sha256: string;
  work: string;
}

/**
 * Moves the claimed request `claimName` out of in/ to the first free name of `names` in `folder`,
 * recording each name before trying it, so a later holder knows where to look. Returns
 * `<folder>/<name>`. A rename that fails although the source has left in/ is a move already
 * done: by a holder that stalled past its lease after recording a name (the batch's recorded one
 * when this run started), or by this rename itself (over SFTP its reply can be lost); the file
 * is recognised by its bytes. Throws LEASE_LOST when this instance no longer holds the batch: it
 * must not move the new holder's file.
 */
async function moveRecorded(ctx: SpoolContext, client: Client, batch: BatchRecord, claimName: string, folder: 'archive' | 'error', names: string[], request: RequestBytes): Promise<string> {
  const lease = ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const candidates = [...new Set(names)];
  for (const name of candidates) {
    await markBatch(ctx.db, batch.id, ctx.instanceId, { archiveName: `${folder}/${name}` });
    crashPoint('disposing');
    if (await ctx.transport.renameNoClobber(client.clientId, { folder: 'in', name: claimName }, { folder, name })) return `${folder}/${name}`;
    if (await ctx.transport.exists(client.clientId, 'in', claimName)) continue; // that name is another file's: try the next
    if (!(await heartbeat(ctx.db, batch.id, ctx.instanceId, lease))) throw new LdmError('LEASE_LOST', `batch ${batch.id} was taken over by another instance while this one moved its request`);
    for (const at of new Set([batch.archiveName, `${folder}/${name}`])) {
      if (at && (await isRequestAt(ctx, client, at, request))) {
        if (at !== `${folder}/${name}`) await markBatch(ctx.db, batch.id, ctx.instanceId, { archiveName: at });
        ctx.log.info('batch.moved_already', { client: client.clientId, file: batch.fileName, batch: batch.id, archiveName: at });
        return at;
      }
    }
    throw new Error(`the request of batch ${batch.id} left in/ but is neither at ${folder}/${name} nor at ${batch.archiveName ?? 'an earlier recorded name'}`);
  }
  throw new Error(`could not move ${claimName} to ${folder}/: ${candidates.join(' and ')} exist`);
}

/** Whether `<folder>/<name>` holds this request (same bytes; any file there when they are not known yet). */
async function isRequestAt(ctx: SpoolContext, client: Client, at: string, request: RequestBytes): Promise<boolean> {
  const [folder, name] = at.split('/') as [SpoolFolder, string];
  if (!(await ctx.transport.exists(client.clientId, folder, name))) return false;
  if (!request.sha256) return true;
  const local = await ctx.transport.fetch(client.clientId, folder, name, join(request.work, 'moved'));
  return (await sha256File(local)) === request.sha256;
}

const numbered = (name: string, batchId: number): string => name.replace(/\.xml$/, '') + `.${batchId}.xml`;
