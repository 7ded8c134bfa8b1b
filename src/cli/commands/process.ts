import { resolve, dirname, basename, join } from 'node:path';
import { constants } from 'node:fs';
import { access, stat, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { openAppAsOf } from '../context.js';
import { answerRequest, completionOf, partFilesOf } from '../../pipeline/answerRequest.js';
import { clockNow } from '../../pipeline/clock.js';
import { classifyFault } from '../../pipeline/faults.js';
import { responseFileName } from '../../response/writer.js';
import { DEFAULT_LEASE_SECONDS, claimBatch, completeBatch, failBatch, heartbeat } from '../../journal/batches.js';
import { LdmError, errorMessage } from '../../errors.js';
import { isoDate, print, printJson, progressReporter, requestLineCount } from '../output.js';
import { redact } from '../../log/logger.js';
import { WITHOUT_STREAM_VALIDATOR } from '../../batch/streamValidate.js';

/** Everything that can fail before the work starts, checked before the journal row exists. */
async function checkInputs(requestPath: string, outPath: string, force: boolean): Promise<void> {
  const st = await stat(requestPath).catch(() => undefined);
  if (!st) throw new LdmError('NO_FILE', `request file ${requestPath} does not exist`, { exitCode: 2 });
  if (!st.isFile()) throw new LdmError('NOT_A_FILE', `${requestPath} is not a regular file (a directory, a device…); give the path of a request file`, { exitCode: 2 });
  const outDir = dirname(outPath);
  const dir = await stat(outDir).catch(() => undefined);
  if (!dir?.isDirectory()) throw new LdmError('NO_OUTPUT_DIR', `the output folder ${outDir} does not exist; create it or choose another with -o`, { exitCode: 2 });
  try {
    await access(outDir, constants.W_OK);
  } catch {
    throw new LdmError('OUTPUT_NOT_WRITABLE', `the output folder ${outDir} is not writable by this user`, { exitCode: 2 });
  }
  const out = await stat(outPath).catch(() => undefined);
  if (out && !out.isFile()) throw new LdmError('NOT_A_FILE', `the output path ${outPath} exists and is not a regular file`, { exitCode: 2 });
  if (outPath === requestPath) throw new LdmError('USAGE', `-o ${outPath} is the request file itself`, { exitCode: 2 });
  // An existing response may be the only copy of what a client was sent: never replaced silently.
  if (out && !force) throw new LdmError('OUTPUT_EXISTS', `${outPath} exists already; choose another -o file, or pass --force to replace it`, { exitCode: 2 });
}

export async function runProcess(request: string, o: { output?: string; client?: string; asOf?: string; force?: boolean; json?: boolean; config?: string }): Promise<void> {
  const requestPath = resolve(request);
  isoDate(o.asOf, '--as-of');
  const outPath = resolve(o.output ?? join(dirname(requestPath), responseFileName(basename(requestPath))));
  await checkInputs(requestPath, outPath, o.force === true);
  const { app, asOf } = await openAppAsOf(o.config, o.asOf);
  const instanceId = app.config.instanceId;
  let held: number | undefined;
  const removeParts = (): void => {
    for (const part of partFilesOf(outPath)) {
      try {
        unlinkSync(part);
      } catch {
        // not created yet, or already renamed into place
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // The response is written under <out>.part until it is complete (and the request copied
    // beside it): never leave them behind. Removed now, and again just before the exit: the answer
    // goes on while the journal is told, and may create one meanwhile.
    removeParts();
    const code = signal === 'SIGINT' ? 130 : 143;
    const id = held;
    const done = id === undefined ? Promise.resolve() : failBatch(app.db, id, instanceId, { errorCode: 'INTERRUPTED', error: `stopped by ${signal} before it finished; no response was written`, archiveName: null });
    done
      .catch((dbErr: unknown) => process.stderr.write(`ldm-batch: batch ${id} could not be recorded FAILED: ${errorMessage(dbErr)} (a later poll marks it ABANDONED)\n`))
      .finally(() => {
        process.stderr.write(`ldm-batch: process stopped by ${signal}${id === undefined ? '' : `; batch ${id} recorded FAILED (INTERRUPTED)`}\n`);
        removeParts();
        process.exit(code);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let beat: NodeJS.Timeout | undefined;
  try {
    const owner = o.client === undefined ? undefined : app.clients.find((c) => c.clientId === o.client);
    if (o.client !== undefined && !owner) throw new LdmError('UNKNOWN_CLIENT', `no client "${o.client}" (known: ${app.clients.map((c) => c.clientId).join(', ') || 'none'})`, { exitCode: 2 });
    // The signing key and certificate are checked (mode, format) before the claim.
    const signer = await app.signer();
    const { date, instant } = clockNow(app.config.timezone);
    const batch = await claimBatch(app.db, {
      clientId: owner?.clientId ?? null,
      fileName: basename(requestPath),
      size: 0,
      sha256: '',
      referenceDate: asOf ?? date,
      processedAt: instant,
      responseName: basename(outPath),
      instanceId,
    });
    held = batch.id;
    // A long file outlives a lease: renew it, so no poll takes this row for an abandoned one.
    beat = setInterval(() => void heartbeat(app.db, batch.id, instanceId, DEFAULT_LEASE_SECONDS).catch(() => undefined), (DEFAULT_LEASE_SECONDS * 1000) / 3);
    beat.unref();
    let result: Awaited<ReturnType<typeof answerRequest>>;
    try {
      result = await answerRequest({
        db: app.db,
        environment: app.config.environment,
        clients: app.clients,
        owner,
        requestPath,
        referenceDate: batch.referenceDate,
        processedAt: batch.processedAt,
        signer,
        outPath,
        batchId: batch.id,
        readModels: app.readModels,
        storeVersion: batch.storeVersion,
        onProgress: progressReporter('answering', { unit: 'lines', count: () => requestLineCount(requestPath) }),
      });
      await completeBatch(app.db, batch.id, instanceId, {
        ...completionOf(result),
        clientId: result.client?.clientId ?? null,
        size: result.size,
        sha256: result.sha256,
        archiveName: null,
        responseCopy: null,
      });
      held = undefined;
    } catch (err) {
      const code = err instanceof LdmError ? err.code : classifyFault(err).code;
      await unlink(`${outPath}.part`).catch(() => undefined);
      const recorded = await failBatch(app.db, batch.id, instanceId, { errorCode: code, error: errorMessage(err), archiveName: null }).then(() => true, (dbErr: unknown) => {
        process.stderr.write(`ldm-batch: batch ${batch.id} could not be recorded FAILED: ${errorMessage(dbErr)} (a later poll marks it ABANDONED)\n`);
        return false;
      });
      held = undefined;
      if (recorded) process.stderr.write(`ldm-batch: batch ${batch.id} recorded FAILED (${code})\n`);
      throw err;
    }
    const summary = {
      batch: batch.id,
      outcome: result.outcome,
      response: outPath,
      fileId: result.header?.fileId,
      referenceDate: batch.referenceDate,
      recordCount: result.recordCount,
      statusCounts: result.statusCounts,
      // The rejection's messages quote values (libxml2 does): an error shown here is masked like a log.
      rejection: result.rejection ? { ...result.rejection, errors: result.rejection.errors.map((e) => ({ ...e, message: redact(e.message) })) } : undefined,
      // Which libxml2 validator decided (batch/validateInBackground.ts); and why the streaming one could not, if it could not.
      ...(result.validation ? { validator: result.validation.engine } : {}),
      ...(result.validation?.streamUnavailable ? { validatorNote: result.validation.streamUnavailable } : {}),
      ...(result.timings ? { timings: result.timings } : {}),
    };
    if (result.validation?.streamUnavailable) {
      process.stderr.write(`ldm-batch: note: libxml2's streaming validator was not used (${redact(result.validation.streamUnavailable)}); ${WITHOUT_STREAM_VALIDATOR}\n`);
    }
    if (o.json) printJson(summary);
    else {
      print(`${result.outcome === 'REJECTED' ? 'rejected' : 'answered'}: ${outPath}`);
      if (result.rejection) {
        print(`  ${result.rejection.code}`);
        for (const e of result.rejection.errors) print(`  line ${e.line}, column ${e.column}: ${redact(e.message)}`);
      } else {
        print(`  ${result.recordCount} line(s), reference date ${batch.referenceDate}`);
        for (const [code, n] of Object.entries(result.statusCounts).sort(([a], [b]) => a.localeCompare(b))) print(`  ${code}: ${n}`);
      }
    }
    if (result.outcome === 'REJECTED') process.exitCode = 1;
  } finally {
    if (beat) clearInterval(beat);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await app.close();
  }
}
