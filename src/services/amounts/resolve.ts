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
import type { AmountRow, Authorization, Client, Integration, ProfiledResponseLine, RequestLine, RequestPeriod, ResponseLine } from '../../interfaces.js';
import { applyFieldProfile, periodKindAllowed } from './profile.js';
import { recordAudit, type AuditEntry } from '../../audit/record.js';

type FinalityContext = { senderCbe: string; sector: number; allowedQualityCodes: number[] };

export interface ResolveContext {
  db: Db;
  client: Client;
  authorization: Authorization;
  referenceDate: string;
  /** When set, every line with a valid SSIN is logged (logging principle) before it is yielded. */
  audit?: { batchId: number; consultedAt: string };
}

export async function* resolveAmounts(lines: AsyncIterable<RequestLine>, ctx: ResolveContext): AsyncGenerator<ProfiledResponseLine> {
  const finality = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  const fields = ctx.authorization.fields;
  for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
    const valid = chunk.filter((l) => isValidSsin(l.ssin));
    const ssins = valid.map((l) => l.ssin);
    const [persons, integrations, asBeneficiary, asPartner] = await Promise.all([
      lookupPersons(ctx.db, ssins),
      lookupIntegrations(ctx.db, ctx.client.cbeNumber, ssins),
      lookupAmounts(ctx.db, 'BENEFICIARY', valid.filter((l) => l.role !== 'PARTNER').map((l) => l.ssin)),
      lookupAmounts(ctx.db, 'PARTNER', valid.filter((l) => l.role === 'PARTNER').map((l) => l.ssin)),
    ]);
    const out: ProfiledResponseLine[] = [];
    const entries: AuditEntry[] = [];
    for (const line of chunk) {
      const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
      const integration = findFor(integrations.get(line.ssin) ?? [], finality, line.period);
      let decision = decideLine({
        ssin: line.ssin,
        period: line.period,
        service: 'LivingWagesWithAmount',
        referenceDate: ctx.referenceDate,
        person: persons.get(line.ssin),
        integrationFound: integration !== undefined,
      });
      // Proportionality: a period kind outside the client's profile is a wrong period kind (MSG00008),
      // checked at MSG00008's place in the §4 order.
      if (!periodKindAllowed(line.period.kind, fields) && (decision.code === 'CONTINUE' || decision.code === 'MSG00012')) {
        decision = { code: 'MSG00008', reason: 'the authorization does not include this period kind' };
      }
      const answered: ProfiledResponseLine =
        decision.code !== 'CONTINUE'
          ? { ...base, status: decision.code, newSsin: decision.newSsin }
          : applyFieldProfile(answer(base, line, (line.role === 'PARTNER' ? asPartner : asBeneficiary).get(line.ssin) ?? [], ctx.referenceDate), fields);
      out.push(answered);
      if (ctx.audit && isValidSsin(line.ssin)) {
        entries.push({
          batchId: ctx.audit.batchId,
          seq: line.seq,
          clientId: ctx.client.clientId,
          service: 'LivingWagesWithAmount',
          legalContext: ctx.authorization.legalContext,
          deliberation: ctx.authorization.deliberation,
          ssin: line.ssin,
          qualityCode: decision.code === 'CONTINUE' ? (integration?.qualityCode ?? null) : null,
          statusCode: answered.status,
          consultedAt: ctx.audit.consultedAt,
        });
      }
    }
    // The log is stored before any of these lines can reach a response.
    if (ctx.audit) await recordAudit(ctx.db, entries);
    yield* out;
  }
}

/** A period that cannot be bounded (month 13…) has no integration; decideLine reports MSG00008 first. */
function findFor(list: Integration[], finality: FinalityContext, period: RequestPeriod): Integration | undefined {
  if (list.length === 0) return undefined;
  try {
    return findIntegration(list, finality, periodBounds(period));
  } catch {
    return undefined;
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
