// Re-runs a journaled batch from its archived request and delivers a new response.
import { join } from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import { openAppAsOf } from '../context.js';
import { openTransport } from '../../spool/open.js';
import { createLogger } from '../../log/logger.js';
import { DEFAULT_LEASE_SECONDS, findBatch, claimBatch, completeBatch, failBatch, heartbeat } from '../../journal/batches.js';
import { classifyFault } from '../../pipeline/faults.js';
import { workDirName } from '../../pipeline/workDirs.js';
import { answerRequest, completionOf } from '../../pipeline/answerRequest.js';
import { clockNow } from '../../pipeline/clock.js';
import { LdmError, errorMessage } from '../../errors.js';
import { isoDate, print, printJson, progressReporter, requestLineCount } from '../output.js';
import type { SpoolFolder } from '../../spool/transport.js';

export async function runReprocess(id: string, o: { asOf?: string; force?: boolean; json?: boolean; config?: string }): Promise<void> {
  isoDate(o.asOf, '--as-of');
  const { app, asOf } = await openAppAsOf(o.config, o.asOf);
  const transport = openTransport(app.config, createLogger({ base: { instance: app.config.instanceId } }));
  const work = join(app.workDir, workDirName('reprocess'));
  let beat: NodeJS.Timeout | undefined;
  try {
    const original = await findBatch(app.db, id);
    if (!original) throw new LdmError('NO_BATCH', `no batch with id or FileId "${id}"`);
    if (!original.clientId || !original.archiveName) {
      throw new LdmError('NOT_ARCHIVED', `batch ${original.id} has no archived request to re-run (it was processed with "process" or failed before archiving)`);
    }
    const client = app.clients.find((c) => c.clientId === original.clientId);
    if (!client) throw new LdmError('UNKNOWN_CLIENT', `batch ${original.id} belongs to client ${original.clientId}, which is no longer configured`);
    const [folder, name] = original.archiveName.split('/') as [SpoolFolder, string];
    await mkdir(work, { recursive: true });
    const local = await transport.fetch(client.clientId, folder, name, work);
    const responseName = original.responseName ?? `${original.fileName.replace(/\.xml$/, '')}.response.xml`;
    if (!o.force && (await transport.exists(client.clientId, 'out', responseName))) {
      throw new LdmError('RESPONSE_WAITING', `out/${responseName} is still waiting for pickup; use --force to replace it`);
    }
    // The signing key and certificate are checked before the claim.
    const signer = await app.signer();
    const { instant } = clockNow(app.config.timezone);
    const batch = await claimBatch(app.db, {
      clientId: client.clientId,
      fileName: original.fileName,
      size: original.size,
      sha256: original.sha256,
      referenceDate: asOf ?? original.referenceDate,
      processedAt: instant,
      responseName,
      instanceId: app.config.instanceId,
    });
    // Renewed while it runs, so no poll takes this row for an abandoned one.
    beat = setInterval(() => void heartbeat(app.db, batch.id, app.config.instanceId, DEFAULT_LEASE_SECONDS).catch(() => undefined), (DEFAULT_LEASE_SECONDS * 1000) / 3);
    beat.unref();
    let result: Awaited<ReturnType<typeof answerRequest>>;
    try {
      const responsePath = join(work, responseName);
      result = await answerRequest({
        db: app.db,
        environment: app.config.environment,
        clients: app.clients,
        owner: client,
        requestPath: local,
        referenceDate: batch.referenceDate,
        processedAt: batch.processedAt,
        signer,
        outPath: responsePath,
        batchId: batch.id,
        readModels: app.readModels,
        storeVersion: batch.storeVersion,
        onProgress: progressReporter('answering', { unit: 'lines', count: () => requestLineCount(local) }),
      });
      if (o.force) await transport.renameNoClobber(client.clientId, { folder: 'out', name: responseName }, { folder: 'archive', name: `${responseName}.replaced-${batch.id}` });
      const delivered = await transport.publish(responsePath, client.clientId, 'out', responseName);
      if (delivered === 'exists') throw new LdmError('RESPONSE_WAITING', `out/${responseName} appeared while reprocessing; nothing was replaced`);
      const copy = `${responseName.replace(/\.response\.xml$/, '')}.${batch.id}.response.xml`;
      await transport.publish(responsePath, client.clientId, 'archive', copy);
      await completeBatch(app.db, batch.id, app.config.instanceId, {
        ...completionOf(result),
        archiveName: original.archiveName,
        responseCopy: copy,
      });
    } catch (err) {
      // Journaled with its code: the row must not stay CLAIMED.
      const code = err instanceof LdmError ? err.code : classifyFault(err).code;
      await failBatch(app.db, batch.id, app.config.instanceId, { errorCode: code, error: errorMessage(err), archiveName: original.archiveName }).catch((dbErr: unknown) =>
        process.stderr.write(`ldm-batch: batch ${batch.id} could not be recorded FAILED: ${errorMessage(dbErr)} (a later poll marks it ABANDONED)\n`),
      );
      throw err;
    }
    const summary = { batch: batch.id, reprocessed: original.id, outcome: result.outcome, response: `${client.clientId}/out/${responseName}`, referenceDate: batch.referenceDate, statusCounts: result.statusCounts };
    if (o.json) printJson(summary);
    else print(`batch ${original.id} re-run as batch ${batch.id}: ${result.outcome}, response ${summary.response} (reference date ${batch.referenceDate})`);
    if (result.outcome === 'REJECTED') process.exitCode = 1;
  } finally {
    if (beat) clearInterval(beat);
    await rm(work, { recursive: true, force: true });
    await transport.close();
    await app.close();
  }
}
