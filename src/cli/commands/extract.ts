// `ldm-batch extract`: scheduled extracts (contract §6d). The daemon runs each configured extract
// on its schedule; `extract run` runs them now (all, or one client's), `extract list` shows the
// journal of extracts.
import { openApp, openAppAsOf } from '../context.js';
import { openTransport } from '../../spool/open.js';
import { createLogger } from '../../log/logger.js';
import { LdmError, errorMessage } from '../../errors.js';
import { isoDate, print, printJson } from '../output.js';
import { runExtract, type ExtractContext, type ExtractResult } from '../../extracts/run.js';
import { listExtracts } from '../../extracts/journal.js';
import { databaseFault } from '../../store/db.js';
import { redact } from '../../log/logger.js';

interface NotRun { client: string; year?: number; outcome: 'REFUSED' | 'FAILED'; code: string; message: string; exitCode: number }
type RunRow = ExtractResult | NotRun;
const notRun = (r: RunRow): r is NotRun => r.outcome === 'REFUSED' || r.outcome === 'FAILED';

function parseYear(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{4}$/.test(s) || Number(s) < 1) throw new LdmError('USAGE', `--year must be a year YYYY, got "${s}"`, { exitCode: 2 });
  return Number(s);
}

export async function runExtractRun(o: { client?: string; year?: string; asOf?: string; json?: boolean; config?: string; retry?: boolean }): Promise<void> {
  isoDate(o.asOf, '--as-of');
  const year = parseYear(o.year);
  const { app, asOf } = await openAppAsOf(o.config, o.asOf);
  try {
    const configured = app.config.extracts;
    const specs = o.client === undefined ? configured : configured.filter((e) => e.clientId === o.client);
    if (specs.length === 0) {
      throw new LdmError(
        'EXTRACT_NOT_CONFIGURED',
        o.client === undefined
          ? 'no extract is configured: add one to "extracts" in the config, e.g. {"clientId": "FIN", "legalContext": "FPS_FINANCE:TAX_ASSESSMENT", "schedule": "0 3 15 1 *"}'
          : `no extract is configured for client "${o.client}" (configured: ${configured.map((e) => e.clientId).join(', ') || 'none'}); add it to "extracts" in the config`,
        { exitCode: 2 },
      );
    }
    const log = createLogger({ base: { instance: app.config.instanceId } });
    const transport = openTransport(app.config, log);
    const rows: RunRow[] = [];
    try {
      const ctx: ExtractContext = {
        db: app.db,
        transport,
        signer: await app.signer(),
        readModels: app.readModels,
        workDir: app.workDir,
        instanceId: app.config.instanceId,
        timezone: app.config.timezone,
        log,
        leaseSeconds: app.config.leaseSeconds,
        retry: app.config.retry,
      };
      for (const spec of specs) {
        try {
          rows.push(await runExtract(ctx, spec, { year, asOf, reopen: o.retry === true }));
        } catch (err) {
          const coded = err instanceof LdmError ? err : databaseFault(err);
          if (coded && coded.exitCode === 2 && specs.length === 1) throw coded; // bad usage or config: the house format
          const refusal = coded !== undefined && coded.code.startsWith('EXTRACT_') && coded.code !== 'EXTRACT_JOURNAL' && coded.code !== 'EXTRACT_GIVEN_UP';
          rows.push({ client: spec.clientId, ...(year === undefined ? {} : { year }), outcome: refusal ? 'REFUSED' : 'FAILED', code: coded?.code ?? 'EXTRACT_FAILED', message: redact(coded?.message ?? errorMessage(err)), exitCode: coded?.exitCode ?? 1 });
        }
      }
    } finally {
      await transport.close();
    }
    if (o.json) printJson({ extracts: rows });
    else for (const r of rows) print(line(r));
    const bad = rows.filter(notRun);
    for (const b of bad) if (!o.json) process.stderr.write(`ldm-batch: ${b.message} [${b.code}]\n`);
    if (bad.length > 0) process.exitCode = Math.max(...bad.map((b) => b.exitCode));
  } finally {
    await app.close();
  }
}

function line(r: RunRow): string {
  if (notRun(r)) return `${r.client}${r.year === undefined ? '' : ` ${r.year}`}: ${r.outcome} ${r.code}`;
  const where = `${r.client}/${r.file}`;
  if (r.outcome === 'IN_PROGRESS') return `${r.client} ${r.year}: IN_PROGRESS ${where} (held by ${r.holder ?? '?'} until ${r.leaseUntil ?? '?'}; that run finishes it)`;
  const what = `${r.records ?? 0} person(s), batch ${r.batchId}, reference date ${r.referenceDate}, ProcessedAt ${r.processedAt}`;
  if (r.outcome === 'ALREADY_WRITTEN') return `${r.client} ${r.year}: ALREADY_WRITTEN ${where} (${what}; an extract is written once per client and year)`;
  return `${r.client} ${r.year}: WRITTEN ${where} (${what}${r.resumed ? '; resumed a claimed run' : ''}${r.alreadyPublished ? '; it was already in out/' : ''})`;
}

export async function runExtractList(o: { json?: boolean; config?: string; limit?: string }): Promise<void> {
  const limit = o.limit === undefined ? 100 : Number(o.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new LdmError('USAGE', `--limit must be a positive whole number, got "${o.limit}"`, { exitCode: 2 });
  const app = await openApp(o.config);
  try {
    const list = await listExtracts(app.db, limit);
    const rows = list.map((e) => ({
      client: e.clientId,
      year: e.year,
      extractId: e.extractId,
      state: e.batch.state,
      batchId: e.batch.id,
      legalContext: e.authorization.legalContext,
      referenceDate: e.batch.referenceDate,
      processedAt: e.batch.processedAt,
      records: e.batch.recordCount,
      deliveredAt: e.batch.deliveredAt,
      holder: e.batch.state === 'CLAIMED' ? e.batch.instanceId : null,
      leaseUntil: e.batch.state === 'CLAIMED' ? e.batch.leaseUntil : null,
      lastFault: e.batch.errorCode,
    }));
    if (o.json) return printJson({ extracts: rows });
    if (rows.length === 0) return print('no extract written or claimed yet');
    for (const r of rows) {
      print(`${r.extractId}\t${r.state}\tbatch ${r.batchId}\t${r.legalContext}\treference ${r.referenceDate}\t${r.records ?? '-'} person(s)${r.holder ? `\theld by ${r.holder} until ${r.leaseUntil}` : ''}${r.lastFault ? `\tlast fault ${r.lastFault}` : ''}`);
    }
  } finally {
    await app.close();
  }
}
