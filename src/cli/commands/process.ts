import { resolve, dirname, basename, join } from 'node:path';
import { existsSync } from 'node:fs';
import { openApp } from '../context.js';
import { answerRequest, completionOf } from '../../pipeline/answerRequest.js';
import { clockNow } from '../../pipeline/clock.js';
import { responseFileName } from '../../response/writer.js';
import { claimBatch, completeBatch } from '../../journal/batches.js';
import { LdmError } from '../../errors.js';
import { isoDate, print, printJson, progressReporter } from '../output.js';
import { redact } from '../../log/logger.js';

export async function runProcess(request: string, o: { output?: string; client?: string; asOf?: string; json?: boolean; config?: string }): Promise<void> {
  const requestPath = resolve(request);
  if (!existsSync(requestPath)) throw new LdmError('NO_FILE', `request file ${requestPath} does not exist`, { exitCode: 2 });
  const asOf = isoDate(o.asOf, '--as-of');
  const app = await openApp(o.config);
  try {
    const owner = o.client === undefined ? undefined : app.clients.find((c) => c.clientId === o.client);
    if (o.client !== undefined && !owner) throw new LdmError('UNKNOWN_CLIENT', `no client "${o.client}" (known: ${app.clients.map((c) => c.clientId).join(', ') || 'none'})`, { exitCode: 2 });
    const outPath = resolve(o.output ?? join(dirname(requestPath), responseFileName(basename(requestPath))));
    const { date, instant } = clockNow(app.config.timezone);
    const batch = await claimBatch(app.db, {
      clientId: owner?.clientId ?? null,
      fileName: basename(requestPath),
      size: 0,
      sha256: '',
      referenceDate: asOf ?? date,
      processedAt: instant,
      responseName: basename(outPath),
      instanceId: app.config.instanceId,
    });
    const result = await answerRequest({
      db: app.db,
      environment: app.config.environment,
      clients: app.clients,
      owner,
      requestPath,
      referenceDate: batch.referenceDate,
      processedAt: batch.processedAt,
      signer: await app.signer(),
      outPath,
      batchId: batch.id,
      onProgress: progressReporter('lines answered', 10_000),
    });
    await completeBatch(app.db, batch.id, app.config.instanceId, {
      ...completionOf(result),
      clientId: result.client?.clientId ?? null,
      size: result.size,
      sha256: result.sha256,
      archiveName: null,
      responseCopy: null,
    });
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
      ...(result.timings ? { timings: result.timings } : {}),
    };
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
    await app.close();
  }
}
