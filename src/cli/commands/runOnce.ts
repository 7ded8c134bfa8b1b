import { openAppAsOf, type AppContext } from '../context.js';
import { openTransport } from '../../spool/open.js';
import { pollOnce, type FileResult, type PollSummary } from '../../pipeline/runOnce.js';
import { responseFileName } from '../../response/writer.js';
import type { SpoolContext } from '../../pipeline/processSpoolFile.js';
import { createLogger, redact, type Logger } from '../../log/logger.js';
import { isoDate, print, printJson } from '../output.js';
import { stopRequestedEarly } from '../signals.js';

export async function spoolContext(app: AppContext, log: Logger, asOf?: string): Promise<SpoolContext> {
  return {
    db: app.db,
    transport: openTransport(app.config, log),
    environment: app.config.environment,
    clients: app.clients,
    signer: await app.signer(),
    instanceId: app.config.instanceId,
    workDir: app.workDir,
    readModels: app.readModels,
    timezone: app.config.timezone,
    log,
    asOf,
    leaseSeconds: app.config.leaseSeconds,
    retry: app.config.retry,
  };
}

/** Where the response of a file went, when it got one (FAILED and SKIPPED files have none from this poll). */
function responseOf(f: FileResult): string | null {
  return f.outcome === 'ANSWERED' || f.outcome === 'REJECTED' || f.outcome === 'REDELIVERED' ? `${f.client}/out/${responseFileName(f.file)}` : null;
}

export function printSummary(summary: PollSummary, json: boolean | undefined): void {
  if (json) {
    // The journal's details stay in the journal (`batches show <batch>`).
    printJson({
      files: summary.files.map((f) => ({ client: f.client, file: f.file, outcome: f.outcome, batch: f.batchId ?? null, code: f.code ?? null, response: responseOf(f), lines: f.lines ?? null })),
      failures: summary.failures.map((f) => ({ ...f, error: redact(f.error) })),
    });
    return;
  }
  if (summary.files.length === 0 && summary.failures.length === 0) print('no request files ready');
  for (const f of summary.files) {
    const code = f.code && f.outcome !== 'ANSWERED' ? ` ${f.code}` : '';
    const batch = f.batchId === undefined ? '' : ` (batch ${f.batchId})`;
    const response = responseOf(f);
    print(`${f.client}/in/${f.file}: ${f.outcome}${code}${batch}${response ? ` → ${response}` : ''}`);
  }
  for (const f of summary.failures) print(`${f.client}: poll failed [${f.code}]: ${redact(f.error)}`);
}

/** Exit code of a poll: 2 when a spool failed on configuration (host key, key file…), 1 when anything else failed or waits for a retry. */
function exitCodeOf(summary: PollSummary): number {
  const configErrors = new Set(['HOST_KEY_MISMATCH', 'SFTP_AUTH', 'SFTP_KEY', 'KEY_PERMISSIONS', 'CONFIG']);
  if (summary.failures.some((f) => configErrors.has(f.code))) return 2;
  if (summary.failures.length > 0) return 1;
  // RETRYING: a transient fault (disk full, database busy…); the file is retried at a later poll.
  return summary.files.some((f) => f.outcome === 'REJECTED' || f.outcome === 'FAILED' || f.outcome === 'RETRYING') ? 1 : 0;
}

export async function runRunOnce(o: { asOf?: string; json?: boolean; config?: string }): Promise<void> {
  isoDate(o.asOf, '--as-of');
  // SIGTERM/SIGINT (also one that came while loading, see signals.ts): the file in hand is
  // finished, no other is taken, the summary says what was done; a second signal exits at once
  // (the file in hand stays claimed and is taken over when its lease expires, as for the daemon).
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`ldm-batch: stopped by a second ${signal}\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let opened: Awaited<ReturnType<typeof openAppAsOf>>;
  try {
    opened = await openAppAsOf(o.config, o.asOf);
  } catch (err) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    throw err;
  }
  const { app, asOf } = opened;
  const log = createLogger({ base: { instance: app.config.instanceId } });
  let ctx: SpoolContext | undefined;
  try {
    ctx = await spoolContext(app, log, asOf);
    const shouldStop = (): boolean => stopping || stopRequestedEarly() !== undefined;
    const summary = await pollOnce(ctx, app.clients, { minAgeMs: app.config.spool.minAgeSeconds * 1000, shouldStop });
    if (shouldStop()) log.info('run-once.stopped', { signal: stopRequestedEarly(), files: summary.files.length });
    printSummary(summary, o.json);
    process.exitCode = exitCodeOf(summary);
  } finally {
    // The SFTP connection's keepalive timer would keep the process alive.
    await ctx?.transport.close();
    await app.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
