// Resolves LivingWagesWithAmount lines: per chunk of lines, the register and the sender's
// integrations are looked up, the pure rules decide each line, then the amounts of the lines
// that go on are looked up (only the months each line needs: see lookupAmountRanges).
//
// Throughput: chunks are looked up ahead, on two SQLite connections (each runs in its own
// thread), while the previous one is being written; audit entries are stored in big batches
// (AuditSink, a third connection) that are all written before the last line is handed over.
import type { Db } from '../../store/db.js';
import { KEYS_PER_QUERY, SQLITE_LINES_PER_CHUNK, isSqlite, siblingConnection } from '../../store/db.js';
import { lookupRegister } from '../../store/lookupRegister.js';
import { lookupAmountRanges, type AmountRange } from '../../store/lookupAmounts.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import { periodBounds } from '../../domain/period.js';
import { findIntegration, type FinalityContext } from '../../domain/finality.js';
import { decideLine } from '../../domain/lineStatus.js';
import { aggregateMonths, aggregateYear } from '../../domain/aggregate.js';
import { isVisible } from '../../domain/visibility.js';
import { addMonths, lastDayOfMonth } from '../../domain/dates.js';
import type { AmountRow, Authorization, Client, Integration, Person, ProfiledResponseLine, Role, RequestLine, RequestPeriod, ResponseLine, StatusCode } from '../../interfaces.js';
import { applyFieldProfile, periodKindAllowed } from './profile.js';
import { AuditSink } from '../../audit/record.js';
import { addTiming, timing } from '../../pipeline/timings.js';
import type { ReadModel } from '../../readmodel/model.js';


export interface ResolveContext {
  db: Db;
  client: Client;
  authorization: Authorization;
  referenceDate: string;
  /** When set, every line with a valid SSIN is logged (logging principle) before the response is signed. */
  audit?: { batchId: number; consultedAt: string };
  /**
   * The read model of the store version the batch reads (readmodel/): persons, repertory and
   * amounts come from it instead of the store's indexes. The rules below are the same either way.
   */
  readModel?: ReadModel;
}

/** One resolved chunk: its answers, and the audit facts of its lines with a valid SSIN. */
interface Resolved {
  out: ProfiledResponseLine[];
  audit: { seq: number; ssin: string; qualityCode: number | null; status: StatusCode }[];
}

export async function* resolveAmounts(lines: AsyncIterable<RequestLine>, ctx: ResolveContext): AsyncGenerator<ProfiledResponseLine> {
  const size = isSqlite(ctx.db) ? SQLITE_LINES_PER_CHUNK : KEYS_PER_QUERY;
  const chunks = chunked(lines, size)[Symbol.asyncIterator]();
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
  const threshold = visibleBefore(ctx.referenceDate);
  // Lookups alternate between the store's connection and a second one to the same file: SQLite
  // runs each connection in its own thread, so two chunks are looked up at the same time.
  // (The second one is opened with the second chunk: a small file does not need it.)
  const connections = isSqlite(ctx.db) && ctx.readModel === undefined ? 2 : 1;
  let second: ReturnType<typeof siblingConnection> | undefined;
  let started = 0;
  const queue: Promise<Resolved | undefined>[] = [];
  const startNext = (): void => {
    const odd = started++ % connections === 1;
    const p = chunks.next().then((r) => {
      if (r.done) return undefined;
      const db = odd ? (second ??= siblingConnection(ctx.db)).db : ctx.db;
      return resolveChunk(r.value, { ...ctx, db }, threshold);
    });
    p.catch(() => undefined); // awaited in its turn; this only marks it handled
    queue.push(p);
  };
  try {
    // Chunks are read and looked up ahead (one per connection) while this one is audited and written.
    for (let i = 0; i < connections; i++) startNext();
    for (;;) {
      const current = await queue.shift();
      if (current === undefined) break;
      startNext();
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
      yield* current.out;
    }
    // Every entry is stored before the writer gets past the last line (and so before it signs).
    const t0 = timing() ? performance.now() : 0;
    await audit?.close();
    if (t0 !== 0) addTiming('auditWait', performance.now() - t0);
  } finally {
    for (const p of queue) await p.catch(() => undefined);
    await chunks.return?.(undefined);
    await audit?.settle(); // no write may land after the caller has moved on (e.g. to forget them)
    await second?.release();
  }
}

