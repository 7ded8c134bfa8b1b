// The disposition lifecycle of one spool file (Camel's begin/commit/rollback). Every step is
// idempotent and recorded, so a batch whose process died is finished by whoever takes it over,
// with the same reference date and ProcessedAt, hence a byte-identical response:
//
//   claim     in/R.xml → in/R.xml.ldm-processing.<instance>.<ms>.<rnd>  (no-clobber rename)
//   record    journal row CLAIMED, lease, reference date and ProcessedAt fixed
//   answer    signed response into a local work file
//   deliver   out/R.response.xml (temp name + no-clobber rename), then journal delivered_at
//   keep      archive/R.<batchId>.response.xml (for re-delivery)
//   dispose   request → archive/ (answered) or error/ (rejected), name recorded first
//   complete  journal DONE/REJECTED (guarded by state and holder)
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import type { Client, Environment, Signer } from '../interfaces.js';
import type { Logger } from '../log/logger.js';
import type { SpoolFolder, SpoolTransport } from '../spool/transport.js';
import { claimFileName, parseClaimName, sanitizedName, unprocessableReason } from '../spool/transport.js';
import { randomBytes } from 'node:crypto';
import { responseFileName } from '../response/writer.js';
import {
  DEFAULT_LEASE_SECONDS,
  claimBatch,
  claimedBatches,
  completeBatch,
  failBatch,
  findAnsweredByFileId,
  getBatch,
  heartbeat,
  markBatch,
  takeOver,
  withdrawClaim,
  type BatchRecord,
} from '../journal/batches.js';
import { answerRequest, completionOf, type AnswerResult } from './answerRequest.js';
import { sha256File } from './sha256File.js';
import { LdmError, errorMessage } from '../errors.js';
import { clockNow, type Clock } from './clock.js';
import { crashPoint } from './crashPoint.js';

/** Transport errors that say nothing about the file: the batch is abandoned, not failed. */
const TRANSPORT_DOWN = new Set(['SFTP_UNREACHABLE', 'HOST_KEY_MISMATCH', 'SFTP_AUTH', 'SFTP_KEY']);

export interface SpoolContext {
  db: Db;
  transport: SpoolTransport;
  environment: Environment;
  clients: readonly Client[];
  signer: Signer;
  instanceId: string;
  workDir: string;
  timezone: string;
  log: Logger;
  clock?: Clock;
  asOf?: string;
  leaseSeconds?: number;
}

export type FileOutcome = 'ANSWERED' | 'REJECTED' | 'REDELIVERED' | 'FAILED' | 'SKIPPED';

/** Claims a fresh request file of a client's in/ folder and processes it; never throws for a bad file. */
export async function processSpoolFile(ctx: SpoolContext, client: Client, name: string): Promise<FileOutcome> {
  const unfit = unprocessableReason(name);
  if (unfit !== undefined) return quarantine(ctx, client, name, unfit, 'UNSAFE_NAME');
  const claimedAt = Date.now();
  const claimName = claimFileName(name, ctx.instanceId, claimedAt);
  const claimed = await ctx.transport.renameNoClobber(client.clientId, { folder: 'in', name }, { folder: 'in', name: claimName });
  if (!claimed) return 'SKIPPED'; // another poller took it first
  crashPoint('claimed');
  const { date, instant } = (ctx.clock ?? clockNow)(ctx.timezone);
  const batch = await claimBatch(ctx.db, {
    clientId: client.clientId,
    fileName: name,
    size: 0,
    sha256: '',
    referenceDate: ctx.asOf ?? date,
    processedAt: instant,
    responseName: responseFileName(name),
    instanceId: ctx.instanceId,
    claimName,
    leaseSeconds: ctx.leaseSeconds,
  });
  crashPoint('recorded');
  const held = await confirmClaim(ctx, client, batch, claimedAt);
  return held ? runBatch(ctx, client, held) : 'SKIPPED';
}

