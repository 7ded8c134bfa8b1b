import { openApp, type AppContext } from '../context.js';
import { openTransport } from '../../spool/open.js';
import { pollOnce, type PollSummary } from '../../pipeline/runOnce.js';
import type { SpoolContext } from '../../pipeline/processSpoolFile.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { isoDate, print, printJson } from '../output.js';

export async function spoolContext(app: AppContext, log: Logger, asOf?: string): Promise<SpoolContext> {
  return {
    db: app.db,
    transport: openTransport(app.config),
    environment: app.config.environment,
    clients: app.clients,
    signer: await app.signer(),
    instanceId: app.config.instanceId,
    workDir: app.workDir,
    timezone: app.config.timezone,
    log,
    asOf,
    leaseSeconds: app.config.leaseSeconds,
  };
}

export function printSummary(summary: PollSummary, json: boolean | undefined): void {
  if (json) {
    printJson(summary);
    return;
  }
  if (summary.files.length === 0) print('no request files ready');
  for (const f of summary.files) print(`${f.client}/${f.file}: ${f.outcome}`);
}

export async function runRunOnce(o: { asOf?: string; json?: boolean; config?: string }): Promise<void> {
  const asOf = isoDate(o.asOf, '--as-of');
  const app = await openApp(o.config);
  const log = createLogger({ base: { instance: app.config.instanceId } });
  const ctx = await spoolContext(app, log, asOf);
  try {
    const summary = await pollOnce(ctx, app.clients, { minAgeMs: app.config.spool.minAgeSeconds * 1000 });
    printSummary(summary, o.json);
    if (summary.files.some((f) => f.outcome === 'REJECTED' || f.outcome === 'FAILED')) process.exitCode = 1;
  } finally {
    await ctx.transport.close();
    await app.close();
  }
}
