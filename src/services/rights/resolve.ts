// Resolves LivingWages lines (contract §6): per chunk of lines, three lookups (register, the
// sender's integrations, the rights history of the chunk's SSINs), then pure rules decide each
// line. Same code order, finality rule and audit entries as LivingWagesWithAmount; never amounts.
import { KEYS_PER_QUERY } from '../../store/db.js';
import { lookupRegister } from '../../store/lookupRegister.js';
import { lookupRightVersions } from '../../store/rights.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import { periodBounds } from '../../domain/period.js';
import { findIntegration, type FinalityContext } from '../../domain/finality.js';
import { decideLine, type LineDecision } from '../../domain/lineStatus.js';
import type { Integration, ProfiledResponseLine, RequestLine, RequestPeriod } from '../../interfaces.js';
import { recordAudit, type AuditEntry } from '../../audit/record.js';
import { rightsInRange, rightsLineProblem } from './rules.js';
import type { ServiceContext } from '../context.js';

export type RightsResolveContext = ServiceContext;

export async function* resolveRights(lines: AsyncIterable<readonly RequestLine[]>, ctx: RightsResolveContext): AsyncGenerator<ProfiledResponseLine[]> {
  const finality: FinalityContext = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
    const ssins = chunk.filter((l) => isValidSsin(l.ssin, yearOf(ctx.referenceDate))).map((l) => l.ssin);
    const [{ persons, integrations }, rights] = await Promise.all([lookupRegister(ctx.db, { institutionCbe: ctx.client.cbeNumber, sector: ctx.client.sector }, ssins), lookupRightVersions(ctx.db, ssins)]);
    const out: ProfiledResponseLine[] = [];
    const entries: AuditEntry[] = [];
    for (const line of chunk) {
      const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
      const integration = findFor(integrations.get(line.ssin) ?? [], finality, line.period);
      let decision: LineDecision = decideLine({
        ssin: line.ssin,
        period: line.period,
        service: 'LivingWages',
        referenceDate: ctx.referenceDate,
        person: persons.get(line.ssin),
        integrationFound: integration !== undefined,
      });
      // A Role on the line is invalid data: MSG00008, at MSG00008's place (before MSG00012).
      const problem = rightsLineProblem(line);
      if (problem !== null && (decision.code === 'CONTINUE' || decision.code === 'MSG00012')) decision = { code: 'MSG00008', reason: problem };
      let answered: ProfiledResponseLine;
      if (decision.code !== 'CONTINUE') {
        answered = { ...base, status: decision.code, newSsin: decision.newSsin };
      } else {
        // decideLine returned CONTINUE, so the period is a valid 'dates' range.
        const found = rightsInRange(rights.get(line.ssin) ?? [], periodBounds(line.period));
        answered = found.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', rights: found };
      }
      out.push(answered);
      if (ctx.audit && isValidSsin(line.ssin, yearOf(ctx.referenceDate))) {
        entries.push({
          batchId: ctx.audit.batchId,
          seq: line.seq,
          clientId: ctx.client.clientId,
          service: 'LivingWages',
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
    if (ctx.audit) await recordAudit(ctx.db, entries, ctx.audit.fence);
    yield out;
  }
}

/** A period that cannot be bounded (a date that does not exist) has no integration; decideLine reports MSG00008 first. */
function findFor(list: Integration[], finality: FinalityContext, period: RequestPeriod): Integration | undefined {
  if (list.length === 0) return undefined;
  try {
    return findIntegration(list, finality, periodBounds(period));
  } catch {
    return undefined;
  }
}