/**
 * A claim recorded more than a lease after its rename (this process stalled in between) may have
 * been taken for an orphan by another instance's recovery, which renames the claim file. Renaming
 * it once more, under a fresh name, settles it: exactly one of the two renames succeeds. The
 * loser withdraws its record, so a request never gets a second batch.
 */
async function confirmClaim(ctx: SpoolContext, client: Client, batch: BatchRecord, claimedAt: number): Promise<BatchRecord | undefined> {
  const lease = ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (batch.claimName === null || Date.now() - claimedAt < lease * 1000) return batch;
  // The record's own lease may have run out as well and the batch been taken over: then it is
  // the new holder's, file included. Otherwise this renews it, so nobody takes it over meanwhile.
  if (!(await heartbeat(ctx.db, batch.id, ctx.instanceId, lease))) {
    ctx.log.warn('batch.lease_lost', { batch: batch.id, client: client.clientId, file: batch.fileName, error: 'taken over before this instance confirmed its claim' });
    return undefined;
  }
  const fresh = claimFileName(batch.fileName, ctx.instanceId, Date.now());
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
  await failBatch(ctx.db, batch.id, ctx.instanceId, code, reason, `error/${target}`);
  ctx.log.warn(code === 'UNSAFE_NAME' ? 'batch.unsafe_name' : 'batch.not_a_file', { client: client.clientId, batch: batch.id, movedTo: `error/${target}`, reason: why });
  return 'FAILED';
}

/**
 * Finishes what dead holders left: CLAIMED batches whose lease expired, and claim files in in/
 * whose claimer died before recording them. Returns the outcomes of the batches it finished.
 */
