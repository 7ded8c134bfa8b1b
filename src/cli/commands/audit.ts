// `ldm-batch audit --ssin SSIN [--since 6m] [--json]`: who consulted this person, when, why
// (logging principle). The output is meant for the person concerned: it shows their own SSIN
// once, in the query echo, and no other person's number.
// `ldm-batch audit purge (--before DATE | --retention 10y)`: deletes older entries (journaled).
// `ldm-batch audit export --ssin S [--months N] [--lang nl|fr|en] [--json] [-o file]`: the
// citizen's view as a printable PDF (or JSON), file mode 0600.
import { openApp } from '../context.js';
import { LdmError } from '../../errors.js';
import { currentYear, isValidSsin } from '../../domain/ssin.js';
import { STATUS_VALUE, type StatusCode } from '../../interfaces.js';
import { auditForSsin, type AuditRow } from '../../audit/query.js';
import { runRetention } from '../../audit/purge.js';
import { consultationsForSsin } from '../../audit/query.js';
import { EXPORT_LANGS, buildExport, renderPdf, type ExportLang } from '../../audit/export.js';
import { clockNow } from '../../pipeline/clock.js';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSince } from '../../audit/since.js';
import { formatQualityCode, qualityCodeInfo } from '../../repertory/qualityCodes.js';
import { print, printJson, isoDate } from '../output.js';

export const DEFAULT_SINCE = '6m';

/** Plain words for the citizen; the codes are contract §4. */
const STATUS_TEXT: Record<StatusCode, string> = {
  MSG00000: 'data given',
  MSG00100: 'allowed, nothing found',
  MSG00005: 'not answered: unknown number',
  MSG00006: 'not answered: number replaced',
  MSG00008: 'not answered: invalid question',
  MSG00011: 'not answered: invalid number',
  MSG00012: 'refused: no file on you at this institution for that period',
  MSG00021: 'allowed, but the data provider holds no file on you for that period',
};

/** One consultation in the JSON for a citizen portal. */
export interface AuditView {
  consultedAt: string;
  institution: { clientId: string; name: string | null };
  service: string;
  legalContext: string;
  deliberation: string | null;
  qualityCode: { code: string; label: string | null } | null;
  status: { code: StatusCode; value: string; text: string };
}

