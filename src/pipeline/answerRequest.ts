// One request file in, one signed response file out: the file-level checks of contract §4 in
// their order, then the service resolves the lines and the writer signs as it writes.
import { createWriteStream, openSync, WriteStream } from 'node:fs';
import { rename, rm, unlink } from 'node:fs/promises';
import type { Db } from '../store/db.js';
import type { Completion } from '../journal/batches.js';
import { readRequestOnce } from '../batch/requestPass.js';
import { EnvelopeTally, readEnvelopeHeader, scanEnvelope } from '../batch/envelope.js';
import { ReadProgress, readRequestLineBatches } from '../batch/fastReader.js';
import { startRequestValidation, WORKER_MIN_BYTES, type RunningValidation, type ValidationEngine } from '../batch/validateInBackground.js';
import { fileOutputAvailable, openFileOutput } from '../response/fileOutput.js';
import { forgetAudit, type AuditFence } from '../audit/record.js';
import { addTiming, setTiming, startTimings, takeTimings } from './timings.js';
import { boundHeapGrowth } from './memory.js';
import { writeResponse } from '../response/writer.js';
import type { EncodedLines } from '../response/lineBytes.js';
import { serviceFor } from '../services/registry.js';
import type { ReadModels, Lease } from '../readmodel/registry.js';
import type { Envelope } from '../batch/envelope.js';
import type { GuardResult } from '../batch/guard.js';
import type { ValidationResult } from '../batch/validate.js';
import type { Client, Environment, FileError, ProfiledResponseLine, Rejection, RejectionCode, RequestHeader, ResponseHeader, Signer, StatusCode } from '../interfaces.js';

export interface AnswerInput {
  db: Db;
  environment: Environment;
  clients: readonly Client[];
  /** The client whose spool the file came from (`process --client`); undefined = chosen by the sender CBE. */
  owner?: Client;
  requestPath: string;
  referenceDate: string;
  processedAt: string;
  signer: Signer;
  /** Final path of the response; it is written beside it under a temporary name, then renamed. */
  outPath: string;
  /** The journal batch, when there is one: every answered line is then audited under it. */
  batchId?: number;
  /** With batchId, on an instance that holds the batch under a lease: each audit write checks it still does. */
  auditFence?: AuditFence;
  /** Called as lines are answered (for progress on long files), and once at the end with done=true. */
  onProgress?: (lines: number, done?: boolean) => void;
  /**
   * The instance's read models: LivingWagesWithAmount lines are then answered from the read model
   * of `storeVersion` (the version recorded at claim; undefined/null: the store's current one).
   */
  readModels?: ReadModels;
  storeVersion?: number | null;
  /**
   * Called once the request has been read and hashed (the single pass), before anything else is
   * decided: the digest and size of the bytes every later stage reads. Throwing stops the answer.
   */
  onRead?: (read: { sha256: string; size: number }) => Promise<void>;
  /** Called once the sender is known, before lines are resolved: decides FileId re-use. */
  checkFileId?: (client: Client, fileId: string, sha256: string) => Promise<'new' | 'reused' | { redeliver: string }>;
}

export interface AnswerResult {
  outcome: 'ANSWERED' | 'REJECTED' | 'REDELIVERED';
  client?: Client;
  header?: RequestHeader;
  sha256: string;
  size: number;
  rejection?: Rejection;
  recordCount: number;
  statusCounts: Partial<Record<StatusCode, number>>;
  /** SHA-256 of the response file's bytes. */
  responseDigest: string;
  /** For REDELIVERED: the earlier response file to deliver again. */
  redeliver?: string;
  /** Milliseconds per stage, when LDM_BATCH_TIMINGS=1 (see pipeline/timings.ts). */
  timings?: Record<string, number>;
  /**
   * The validator that decided, when the file was validated; with why libxml2's streaming validator
   * could not be asked, when it could not (missing, switched off: batch/streamValidate.ts).
   */
  validation?: { engine: ValidationEngine; streamUnavailable?: string };
}

const at = (message: string, line = 1, column = 1): FileError => ({ line, column, message });

export async function answerRequest(input: AnswerInput): Promise<AnswerResult> {
  boundHeapGrowth();
  startTimings();
  const t0 = performance.now();
  const seen: Seen = {};
  const answered = await answer(input, seen);
  addTiming('total', performance.now() - t0);
  const timings = takeTimings();
  const result = seen.validation === undefined ? answered : { ...answered, validation: seen.validation };
  return timings === undefined ? result : { ...result, timings };
}

