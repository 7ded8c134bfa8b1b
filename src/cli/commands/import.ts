import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { openApp } from '../context.js';
import { importCsv, importKind, ImportRejected, READ_MODEL_KINDS } from '../../import/importCsv.js';
import { rebuildAfterImport } from './snapshot.js';
import { LdmError } from '../../errors.js';
import { redact } from '../../log/logger.js';
import { countInFile, print, printJson, progressReporter } from '../output.js';
import { notifyAfterRightsImport, printNotifySummary } from './notify.js';

export async function runImport(kind: string, file: string, o: { json?: boolean; config?: string }): Promise<void> {
  importKind(kind); // usage error before touching the store
  const path = resolve(file);
  if (!existsSync(path)) throw new LdmError('NO_FILE', `import file ${path} does not exist`, { exitCode: 2 });
  const app = await openApp(o.config);
  try {
    // Rows = line feeds minus the header (a last line without a line feed makes the total one short; the bar then grows).
    const progress = progressReporter(`importing ${kind}`, { unit: 'rows', count: async () => Math.max(0, (await countInFile(path, '\n')) - 1) });
    const report = await importCsv(app.db, kind, path, progress);
    progress(report.rows, true);
    // New rights versions are events: the subscribed, integrated institutions are told now. Only
    // inserted versions are events (a re-import stores nothing new, so the planner sees nothing).
    const notified = kind === 'rights' && report.inserted > 0 ? await notifyAfterRightsImport(app) : undefined;
    // The read model of the new store version, so the next batch does not wait for it.
    const readModel = READ_MODEL_KINDS.has(kind) && report.inserted + report.updated > 0 ? await rebuildAfterImport(app) : undefined;
    if (o.json) printJson({ ok: true, ...report, ...(notified ? { notified } : {}), ...(readModel ? { readModel } : {}) });
    else {
      if (readModel?.built) print(`read model v${readModel.built.storeVersion} built in ${readModel.built.seconds} s (${(readModel.built.bytes / 1e6).toFixed(1)} MB)`);
      if (readModel?.error) print(`the read model could not be built now (${readModel.error}); the next batch builds it, or run "ldm-batch snapshot rebuild"`);
      print(`imported ${report.rows} ${kind} row(s) from ${path}: ${report.inserted} inserted, ${report.updated} updated, ${report.unchanged} unchanged`);
      if (notified?.status === 'RAN') printNotifySummary(notified.summary);
      if (notified?.status === 'SKIPPED') print(`notifications not sent (${notified.reason}); run "ldm-batch notify" to send them`);
      if (notified?.status === 'FAILED') print(`notifications could not be sent now (${notified.error}); run "ldm-batch notify" to retry`);
    }
  } catch (err) {
    if (err instanceof ImportRejected && o.json) {
      printJson({ ok: false, file: err.file, badRowCount: err.badRowCount, badRows: err.badRows.map((b) => ({ ...b, reason: redact(b.reason) })) });
      process.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await app.close();
  }
}
