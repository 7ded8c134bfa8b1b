// `ldm-batch repertory register|unregister`: the repertory as a managed register.
import { openApp } from '../context.js';
import { LdmError } from '../../errors.js';
import { maskSsin } from '../../domain/ssin.js';
import { registerIntegration, unregisterIntegration } from '../../repertory/manage.js';
import { formatQualityCode } from '../../repertory/qualityCodes.js';
import { isoDate, print, printJson } from '../output.js';

interface CommonOptions {
  ssin?: string;
  sector?: string;
  institution?: string;
  qualityCode?: string;
  json?: boolean;
  config?: string;
}

function need(v: string | undefined, flag: string): string {
  if (v === undefined || v.trim() === '') throw new LdmError('USAGE', `${flag} is required`, { exitCode: 2 });
  return v.trim();
}

/** No --institution: the sector-level integration (contract §5). */
function institution(v: string | undefined): string | null {
  return v === undefined ? null : need(v, '--institution');
}

/** How an operator reads where an integration is held. */
function where(institutionCbe: string | null, sector: number | string): string {
  return institutionCbe === null ? `sector ${sector} (sector level)` : `${institutionCbe} (sector ${sector})`;
}

export async function runRepertoryRegister(o: CommonOptions & { start?: string; end?: string }): Promise<void> {
  const input = {
    ssin: need(o.ssin, '--ssin'),
    sector: need(o.sector, '--sector'),
    institutionCbe: institution(o.institution),
    qualityCode: need(o.qualityCode, '--quality-code'),
    startDate: isoDate(need(o.start, '--start'), '--start') as string,
    endDate: isoDate(o.end, '--end'),
  };
  const app = await openApp(o.config);
  try {
    const i = await registerIntegration(app.db, input);
    if (o.json) return printJson(i);
    // Operator output: the SSIN masked, as in logs.
    print(
      `registered ${maskSsin(i.ssin)} at ${where(i.institutionCbe, i.sector)}, quality code ${formatQualityCode(i.qualityCode)}, ` +
        `${i.startDate} .. ${i.endDate ?? 'open'}${o.end === undefined && i.endDate !== null ? ' (default duration of the code)' : ''}`,
    );
  } finally {
    await app.close();
  }
}

export async function runRepertoryUnregister(o: CommonOptions & { end?: string }): Promise<void> {
  const input = {
    ssin: need(o.ssin, '--ssin'),
    sector: need(o.sector, '--sector'),
    institutionCbe: institution(o.institution),
    qualityCode: need(o.qualityCode, '--quality-code'),
    endDate: isoDate(need(o.end, '--end'), '--end') as string,
  };
  const app = await openApp(o.config);
  try {
    const r = await unregisterIntegration(app.db, input);
    if (o.json) return printJson(r);
    const who = `${maskSsin(input.ssin)} at ${where(input.institutionCbe, input.sector)}, quality code ${input.qualityCode}`;
    print(r.closed === 0 ? `nothing to close for ${who} (no integration open after ${input.endDate})` : `closed ${r.closed} integration(s) of ${who} at ${input.endDate}`);
    if (r.startingLater > 0) print(`note: ${r.startingLater} integration(s) of ${who} start after ${input.endDate} and were left as they are`);
  } finally {
    await app.close();
  }
}