/**
 * The files an answer keeps beside `outPath` while it runs (the response being written, the
 * private copy of the request): removed when it ends, and by whoever stops it by force.
 */
export function partFilesOf(outPath: string): string[] {
  return [`${outPath}.part`, `${outPath}.request.part`];
}

/** What an answer learns on its way that the result reports beside it. */
interface Seen {
  validation?: AnswerResult['validation'];
}

async function answer(input: AnswerInput, seen: Seen): Promise<AnswerResult> {
  // The single pass over the request (batch/requestPass.ts): SHA-256, guard, and a private copy
  // of the bytes, which the Header read, the background checks and the line reader then read.
  const copy = partFilesOf(input.outPath)[1];
  await rm(copy, { force: true }); // a leftover of a run that was killed
  try {
    const tRead = performance.now();
    const read = await readRequestOnce(input.requestPath, copy);
    const envelope = await readEnvelopeHeader(copy, read.sha256, read.size);
    addTiming('read', performance.now() - tRead);
    await input.onRead?.({ sha256: read.sha256, size: read.size });
    return await answerRead(input, envelope, read.guard, copy, seen);
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * The envelope rules of contract §4 that need the whole file (RecordCount, seq), in their order;
 * the envelope comes from the background scan of a valid file.
 */
function envelopeFailure(envelope: Envelope): { code: RejectionCode; errors: FileError[] } | undefined {
  if (envelope.recordCount !== envelope.requestCount) {
    const pos = envelope.trailerPosition ?? { line: 1, column: 1 };
    return { code: 'TRAILER_MISMATCH', errors: [at(`RecordCount is ${envelope.recordCount} but the file holds ${envelope.requestCount} Request element(s)`, pos.line, pos.column)] };
  }
  if (envelope.duplicateSeq) {
    const d = envelope.duplicateSeq;
    return { code: 'DUPLICATE_SEQ', errors: [at(`seq ${d.seq} is used more than once`, d.line, d.column)] };
  }
  if (envelope.seqOrder) {
    const o = envelope.seqOrder;
    return {
      code: 'SEQ_ORDER',
      errors: [at(`Request number ${o.expected} carries seq ${o.seq}; the n-th Request must carry seq n (1, 2, 3, … in file order)`, o.line, o.column)],
    };
  }
  return undefined;
}

async function answerRead(input: AnswerInput, headerRead: Envelope, guard: GuardResult, copy: string, seen: Seen): Promise<AnswerResult> {
  const header = headerRead.header;
  const base = { sha256: headerRead.sha256, size: headerRead.size, header };
  const reject = async (code: RejectionCode, errors: FileError[], client?: Client): Promise<AnswerResult> => {
    const written = await writeSigned(input, responseHeader(input, headerRead.sha256, header, headerRead.fileId), { rejection: { code, errors } });
    if (written === undefined) throw new Error('unreachable: a rejection is always published');
    return { ...base, outcome: 'REJECTED', client, rejection: { code, errors }, ...written };
  };

  // The byte-level guard first (DTD, UTF-8, no huge run without a tag): it keeps a hostile file
  // from reaching the readers below, which may buffer one huge value.
  if (!guard.ok) return reject(guard.code, [guard.error]);

  // Schema validation runs while everything below does (in a child process or a worker, on the
  // second core): the response is written under a temporary name and published only once the
  // file proved valid and its envelope sound. Their failures still win over every later check, in
  // the §4 order, as when checking first. The envelope (RecordCount, seq rules) is vouched for by
  // the line reader's tally on its way through a valid file; where the tally cannot vouch, or no
  // lines were read, a scan of its own finds the fault and its position.
  const background = startRequestValidation(copy, headerRead.size);
  noteValidation(background, seen);
  const tally = new EnvelopeTally();
  let scanned: Promise<Envelope> | undefined;
  const envelopeOf = (): Promise<Envelope> => {
    const sound = tally.sound(headerRead.sha256, headerRead.size);
    if (sound) return Promise.resolve(sound);
    scanned ??= scanEnvelope(copy);
    return scanned;
  };
  const validated = async (): Promise<ValidationResult> => {
    const tWait = performance.now();
    const v = await background.result;
    addTiming('validateWait', performance.now() - tWait);
    setTiming('validate', background.elapsedMs() ?? 0);
    return v;
  };
  const earlyFailure = async (): Promise<AnswerResult | undefined> => {
    const v = await validated();
    if (!v.ok) return reject(v.code, v.errors);
    const failure = envelopeFailure(await envelopeOf());
    return failure === undefined ? undefined : reject(failure.code, failure.errors);
  };
  /** Whether the file is valid and its envelope sound (the envelope is looked at once the lines are read). */
  const sound = async (): Promise<boolean> => (await background.result).ok && envelopeFailure(await envelopeOf()) === undefined;
  let lease: Lease | undefined;
  try {
    if (!header) return (await earlyFailure()) ?? reject('SCHEMA_INVALID', [at('the Header could not be read')]);
    const sender = input.clients.find((c) => c.cbeNumber === header.senderCbe);
    if (!sender) return (await earlyFailure()) ?? reject('UNKNOWN_SENDER', [at(`sender CBE ${header.senderCbe} is not a known client`)], input.owner);
    if (input.owner && input.owner.clientId !== sender.clientId) {
      return (
        (await earlyFailure()) ??
        reject('SENDER_MISMATCH', [at(`sender CBE ${header.senderCbe} belongs to client ${sender.clientId}, but the file came from the spool of ${input.owner.clientId}`)], input.owner)
      );
    }
    if (header.environment !== input.environment) {
      return (await earlyFailure()) ?? reject('WRONG_ENVIRONMENT', [at(`the file is for environment ${header.environment}; this instance serves ${input.environment}`)], sender);
    }
    const authorization = sender.authorizations.find((a) => a.service === header.service && a.legalContext === header.legalContext);
    if (!authorization) {
      return (
        (await earlyFailure()) ??
        reject('MSG00013', [at(`client ${sender.clientId} is not authorized for service ${header.service} with legal context ${header.legalContext}`)], sender)
      );
    }
    if (input.checkFileId) {
      const seen = await input.checkFileId(sender, header.fileId, headerRead.sha256);
      if (seen === 'reused') {
        return (await earlyFailure()) ?? reject('FILEID_REUSED', [at(`FileId ${header.fileId} was already used by ${sender.clientId} for a file with different content`)], sender);
      }
      if (seen !== 'new') {
        const failed = await earlyFailure();
        if (failed) return failed;
        const requestCount = (await envelopeOf()).requestCount;
        return { ...base, outcome: 'REDELIVERED', client: sender, recordCount: requestCount, statusCounts: {}, responseDigest: '', redeliver: seen.redeliver };
      }
    }
    const service = serviceFor(header.service);
    if (service.usesReadModel && input.readModels) {
      const tModel = performance.now();
      lease = await input.readModels.acquire(input.db, input.storeVersion);
      addTiming('readModel', performance.now() - tModel);
    }
    // The fast reader: the lines are only used if the file is valid (see fastReader.ts).
    const readProgress = new ReadProgress(headerRead.size);
    const lines = service.resolve(readRequestLineBatches(copy, tally, readProgress), {
      readProgress,
      readModel: lease?.model,
      db: input.db,
      client: sender,
      authorization,
      referenceDate: input.referenceDate,
      // ProcessedAt is fixed at claim time, so a re-run after a crash writes the same entries.
      audit: input.batchId === undefined ? undefined : { batchId: input.batchId, consultedAt: input.processedAt, fence: input.auditFence },
    });
    const valid = background.result.then((v) => v.ok);
    let written: Awaited<ReturnType<typeof writeSigned>> | undefined;
    try {
      written = await writeSigned(input, responseHeader(input, headerRead.sha256, header), input.onProgress ? counted(lines, input.onProgress) : lines, {
        gate: { early: valid, publish: sound },
        fileWorker: headerRead.size >= WORKER_MIN_BYTES,
      });
    } catch (err) {
      // A file that is not valid, or breaks the seq rules, may well break reading or answering
      // (the writer refuses lines out of seq order): then its rejection is the answer.
      if ((await sound().catch(() => true)) !== false) throw err;
    }
    if (written === undefined) {
      // Refused after all: nothing was disclosed, so the audit entries written meanwhile go too.
      if (input.batchId !== undefined) await forgetAudit(input.db, input.batchId, input.auditFence);
      return (await earlyFailure()) as AnswerResult;
    }
    await earlyFailure(); // records the validation timings (the file is sound: `written` was published)
    return { ...base, outcome: 'ANSWERED', client: sender, ...written };
  } finally {
    background.stop();
    lease?.release();
  }
}

function noteValidation(background: RunningValidation, seen: Seen): void {
  background.result.then(
    () => {
      const engine = background.engine();
      const streamUnavailable = background.unavailable();
      if (engine) seen.validation = streamUnavailable === undefined ? { engine } : { engine, streamUnavailable };
    },
    () => undefined,
  );
}

async function* counted<T extends { readonly length: number }>(batches: AsyncIterable<T>, onProgress: (n: number, done?: boolean) => void): AsyncGenerator<T> {
  let n = 0;
  for await (const batch of batches) {
    yield batch;
    n += batch.length;
    onProgress(n);
  }
  onProgress(n, true);
}

function responseHeader(input: AnswerInput, sha256: string, header: RequestHeader | undefined, fileId?: string): ResponseHeader {
  return {
    // InReplyTo is present whenever the FileId could be read, even from an otherwise broken header.
    inReplyTo: header?.fileId ?? fileId,
    requestSha256: sha256,
    service: header?.service,
    referenceDate: input.referenceDate,
    processedAt: input.processedAt,
  };
}

/**
 * Writes the response under a temporary name and renames it into place. With a gate, the rename
 * waits for `publish()`, asked once the body is written: false discards the file instead (as does
 * `early` arriving as false, which also stops the writing), and the result is then undefined.
 */
async function writeSigned(
  input: Pick<AnswerInput, 'outPath' | 'signer'>,
  header: ResponseHeader,
  body: AsyncIterable<readonly ProfiledResponseLine[] | EncodedLines> | { rejection: Rejection },
  o: { gate?: { early: Promise<boolean>; publish: () => Promise<boolean> }; fileWorker?: boolean } = {},
): Promise<{ recordCount: number; statusCounts: Partial<Record<StatusCode, number>>; responseDigest: string } | undefined> {
  const tmp = `${input.outPath}.part`;
  try {
    const { gate } = o;
    // A big response is hashed and written by a worker thread (response/fileOutput.ts). Either way
    // the file is created here, synchronously: a stop signal's clean-up then finds it (an open
    // still under way in the thread pool could create it after the clean-up).
    const out = o.fileWorker && fileOutputAvailable() ? openFileOutput(tmp) : createWriteStream(tmp, { fd: openSync(tmp, 'w') });
    // Stop writing as soon as the file is known to be invalid.
    gate?.early.then(
      (ok) => {
        if (ok) return;
        if (out instanceof WriteStream) out.destroy(new Error('the request file is not valid'));
        else out.abort();
      },
      () => undefined,
    );
    const result = await writeResponse(out, header, body, input.signer);
    if (gate && !(await gate.publish())) {
      await unlink(tmp).catch(() => undefined);
      return undefined;
    }
    await rename(tmp, input.outPath);
    return { recordCount: result.recordCount, statusCounts: result.statusCounts, responseDigest: result.fileSha256 };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * The signed INTERNAL_ERROR rejection (contract §7) for a request that faults on our side did not
 * let us answer: it reads nothing of the request but its digest (the request may be what
 * crashed us), and names its FileId only when the journal learnt it from an earlier attempt.
 */
export async function writeInternalError(o: {
  signer: Signer;
  outPath: string;
  referenceDate: string;
  processedAt: string;
  requestSha256: string;
  fileId?: string | null;
  message: string;
}): Promise<{ responseDigest: string }> {
  const header: ResponseHeader = { inReplyTo: o.fileId ?? undefined, requestSha256: o.requestSha256, referenceDate: o.referenceDate, processedAt: o.processedAt };
  const written = await writeSigned(o, header, { rejection: { code: 'INTERNAL_ERROR', errors: [at(o.message)] } });
  if (written === undefined) throw new Error('unreachable: a rejection is always published');
  return { responseDigest: written.responseDigest };
}

/** What the journal records of an answer (the caller adds where the files went). */
export function completionOf(result: AnswerResult): Omit<Completion, 'archiveName' | 'responseCopy'> {
  return {
    state: result.outcome === 'REJECTED' ? 'REJECTED' : 'DONE',
    fileId: result.header?.fileId ?? null,
    service: result.header?.service ?? null,
    recordCount: result.recordCount,
    statusCounts: result.statusCounts,
    errorCode: result.outcome === 'REDELIVERED' ? 'REDELIVERY' : result.rejection?.code,
    error: result.rejection?.errors.map((e) => `line ${e.line}, column ${e.column}: ${e.message}`).join('\n'),
    responseSha256: result.responseDigest,
  };
}