export function auditView(r: AuditRow): AuditView {
  return {
    consultedAt: r.consultedAt,
    institution: { clientId: r.clientId, name: r.clientName },
    service: r.service,
    legalContext: r.legalContext,
    deliberation: r.deliberation,
    qualityCode: r.qualityCode === null ? null : { code: formatQualityCode(r.qualityCode), label: qualityCodeInfo(r.qualityCode)?.label ?? null },
    status: { code: r.statusCode, value: STATUS_VALUE[r.statusCode] ?? 'UNKNOWN', text: STATUS_TEXT[r.statusCode] ?? r.statusCode },
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

export async function runAudit(o: { ssin?: string; since?: string; json?: boolean; config?: string }): Promise<void> {
  // Optional in the type because `audit purge` shares the command: commander cannot require it.
  if (o.ssin === undefined || o.ssin === '') throw new LdmError('USAGE', '--ssin is required', { exitCode: 2 });
  // Never echo a wrong number back in full: it may be someone else's.
  if (!isValidSsin(o.ssin, currentYear())) throw new LdmError('INVALID_SSIN', '--ssin is not a valid national or BIS number (11 digits, check digits)', { exitCode: 2 });
  const app = await openApp(o.config);
  try {
    const today = clockNow(app.config.timezone).date;
    const since = parseSince(o.since ?? DEFAULT_SINCE, today);
    const views = (await auditForSsin(app.db, o.ssin, since)).map(auditView);
    if (o.json) return printJson(views);
    print(`Consultations of ${o.ssin} since ${since}: ${views.length}`);
    if (views.length === 0) return;
    const rows = [['when', 'institution', 'service', 'legal context', 'deliberation', 'quality code', 'status']];
    for (const v of views) {
      rows.push([
        v.consultedAt,
        v.institution.name === null ? v.institution.clientId : `${v.institution.clientId} (${v.institution.name})`,
        v.service,
        v.legalContext,
        v.deliberation ?? '-',
        v.qualityCode === null ? '-' : `${v.qualityCode.code}${v.qualityCode.label ? ` ${v.qualityCode.label}` : ''}`,
        `${v.status.code} ${v.status.text}`,
      ]);
    }
    for (const line of table(rows)) print(line);
  } finally {
    await app.close();
  }
}

export async function runAuditPurge(o: { before?: string; retention?: string; json?: boolean; config?: string }): Promise<void> {
  // Deleting audit entries cannot be undone: exactly one explicit bound, never a default.
  if ((o.before === undefined) === (o.retention === undefined)) {
    throw new LdmError('USAGE', 'give exactly one of --before YYYY-MM-DD or --retention (e.g. 10y, 18m)', { exitCode: 2 });
  }
  if (o.retention !== undefined && !/^\d{1,4}[dwmy]$/.test(o.retention.trim())) {
    throw new LdmError('USAGE', `--retention must be a duration like 18m or 10y, got "${o.retention}"`, { exitCode: 2 });
  }
  const app = await openApp(o.config);
  try {
    const today = clockNow(app.config.timezone).date;
    const before = o.before !== undefined ? (isoDate(o.before, '--before') as string) : parseSince(o.retention as string, today, '--retention');
    if (before > today) throw new LdmError('USAGE', `--before ${before} is in the future; that would delete current entries`, { exitCode: 2 });
    const run = await runRetention(app.db, { purgedBefore: before, ranAt: clockNow(app.config.timezone).instant, trigger: 'operator', instanceId: app.config.instanceId });
    if (o.json) return printJson({ purged: { batches: run.batches, persons: run.persons }, before, run: run.id });
    print(`purged ${run.batches} consultation${run.batches === 1 ? '' : 's'} (${run.persons} person entr${run.persons === 1 ? 'y' : 'ies'}) consulted before ${before} (retention run ${run.id})`);
  } finally {
    await app.close();
  }
}

export interface AuditExportOptions {
  ssin?: string;
  months?: string;
  lang?: string;
  json?: boolean;
  output?: string;
  force?: boolean;
  config?: string;
}

/** Writes `data` to a new file of mode 0600 (never replaces one unless `force`; never follows a link). */
async function writePrivate(path: string, data: Buffer | string, force: boolean): Promise<void> {
  const { constants } = await import('node:fs');
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (force ? constants.O_TRUNC : constants.O_EXCL);
  let fh;
  try {
    fh = await open(path, flags, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new LdmError('OUTPUT_EXISTS', `${path} exists; choose another -o or add --force`, { exitCode: 2 });
    if (code === 'ELOOP') throw new LdmError('OUTPUT_IS_LINK', `${path} is a symbolic link; the export is not written through links`, { exitCode: 2 });
    throw err;
  }
  try {
    await fh.chmod(0o600); // also when --force replaced a file that had another mode
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

export async function runAuditExport(o: AuditExportOptions): Promise<void> {
  if (o.ssin === undefined || o.ssin === '') throw new LdmError('USAGE', '--ssin is required', { exitCode: 2 });
  if (!isValidSsin(o.ssin, currentYear())) throw new LdmError('INVALID_SSIN', '--ssin is not a valid national or BIS number (11 digits, check digits)', { exitCode: 2 });
  const lang = (o.lang ?? 'nl').toLowerCase();
  if (!(EXPORT_LANGS as readonly string[]).includes(lang)) throw new LdmError('USAGE', `--lang must be nl, fr or en, got "${o.lang}"`, { exitCode: 2 });
  if (o.months !== undefined && !/^\d{1,4}$/.test(o.months.trim())) throw new LdmError('USAGE', `--months must be a whole number of months, got "${o.months}"`, { exitCode: 2 });
  const app = await openApp(o.config);
  try {
    const months = o.months === undefined ? app.config.audit.onlineMonths : Number(o.months);
    const maxMonths = app.config.audit.retentionYears * 12;
    if (months < 1 || months > maxMonths) throw new LdmError('USAGE', `--months must be 1-${maxMonths} (audit.retentionYears: nothing older is kept)`, { exitCode: 2 });
    const now = clockNow(app.config.timezone);
    const from = parseSince(`${months}m`, now.date);
    const consultations = await consultationsForSsin(app.db, o.ssin, from);
    const doc = buildExport(consultations, { ssin: o.ssin, from, to: now.date, lang: lang as ExportLang, timezone: app.config.timezone, generatedAt: now.instant });
    if (o.json) {
      const text = JSON.stringify(doc, null, 2) + '\n';
      if (o.output === undefined) return printJson(doc);
      await writePrivate(resolve(o.output), text, o.force === true);
      return;
    }
    const out = resolve(o.output ?? `consultations-${now.date}-${lang}.pdf`);
    await writePrivate(out, await renderPdf(doc), o.force === true);
    print(`wrote ${out} (${doc.consultations.length} consultation${doc.consultations.length === 1 ? '' : 's'} since ${from}, ${lang}, mode 0600)`);
  } finally {
    await app.close();
  }
}
