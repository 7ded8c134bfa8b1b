// Resolves LivingWagesWithAmount lines from the read model of the store version the batch reads
// (readmodel/): per line, a binary search for the person, the sender's integrations from the
// person's slice of the repertory, and the person's amount records put into reused columns
// (domain/aggregate.ts AmountColumns) on which the rules run — no object per amount row.
// Lines are handled in chunks so that audit entries are stored in big batches (AuditSink) that are
// all written before the last line is handed over.
//
// The store's own indexes are not read for amounts any more: the read model is the one path (the
// store stays the system of record and the model is built from it; README "The read model").
import { KEYS_PER_QUERY } from '../../store/db.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import { periodBounds } from '../../domain/period.js';
import { findIntegration, type FinalityContext } from '../../domain/finality.js';
import { decideLine } from '../../domain/lineStatus.js';
import { amountColumns, monthsOf, visibleAt, yearOf as yearTotals, type AmountColumns } from '../../domain/aggregate.js';
import type { Integration, ProfiledResponseLine, RequestLine, RequestPeriod, ResponseLine, StatusCode } from '../../interfaces.js';
import { applyFieldProfile, periodKindAllowed } from './profile.js';
import { AuditSink } from '../../audit/record.js';
import { addTiming, timing } from '../../pipeline/timings.js';
import type { ReadModel } from '../../readmodel/model.js';
import { LdmError } from '../../errors.js';
import type { ServiceContext } from '../context.js';

export type ResolveContext = ServiceContext;

/** One resolved chunk: its answers, and the audit facts of its lines with a valid SSIN. */
interface Resolved {
  out: ProfiledResponseLine[];
  audit: { seq: number; ssin: string; qualityCode: number | null; status: StatusCode }[];
}

export async function* resolveAmounts(lines: AsyncIterable<readonly RequestLine[]>, ctx: ResolveContext): AsyncGenerator<ProfiledResponseLine[]> {
  const model = ctx.readModel;
  if (model === undefined) throw new LdmError('READ_MODEL_MISSING', 'LivingWagesWithAmount batches are answered from the read model; none was given to the resolver');
  const audit = ctx.audit
    ? new AuditSink(ctx.db, {
        batchId: ctx.audit.batchId,
        clientId: ctx.client.clientId,
        service: 'LivingWagesWithAmount',
        legalContext: ctx.authorization.legalContext,
        deliberation: ctx.authorization.deliberation,
        consultedAt: ctx.audit.consultedAt,
      })
    : undefined;
  const line = lineResolver(model, ctx);
  try {
    for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
      const current = resolveChunk(chunk, ctx, line);
      if (audit) {
        for (const a of current.audit) {
          const due = audit.add(a.seq, a.ssin, a.qualityCode, a.status);
          if (due) {
            const t0 = timing() ? performance.now() : 0;
            await due;
            if (t0 !== 0) addTiming('auditWait', performance.now() - t0);
          }
        }
      }
      yield current.out;
    }
    // Every entry is stored before the writer gets past the last line (and so before it signs).
    const t0 = timing() ? performance.now() : 0;
    await audit?.close();
    if (t0 !== 0) addTiming('auditWait', performance.now() - t0);
  } finally {
    await audit?.settle(); // no write may land after the caller has moved on (e.g. to forget them)
  }
}

interface LineAnswer {
  out: ProfiledResponseLine;
  /** The integration's quality code, for the audit (null when the line stopped before it). */
  qualityCode: number | null;
  /** Whether the SSIN is valid (such lines are audited). */
  valid: boolean;
}

/** Answers one line from the model; the columns are reused from line to line. */
function lineResolver(model: ReadModel, ctx: ResolveContext): (line: RequestLine) => LineAnswer {
  const finality: FinalityContext = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  const fields = ctx.authorization.fields;
  const referenceDate = ctx.referenceDate;
  const refYear = yearOf(referenceDate);
  const cols = amountColumns(model.strings);
  const visible = (paidOn: number): boolean => visibleAt(model.strings, paidOn, referenceDate);
  return (line) => {
    const valid = isValidSsin(line.ssin, refYear);
    const p = valid ? model.personIndex(line.ssin) : -1;
    const person = p >= 0 ? model.person(p) : undefined;
    const integration = p >= 0 ? findFor(model.integrations(p, finality.senderCbe, finality.sector), finality, line.period) : undefined;
    let decision = decideLine({ ssin: line.ssin, period: line.period, service: 'LivingWagesWithAmount', referenceDate, person, integrationFound: integration !== undefined });
    // Proportionality: a period kind outside the client's profile is a wrong period kind (MSG00008),
    // checked at MSG00008's place in the §4 order.
    if (!periodKindAllowed(line.period.kind, fields) && (decision.code === 'CONTINUE' || decision.code === 'MSG00012')) {
      decision = { code: 'MSG00008', reason: 'the authorization does not include this period kind' };
    }
    if (decision.code !== 'CONTINUE') return { out: { seq: line.seq, ticket: line.ticket, ssin: line.ssin, status: decision.code, newSsin: decision.newSsin }, qualityCode: null, valid };
    const qualityCode = integration?.qualityCode ?? null;
    const role = line.role === 'PARTNER' ? 'PARTNER' : 'BENEFICIARY';
    const period = line.period;
    // Only the rows a line needs (see amountColumns): a year's months; a month range and, for
    // lastMonthIsLastPaid, the first visible row after it.
    if (period.kind === 'year') {
      const y = String(period.year).padStart(4, '0');
      model.amountColumns(cols, line.ssin, role, `${y}-`, `${y}-\uffff`, undefined);
    } else if (period.kind === 'months') {
      model.amountColumns(cols, line.ssin, role, period.from, period.to, visible);
    } else {
      cols.count = 0;
    }
    return { out: answer(line, cols, referenceDate, fields), qualityCode, valid };
  };
}

function resolveChunk(chunk: readonly RequestLine[], ctx: ResolveContext, resolveLine: (line: RequestLine) => LineAnswer): Resolved {
  const t0 = timing() ? performance.now() : 0;
  const out: ProfiledResponseLine[] = new Array(chunk.length);
  const audit: Resolved['audit'] = [];
  for (let i = 0; i < chunk.length; i++) {
    const line = chunk[i];
    const a = resolveLine(line);
    out[i] = a.out;
    if (ctx.audit && a.valid) audit.push({ seq: line.seq, ssin: line.ssin, qualityCode: a.qualityCode, status: a.out.status });
  }
  if (t0 !== 0) addTiming('rules', performance.now() - t0); // lookups in the model and the rules, per line
  return { out, audit };
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

function answer(line: RequestLine, rows: AmountColumns, referenceDate: string, fields: readonly string[]): ProfiledResponseLine {
  const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
  const role = line.role ?? 'BENEFICIARY';
  let answered: ResponseLine;
  if (line.period.kind === 'year') {
    const totals = yearTotals(rows, role, line.period.year, referenceDate);
    answered = totals.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', year: { year: line.period.year, totals } };
  } else if (line.period.kind === 'months') {
    const months = monthsOf(rows, role, line.period.from, line.period.to, referenceDate);
    answered = months.entries.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', months };
  } else {
    // decideLine already answers MSG00008 for a period kind the service does not take.
    answered = { ...base, status: 'MSG00008' };
  }
  return applyFieldProfile(answered, fields);
}
