// Finality (contract §5): the sender may see a person's data only through an integration in the
// repertory that matches its institution, sector and allowed quality codes and overlaps the period.
import type { Integration } from '../interfaces.js';
import { overlaps } from './period.js';

export interface FinalityContext {
  senderCbe: string;
  sector: number;
  allowedQualityCodes: number[];
}

/** The matching integration with the earliest (startDate, qualityCode), so answers are deterministic. */
export function findIntegration(
  integrations: Integration[],
  ctx: FinalityContext,
  period: { from: string; to: string },
): Integration | undefined {
  let best: Integration | undefined;
  for (const i of integrations) {
    const matches =
      i.institutionCbe === ctx.senderCbe &&
      i.sector === ctx.sector &&
      ctx.allowedQualityCodes.includes(i.qualityCode) &&
      overlaps(i.startDate, i.endDate, period.from, period.to);
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
