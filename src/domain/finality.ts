// Finality (contract §5): the sender may see a person's data only through an integration in the
// repertory of its sector, with a quality code its authorization allows for the service, that
// overlaps the period. The repertory has two levels, as the KSZ keeps them: a sector-level
// integration (no institution) counts for every client of the sector; an institution-level one
// (a sector's own register, e.g. the OCMWs') only for the client with that CBE. This is the one
// rule every place that decides finality uses (amounts, rights, notifications, extracts).
import type { Integration } from '../interfaces.js';
import { overlaps } from './period.js';

export interface FinalityContext {
  senderCbe: string;
  sector: number;
  allowedQualityCodes: readonly number[];
}

/** Whether this integration is the sender's: its sector, and its institution or the whole sector. */
export function integrationCountsFor(i: Integration, ctx: { senderCbe: string; sector: number }): boolean {
  return i.sector === ctx.sector && (i.institutionCbe === null || i.institutionCbe === ctx.senderCbe);
}

/** The matching integration with the earliest (startDate, qualityCode), so answers are deterministic. */
export function findIntegration(
  integrations: readonly Integration[],
  ctx: FinalityContext,
  period: { from: string; to: string },
): Integration | undefined {
  let best: Integration | undefined;
  for (const i of integrations) {
    const matches = integrationCountsFor(i, ctx) && ctx.allowedQualityCodes.includes(i.qualityCode) && overlaps(i.startDate, i.endDate, period.from, period.to);
    if (!matches) continue;
    if (best === undefined || i.startDate < best.startDate || (i.startDate === best.startDate && i.qualityCode < best.qualityCode)) {
      best = i;
    }
  }
  return best;
}

/** '1', '01' and '001' are the same code (contract §8). Throws on anything but digits. */
export function normalizeCode(s: string): number {
  if (!/^\d+$/.test(s)) throw new RangeError(`code must be digits only: "${s}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new RangeError(`code is too large: "${s}"`);
  return n;
}
