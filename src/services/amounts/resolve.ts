// Resolves LivingWagesWithAmount lines: per chunk of lines, three lookups (register, the sender's
// integrations, amounts), then the pure rules decide each line.
import type { Db } from '../../store/db.js';
import { KEYS_PER_QUERY } from '../../store/db.js';
import { lookupPersons } from '../../store/lookupPersons.js';
import { lookupIntegrations } from '../../store/lookupIntegrations.js';
import { lookupAmounts } from '../../store/lookupAmounts.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin } from '../../domain/ssin.js';
import { periodBounds } from '../../domain/period.js';
import { findIntegration } from '../../domain/finality.js';
import { decideLine } from '../../domain/lineStatus.js';
import { aggregateMonths, aggregateYear } from '../../domain/aggregate.js';
import type { AmountRow, Authorization, Client, Integration, RequestLine, RequestPeriod, ResponseLine } from '../../interfaces.js';

type FinalityContext = { senderCbe: string; sector: number; allowedQualityCodes: number[] };

export interface ResolveContext {
  db: Db;
  client: Client;
  authorization: Authorization;
  referenceDate: string;
}

export async function* resolveAmounts(lines: AsyncIterable<RequestLine>, ctx: ResolveContext): AsyncGenerator<ResponseLine> {
  const finality = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
    const valid = chunk.filter((l) => isValidSsin(l.ssin)).map((l) => l.ssin);
    const [persons, integrations, asBeneficiary, asPartner] = await Promise.all([
      lookupPersons(ctx.db, valid),
      lookupIntegrations(ctx.db, ctx.client.cbeNumber, valid),
      lookupAmounts(ctx.db, 'BENEFICIARY', chunk.filter((l) => l.role !== 'PARTNER').map((l) => l.ssin)),
      lookupAmounts(ctx.db, 'PARTNER', chunk.filter((l) => l.role === 'PARTNER').map((l) => l.ssin)),
    ]);
    for (const line of chunk) {
      const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
      const decision = decideLine({
        ssin: line.ssin,
        period: line.period,
        service: 'LivingWagesWithAmount',
        referenceDate: ctx.referenceDate,
        person: persons.get(line.ssin),
        integrationFound: hasIntegration(integrations.get(line.ssin) ?? [], finality, line.period),
      });
      if (decision.code !== 'CONTINUE') {
        yield { ...base, status: decision.code, newSsin: decision.newSsin };
        continue;
      }
      const rows = (line.role === 'PARTNER' ? asPartner : asBeneficiary).get(line.ssin) ?? [];
      yield answer(base, line, rows, ctx.referenceDate);
    }
  }
}

/** A period that cannot be bounded (month 13…) has no integration; decideLine reports MSG00008 first. */
function hasIntegration(list: Integration[], finality: FinalityContext, period: RequestPeriod): boolean {
  if (list.length === 0) return false;
  try {
    return findIntegration(list, finality, periodBounds(period)) !== undefined;
  } catch {
    return false;
  }
}

function answer(base: Pick<ResponseLine, 'seq' | 'ticket' | 'ssin'>, line: RequestLine, rows: AmountRow[], referenceDate: string): ResponseLine {
  const role = line.role ?? 'BENEFICIARY';
  if (line.period.kind === 'year') {
    const totals = aggregateYear(rows, role, line.period.year, referenceDate);
    return totals.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', year: { year: line.period.year, totals } };
  }
  if (line.period.kind === 'months') {
    const months = aggregateMonths(rows, role, line.period.from, line.period.to, referenceDate);
    return months.entries.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', months };
  }
  // decideLine already answers MSG00008 for a period kind the service does not take.
  return { ...base, status: 'MSG00008' };
}