async function resolveChunk(chunk: RequestLine[], ctx: ResolveContext, threshold: string | undefined): Promise<Resolved> {
  const finality = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  const fields = ctx.authorization.fields;
  const validity = chunk.map((l) => isValidSsin(l.ssin, yearOf(ctx.referenceDate)));
  const ssins = chunk.filter((_, i) => validity[i]).map((l) => l.ssin);
  const t0 = timing() ? performance.now() : 0;
  const holder = { institutionCbe: ctx.client.cbeNumber, sector: ctx.client.sector };
  const { persons, integrations } = ctx.readModel ? registerFromModel(ctx.readModel, holder, ssins) : await lookupRegister(ctx.db, holder, ssins);
  const t1 = t0 !== 0 ? performance.now() : 0;

  const out: ProfiledResponseLine[] = new Array(chunk.length);
  const auditFacts: Resolved['audit'] = [];
  const qualityCodes: (number | null)[] = new Array(chunk.length).fill(null);
  // Lines that go on to their amounts, per role: index in the chunk, and what they need.
  const pending = { BENEFICIARY: { at: [] as number[], ranges: [] as AmountRange[] }, PARTNER: { at: [] as number[], ranges: [] as AmountRange[] } };
  chunk.forEach((line, i) => {
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
    if (decision.code !== 'CONTINUE') {
      out[i] = { seq: line.seq, ticket: line.ticket, ssin: line.ssin, status: decision.code, newSsin: decision.newSsin };
      return;
    }
    qualityCodes[i] = integration?.qualityCode ?? null;
    const range = amountRange(line);
    if (range === undefined) {
      out[i] = answer(line, [], ctx.referenceDate, fields); // a period kind without amounts: MSG00008 below
      return;
    }
    const p = pending[line.role === 'PARTNER' ? 'PARTNER' : 'BENEFICIARY'];
    p.at.push(i);
    p.ranges.push(range);
  });
  const t2 = t0 !== 0 ? performance.now() : 0;
  const model = ctx.readModel;
  const [beneficiaryRows, partnerRows] = model
    ? [rangesFromModel(model, 'BENEFICIARY', pending.BENEFICIARY.ranges, ctx.referenceDate), rangesFromModel(model, 'PARTNER', pending.PARTNER.ranges, ctx.referenceDate)]
    : await Promise.all([
        lookupAmountRanges(ctx.db, 'BENEFICIARY', pending.BENEFICIARY.ranges, threshold),
        lookupAmountRanges(ctx.db, 'PARTNER', pending.PARTNER.ranges, threshold),
      ]);
  const t3 = t0 !== 0 ? performance.now() : 0;
  pending.BENEFICIARY.at.forEach((i, k) => {
    out[i] = answer(chunk[i], beneficiaryRows[k], ctx.referenceDate, fields);
  });
  pending.PARTNER.at.forEach((i, k) => {
    out[i] = answer(chunk[i], partnerRows[k], ctx.referenceDate, fields);
  });
  if (ctx.audit) {
    chunk.forEach((line, i) => {
      if (validity[i]) auditFacts.push({ seq: line.seq, ssin: line.ssin, qualityCode: qualityCodes[i], status: out[i].status });
    });
  }
  if (t0 !== 0) {
    addTiming('lookups', t1 - t0 + (t3 - t2));
    addTiming('rules', t2 - t1 + (performance.now() - t3));
  }
  return { out, audit: auditFacts };
}

/**
 * The first payment day that is not visible yet on the reference date: a payment is visible
 * exactly when it was made before this day (contract §5: visibility starts on a day fixed by the
 * payment's month, later for a later month). Found with the rule itself (isVisible) and checked:
 * undefined when the rule does not have that shape, and lookups then do without it.
 */
export function visibleBefore(referenceDate: string): string | undefined {
  const refMonth = referenceDate.slice(0, 7);
  // the first month, from a year before the reference month on, whose payments are not visible
  for (let k = -12; k <= 2; k++) {
    const month = addMonths(refMonth, k);
    if (isVisible(`${month}-01`, referenceDate)) continue;
    const previous = addMonths(month, -1);
    const shaped =
      k > -12 &&
      isVisible(lastDayOfMonth(previous), referenceDate) &&
      !isVisible(lastDayOfMonth(month), referenceDate) &&
      !isVisible(`${addMonths(month, 1)}-01`, referenceDate);
    return shaped ? `${month}-01` : undefined;
  }
  return undefined;
}

/** What lookupRegister answers, from the read model. */
function registerFromModel(model: ReadModel, holder: { institutionCbe: string; sector: number }, ssins: readonly string[]): { persons: Map<string, Person>; integrations: Map<string, Integration[]> } {
  const persons = new Map<string, Person>();
  const integrations = new Map<string, Integration[]>();
  for (const ssin of ssins) {
    const p = model.personIndex(ssin);
    if (p < 0) continue;
    persons.set(ssin, model.person(p));
    const list = model.integrations(p, holder.institutionCbe, holder.sector);
    if (list.length > 0) integrations.set(ssin, list);
  }
  return { persons, integrations };
}

/**
 * What lookupAmountRanges answers, from the read model: the rows of each range's months and, with
 * `after`, the first visible row after them (see lookupAmountRanges for why that is enough).
 */
function rangesFromModel(model: ReadModel, role: Role, ranges: readonly AmountRange[], referenceDate: string): AmountRow[][] {
  const visible = (paidOn: string): boolean => isVisible(paidOn, referenceDate);
  return ranges.map((r) => model.amountRows(r.ssin, role, r.from, r.to, r.after ? visible : undefined));
}

/** The months of amounts a line that goes on needs (undefined: none, its kind has no amounts). */
function amountRange(line: RequestLine): AmountRange | undefined {
  const p = line.period;
  if (p.kind === 'year') {
    // aggregateYear takes the rows whose month starts with "YYYY-".
    const y = String(p.year).padStart(4, '0');
    return { ssin: line.ssin, from: `${y}-`, to: `${y}-\uffff`, after: false };
  }
  if (p.kind === 'months') return { ssin: line.ssin, from: p.from, to: p.to, after: true };
  return undefined;
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

function answer(line: RequestLine, rows: AmountRow[], referenceDate: string, fields: readonly string[]): ProfiledResponseLine {
  const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
  const role = line.role ?? 'BENEFICIARY';
  let answered: ResponseLine;
  if (line.period.kind === 'year') {
    const totals = aggregateYear(rows, role, line.period.year, referenceDate);
    answered = totals.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', year: { year: line.period.year, totals } };
  } else if (line.period.kind === 'months') {
    const months = aggregateMonths(rows, role, line.period.from, line.period.to, referenceDate);
    answered = months.entries.length === 0 ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', months };
  } else {
    // decideLine already answers MSG00008 for a period kind the service does not take.
    answered = { ...base, status: 'MSG00008' };
  }
  return applyFieldProfile(answered, fields);
}
