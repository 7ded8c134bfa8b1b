// One request file in, one signed response file out: the file-level checks of contract §4 in
// their order, then the service resolves the lines and the writer signs as it writes.
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { Db } from '../store/db.js';
import { checkEnvelope, readRequest } from '../batch/reader.js';
import { validateRequestFile } from '../batch/validate.js';
import { writeResponse } from '../response/writer.js';
import { resolveAmounts } from '../services/amounts/resolve.js';
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
}

const at = (message: string, line = 1, column = 1): FileError => ({ line, column, message });

export async function answerRequest(input: AnswerInput): Promise<AnswerResult> {
  const envelope = await checkEnvelope(input.requestPath);
  const header = envelope.header;
  const base = { sha256: envelope.sha256, size: envelope.size, header };
  const reject = async (code: RejectionCode, errors: FileError[], client?: Client): Promise<AnswerResult> => {
    const written = await writeSigned(input, responseHeader(input, envelope.sha256, header, envelope.fileId), { rejection: { code, errors } });
    return { ...base, outcome: 'REJECTED', client, rejection: { code, errors }, ...written };
  };

  const valid = await validateRequestFile(input.requestPath);
  if (!valid.ok) return reject(valid.code, valid.errors);
  if (!header) return reject('SCHEMA_INVALID', [at('the Header could not be read')]);
  if (envelope.recordCount !== envelope.requestCount) {
    const pos = envelope.trailerPosition ?? { line: 1, column: 1 };
    return reject('TRAILER_MISMATCH', [at(`RecordCount is ${envelope.recordCount} but the file holds ${envelope.requestCount} Request element(s)`, pos.line, pos.column)]);
  }
  if (envelope.duplicateSeq) {
    const d = envelope.duplicateSeq;
    return reject('DUPLICATE_SEQ', [at(`seq ${d.seq} is used more than once`, d.line, d.column)]);
  }
  const sender = input.clients.find((c) => c.cbeNumber === header.senderCbe);
  if (!sender) return reject('UNKNOWN_SENDER', [at(`sender CBE ${header.senderCbe} is not a known client`)], input.owner);
  if (input.owner && input.owner.clientId !== sender.clientId) {
    return reject('SENDER_MISMATCH', [at(`sender CBE ${header.senderCbe} belongs to client ${sender.clientId}, but the file came from the spool of ${input.owner.clientId}`)], input.owner);
  }
  if (header.environment !== input.environment) {
    return reject('WRONG_ENVIRONMENT', [at(`the file is for environment ${header.environment}; this instance serves ${input.environment}`)], sender);
  }
  const authorization = sender.authorizations.find((a) => a.service === header.service && a.legalContext === header.legalContext);
  if (!authorization) {
    return reject('MSG00013', [at(`client ${sender.clientId} is not authorized for service ${header.service} with legal context ${header.legalContext}`)], sender);
  }
  if (input.checkFileId) {
    const seen = await input.checkFileId(sender, header.fileId, envelope.sha256);
    if (seen === 'reused') {
      return reject('FILEID_REUSED', [at(`FileId ${header.fileId} was already used by ${sender.clientId} for a file with different content`)], sender);
    }
    if (seen !== 'new') {
      return { ...base, outcome: 'REDELIVERED', client: sender, recordCount: envelope.requestCount, statusCounts: {}, responseDigest: '', redeliver: seen.redeliver };
    }
  }
  if (header.service !== 'LivingWagesWithAmount') {
    return reject('MSG00013', [at(`service ${header.service} is not offered by this instance yet`)], sender);
  }
  const lines = resolveAmounts(readRequest(input.requestPath).lines, {
    db: input.db,
    client: sender,
    authorization,
    referenceDate: input.referenceDate,
    // ProcessedAt is fixed at claim time, so a re-run after a crash writes the same entries.
    audit: input.batchId === undefined ? undefined : { batchId: input.batchId, consultedAt: input.processedAt },
  });
  const written = await writeSigned(input, responseHeader(input, envelope.sha256, header), lines);
  return { ...base, outcome: 'ANSWERED', client: sender, ...written };
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

async function writeSigned(
  input: AnswerInput,
  header: ResponseHeader,
  body: AsyncIterable<ProfiledResponseLine> | { rejection: Rejection },
): Promise<{ recordCount: number; statusCounts: Partial<Record<StatusCode, number>>; responseDigest: string }> {
  const tmp = `${input.outPath}.part`;
  try {
    const out = createWriteStream(tmp, { flags: 'w' });
    const result = await writeResponse(out, header, body, input.signer);
    await rename(tmp, input.outPath);
    return { recordCount: result.recordCount, statusCounts: result.statusCounts, responseDigest: result.fileSha256 };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