export async function recoverClient(ctx: SpoolContext, client: Client): Promise<{ file: string; outcome: FileOutcome }[]> {
  const done: { file: string; outcome: FileOutcome }[] = [];
  const lease = ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const claims = (await ctx.transport.list(client.clientId, 'in')).filter((e) => e.kind === undefined && parseClaimName(e.name));
  const inFlight = await claimedBatches(ctx.db, client.clientId);
  const nowIso = new Date().toISOString();
  for (const b of inFlight) {
    if (b.leaseUntil !== null && b.leaseUntil >= nowIso) continue; // its holder is alive
    const mine = await takeOver(ctx.db, b.id, ctx.instanceId, lease);
    if (!mine) continue;
    ctx.log.warn('batch.takeover', { batch: b.id, client: client.clientId, file: b.fileName, previousHolder: b.instanceId, attempts: mine.attempts });
    done.push({ file: b.fileName, outcome: await runBatch(ctx, client, mine) });
  }
  // Claim files nobody recorded: the claimer died between its rename and its journal insert.
  const recorded = new Set(inFlight.map((b) => b.claimName));
  for (const c of claims) {
    const parsed = parseClaimName(c.name);
    if (!parsed || recorded.has(c.name)) continue;
    if (Date.now() - parsed.epochMs < lease * 1000) continue; // its claimer may still be about to record it
    const known = await ctx.db('batches').where({ client_id: client.clientId, claim_name: c.name }).first();
    if (known) continue; // finished meanwhile, or taken over above
    const reclaimedAt = Date.now();
    const claimName = claimFileName(parsed.name, ctx.instanceId, reclaimedAt);
    if (!(await ctx.transport.renameNoClobber(client.clientId, { folder: 'in', name: c.name }, { folder: 'in', name: claimName }))) continue;
    const { date, instant } = (ctx.clock ?? clockNow)(ctx.timezone);
    const recordedClaim = await claimBatch(ctx.db, {
      clientId: client.clientId,
      fileName: parsed.name,
      size: 0,
      sha256: '',
      referenceDate: ctx.asOf ?? date,
      processedAt: instant,
      responseName: responseFileName(parsed.name),
      instanceId: ctx.instanceId,
      claimName,
      leaseSeconds: lease,
    });
    const batch = await confirmClaim(ctx, client, recordedClaim, reclaimedAt);
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
  const first = await runBatchOnce(ctx, client, batch, true);
  if (typeof first === 'string') return first;
  return (await runBatchOnce(ctx, client, first.rerun, false)) as FileOutcome;
}

async function runBatchOnce(ctx: SpoolContext, client: Client, batch: BatchRecord, mayRerun: boolean): Promise<FileOutcome | { rerun: BatchRecord }> {
  const log = ctx.log.child({ client: client.clientId, file: batch.fileName, batch: batch.id });
  const work = join(ctx.workDir, `b${batch.id}-${process.pid}-${Date.now()}`);
  const lease = ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const beat = setInterval(() => {
    heartbeat(ctx.db, batch.id, ctx.instanceId, lease).catch((err: unknown) => log.warn('batch.heartbeat_failed', { error: errorMessage(err) }));
  }, Math.max(100, (lease * 1000) / 3));
  beat.unref();
  await mkdir(work, { recursive: true });
  let where: { folder: SpoolFolder; name: string } | undefined;
  /** The request's bytes, to recognise it if it has to be found after someone else moved it. */
  const request = { sha256: batch.sha256, work };
  try {
    where = await locateRequest(ctx, client, batch);
    crashPoint('located');
    if (!where) throw new Error(`the request file of batch ${batch.id} is neither claimed in in/ nor at ${batch.archiveName ?? 'its archive name'}`);
    const local = await ctx.transport.fetch(client.clientId, where.folder, where.name, work);
    const size = (await stat(local)).size;
    const sha256 = await sha256File(local);
    if (batch.sha256 && batch.sha256 !== sha256) throw new Error(`the request file of batch ${batch.id} changed after it was claimed`);
    if (!batch.sha256) await markBatch(ctx.db, batch.id, ctx.instanceId, { sha256, size });
    request.sha256 = sha256;
    log.info('batch.claimed', { size, referenceDate: batch.referenceDate, attempt: batch.attempts });

    const responseName = batch.responseName ?? responseFileName(batch.fileName);
    const responsePath = join(work, responseName);
    const result = await answerRequest({
      db: ctx.db,
      environment: ctx.environment,
      clients: ctx.clients,
      owner: client,
      requestPath: local,
      referenceDate: batch.referenceDate,
      processedAt: batch.processedAt,
      signer: ctx.signer,
      outPath: responsePath,
      batchId: batch.id,
      checkFileId: async (sender, fileId, sha) => {
        const earlier = (await findAnsweredByFileId(ctx.db, sender.clientId, fileId)).filter((b) => b.id !== batch.id);
        if (earlier.length === 0) return 'new';
        const same = earlier.find((b) => b.sha256 === sha && b.responseCopy);
        return same ? { redeliver: same.responseCopy as string } : 'reused';
      },
    });
    crashPoint('answered');

    const deliverable = result.outcome === 'REDELIVERED' ? await ctx.transport.fetch(client.clientId, 'archive', result.redeliver as string, work) : responsePath;
    if (!batch.deliveredAt) {
      // Deliver only while still the holder: one that stalled past its lease would publish again
      // what the new holder delivered and the client may already have taken away.
      if (!(await heartbeat(ctx.db, batch.id, ctx.instanceId, lease))) throw new LdmError('LEASE_LOST', `batch ${batch.id} was taken over by another instance before delivery`);
      const delivered = await ctx.transport.publish(deliverable, client.clientId, 'out', responseName);
      crashPoint('delivered');
      if (delivered === 'exists') await checkSameResponse(ctx, client, responseName, deliverable, work, log);
      await markBatch(ctx.db, batch.id, ctx.instanceId, { deliveredAt: new Date().toISOString() });
    }
    let responseCopy: string | null = result.outcome === 'REDELIVERED' ? (result.redeliver ?? null) : null;
    if (result.outcome !== 'REDELIVERED') {
      responseCopy = `${responseName.replace(/\.response\.xml$/, '')}.${batch.id}.response.xml`;
      if ((await ctx.transport.publish(responsePath, client.clientId, 'archive', responseCopy)) === 'exists' && !(await sameFile(ctx, client, 'archive', responseCopy, responsePath, join(work, 'kept')))) {
        // Not our copy from a run cut short: something planted under that name. Keep ours
        // under a name nobody could know beforehand; the journal records which one.
        log.warn('response.copy_name_taken', { copy: responseCopy, note: 'archive/ holds another file (or a link) under this name; the copy was kept under a generated name' });
        responseCopy = `${responseName.replace(/\.response\.xml$/, '')}.${batch.id}.${randomBytes(6).toString('hex')}.response.xml`;
        if ((await ctx.transport.publish(responsePath, client.clientId, 'archive', responseCopy)) === 'exists') throw new LdmError('SPOOL_UNSAFE', `archive/${responseCopy} exists already`);
      }
      crashPoint('kept');
    }
    const archiveName = await dispose(ctx, client, batch, where, result, request);
    crashPoint('disposed');
    await completeBatch(ctx.db, batch.id, ctx.instanceId, {
      ...completionOf(result),
      archiveName,
      responseCopy,
    });
    crashPoint('completed');
    log.info('batch.done', { outcome: result.outcome, lines: result.recordCount, rejection: result.rejection?.code, statusCounts: result.statusCounts });
    return result.outcome;
  } catch (err) {
    if (err instanceof LdmError && TRANSPORT_DOWN.has(err.code)) {
      // The spool is unreachable, not the file bad: leave the batch CLAIMED; when its lease
      // expires, whoever polls next finishes it from the step it reached.
      log.warn('batch.abandoned', { code: err.code, error: errorMessage(err) });
      throw err;
    }
    // This instance stalled past its lease and another took the batch over (the error is then a
    // refused journal update, or a file the new holder already moved): its request file and
    // journal row are the new holder's now; moving or failing them would undo its work.
    const lost = err instanceof LdmError && (err.code === 'LEASE_LOST' || err.code === 'JOURNAL_CONFLICT');
    if (lost || !(await heartbeat(ctx.db, batch.id, ctx.instanceId, lease).catch(() => true))) {
      log.warn('batch.lease_lost', { error: errorMessage(err) });
      return 'SKIPPED';
    }
    // Still the holder, but the request left in/ while this run read it: a holder that stalled
    // past its lease moved it to the archive name it had recorded. Run again from there (every
    // step is idempotent) instead of failing an answerable batch.
    if (mayRerun && where?.folder === 'in' && !(await ctx.transport.exists(client.clientId, 'in', where.name).catch(() => true))) {
      const fresh = await getBatch(ctx.db, batch.id).catch(() => undefined);
      if (fresh && fresh.state === 'CLAIMED' && fresh.instanceId === ctx.instanceId) {
        log.warn('batch.request_moved', { error: errorMessage(err), note: 'the request left in/ during this run (moved by a stale holder); running the batch again from where it is' });
        return { rerun: fresh };
      }
    }
    log.error('batch.failed', { error: errorMessage(err) });
    // The request goes to error/ (kept) so a poison file cannot block the spool.
    const at = await locateRequest(ctx, client, batch).catch(() => undefined);
    let moved: string | null = null;
    if (at?.folder === 'in') {
      try {
        moved = await moveRecorded(ctx, client, batch, at.name, 'error', [batch.fileName, numbered(batch.fileName, batch.id)], request);
      } catch (moveErr) {
        if (moveErr instanceof LdmError && moveErr.code === 'LEASE_LOST') {
          log.warn('batch.lease_lost', { error: errorMessage(moveErr) });
          return 'SKIPPED';
        }
      }
    }
    const failed = await failBatch(ctx.db, batch.id, ctx.instanceId, 'INTERNAL', errorMessage(err), moved ?? batch.archiveName).catch(() => true);
    if (!failed) {
      log.warn('batch.lease_lost', { error: 'taken over by another instance before this one could record the failure' });
      return 'SKIPPED';
    }
    return 'FAILED';
  } finally {
    clearInterval(beat);
    await rm(work, { recursive: true, force: true });
  }
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
