// Resolves LivingWagesWithAmount lines from the read model of the store version the batch reads
// (readmodel/): per line, a binary search for the person, the sender's integrations from the
// person's slice of the repertory, and the person's amount records put into reused columns
// (domain/aggregate.ts AmountColumns) on which the rules run — no object per amount row — and the
// answer encoded from the rules' columns (AnswerGroups) into EncodedLines: no object per answer.
// Lines are handled in chunks so that audit entries are stored in big batches (AuditSink) that are
// all written before the last line is handed over.
//
// The store's own indexes are not read for amounts any more: the read model is the one path (the
// store stays the system of record and the model is built from it; README "The read model").
import { KEYS_PER_QUERY } from '../../store/db.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import { checkPeriod, periodBounds, type PeriodCheck } from '../../domain/period.js';
import { findIntegration, type FinalityContext } from '../../domain/finality.js';
import { decideLine } from '../../domain/lineStatus.js';
import { amountColumns, answerGroups, monthGroups, visibleAt, yearGroups } from '../../domain/aggregate.js';
import type { Integration, Person, RequestLine, RequestPeriod, StatusCode } from '../../interfaces.js';
import { amountAttrMask, periodKindAllowed } from './profile.js';
import { EncodedLines } from '../../response/lineBytes.js';
import { AuditSink } from '../../audit/record.js';
import { addTiming, timing } from '../../pipeline/timings.js';
import { Staging, type ReadModel } from '../../readmodel/model.js';
import { ssinKey } from '../../readmodel/layout.js';
import { LdmError } from '../../errors.js';
import type { ServiceContext } from '../context.js';

export type ResolveContext = ServiceContext;

/**
 * Lines whose persons are looked up, and whose amount records and repertory rows are read ahead,
 * together: with them on disk, a group's reads follow the file (ReadModel.stage) instead of one
 * positioned read per line. About 7 MB of staged amount records at ~14 rows a person. On a store
 * whose persons are few for the batch (the bench's 206k persons for a million lines), each group's
 * windows cover most of the amounts section, so fewer groups read less: 16,384 lines read 5.7 GB
 * from the page cache per million lines where 8,192 read 8.7 GB; national store: 10.4 s and 240 MB
 * against 11.1 s and 230 MB (8,192 was chosen when the 256 MB bound was tight there; with
 * libxml2-wasm out of the common path it has room again; README "Benchmark").
 */
export const STAGE_LINES = 16_384;

/**
 * One resolved chunk: its answers, encoded (with each line's seq and status), and per line the
 * audit facts: whether its SSIN is valid (such lines are audited) and the integration's quality
 * code (-1: none, the line stopped before it). All belong to the resolver and are reused for its
 * next chunk.
 */
interface Resolved {
  out: EncodedLines;
  valid: Uint8Array;
  quality: Int32Array;
  /** The group's SSINs as numbers (ssinKey; -1: not 11 digits): the chunk's line i is at+i. */
  keys: Float64Array;
}

/**
 * The answers, a chunk at a time, as encoded `<Response>` elements (EncodedLines): each is reused
 * for the next chunk, so the consumer copies what it keeps before asking for more (the writer does).
 */
export async function* resolveAmounts(lines: AsyncIterable<readonly RequestLine[]>, ctx: ResolveContext): AsyncGenerator<EncodedLines> {
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
      }, { fence: ctx.audit.fence })
    : undefined;
  const resolver = chunkResolver(model, ctx);
  let resolved = 0;
  try {
    // A group's persons are looked up, and their amount records read ahead, at once (stage); its
    // lines are then answered and handed over in chunks.
    for await (const group of chunked(lines, STAGE_LINES)) {
      resolver.stage(group);
      for (let at = 0; at < group.length; at += KEYS_PER_QUERY) {
        const chunk = group.length <= KEYS_PER_QUERY ? group : group.slice(at, at + KEYS_PER_QUERY);
        const current = resolver.resolve(chunk, at);
        if (audit) {
          for (let i = 0; i < chunk.length; i++) {
            if (current.valid[i] === 0) continue;
            const q = current.quality[i];
            const due = audit.addKey(chunk[i].seq, current.keys[at + i], q < 0 ? null : q, current.out.status[i]);
            if (due) {
              const t0 = timing() ? performance.now() : 0;
              await due;
              if (t0 !== 0) addTiming('auditWait', performance.now() - t0);
            }
          }
          resolved += chunk.length;
          // near the end, the audit's last part is written while the last lines are answered
          if (ctx.readProgress) audit.ahead(ctx.readProgress.remainingAfter(resolved));
        }
        yield current.out;
      }
    }
    // Every entry is stored before the writer gets past the last line (and so before it signs).
    const t0 = timing() ? performance.now() : 0;
    await audit?.close();
    if (t0 !== 0) addTiming('auditWait', performance.now() - t0);
  } finally {
    await audit?.settle(); // no write may land after the caller has moved on (e.g. to forget them)
  }
}

/** What the rules say of one request period: the same for every line that asks for it. */
interface PeriodFacts {
  check: PeriodCheck;
  /** periodBounds, or undefined for a period that cannot be bounded (month 13…): no integration then. */
  bounds: { from: string; to: string } | undefined;
  /** The amount rows' month range the line reads (amountColumns' from/to). */
  from: string;
  to: string;
}

/**
 * checkPeriod and periodBounds per distinct period of a batch (a batch asks for a few years and
 * month ranges, a million times): pure functions, so their answers are kept, not recomputed. Kept
 * per period object: the request reader gives every line that asks for the same period the same
 * object (batch/fastReader.ts, Periods), so a batch's periods are a few entries. At most 4,096:
 * a hostile mix of periods, or a caller's fresh objects, costs recomputing, not memory.
 */
class PeriodMemo {
  private readonly known = new Map<RequestPeriod, PeriodFacts>();
  constructor(private readonly referenceDate: string) {}

  of(period: RequestPeriod): PeriodFacts {
    let f = this.known.get(period);
    if (f === undefined) {
      if (this.known.size >= 4096) this.known.clear();
      this.known.set(period, (f = this.compute(period)));
    }
    return f;
  }

  private compute(period: RequestPeriod): PeriodFacts {
    let bounds: PeriodFacts['bounds'];
    try {
      bounds = periodBounds(period);
    } catch {
      bounds = undefined;
    }
    const check = checkPeriod(period, 'LivingWagesWithAmount', this.referenceDate);
    if (period.kind === 'year') {
      const y = String(period.year).padStart(4, '0');
      return { check, bounds, from: `${y}-`, to: `${y}-\uffff` };
    }
    return { check, bounds, from: period.from, to: period.to };
  }
}

/**
 * Answers chunks of lines from the model. The columns, the person, the integrations and the audit
 * arrays are this resolver's own, reused from line to line and chunk to chunk (never shared with
 * another batch's resolver, which may run between two chunks of this one).
 */
function chunkResolver(model: ReadModel, ctx: ResolveContext): { stage(group: readonly RequestLine[]): void; resolve(chunk: readonly RequestLine[], at: number): Resolved } {
  const finality: FinalityContext = { senderCbe: ctx.client.cbeNumber, sector: ctx.client.sector, allowedQualityCodes: ctx.authorization.qualityCodes };
  const fields = ctx.authorization.fields;
  const attrs = amountAttrMask(fields);
  const referenceDate = ctx.referenceDate;
  const refYear = yearOf(referenceDate);
  const cols = amountColumns(model.strings);
  const visible = (paidOn: number): boolean => visibleAt(model.strings, paidOn, referenceDate);
  const periods = new PeriodMemo(referenceDate);
  const person: Person = { ssin: '', replacedBy: null };
  const integrations: Integration[] = [];
  let valid = new Uint8Array(KEYS_PER_QUERY);
  let quality = new Int32Array(KEYS_PER_QUERY);
  /** The current group's person indexes (-1: not in the model), and their staged amount records. */
  let persons = new Int32Array(STAGE_LINES);
  let keys = new Float64Array(STAGE_LINES);
  /** 1 for the group's PARTNER lines (their records are those that name the person). */
  let partnerLines = new Uint8Array(STAGE_LINES);
  const staging = new Staging();
  const groups = answerGroups();
  const enc = new EncodedLines();

  /** A line answered with a status and no data. */
  const statusOnly = (line: RequestLine, code: StatusCode, newSsin?: string): void => {
    enc.responseStart(line.seq, line.ticket, line.ssin, code, newSsin);
    enc.responseEnd();
  };

  /** Line i of the chunk (line at+i of the group): its answer into `enc`, and its audit facts into valid[i] and quality[i]. */
  const resolveLine = (line: RequestLine, i: number, at: number): void => {
    const ssinValid = isValidSsin(line.ssin, refYear);
    valid[i] = ssinValid ? 1 : 0;
    quality[i] = -1;
    const p = ssinValid ? persons[at + i] : -1;
    if (p >= 0) {
      person.ssin = line.ssin;
      person.replacedBy = model.replacedByOf(p);
    }
    const facts = periods.of(line.period);
    let integration: Integration | undefined;
    if (p >= 0 && facts.bounds !== undefined && model.integrationsInto(integrations, p, line.ssin, finality.senderCbe, finality.sector, staging) > 0) {
      integration = findIntegration(integrations, finality, facts.bounds);
    }
    let decision = decideLine({
      ssin: line.ssin,
      period: line.period,
      service: 'LivingWagesWithAmount',
      referenceDate,
      person: p >= 0 ? person : undefined,
      integrationFound: integration !== undefined,
      ssinValid,
      periodCheck: facts.check,
    });
    // Proportionality: a period kind outside the client's profile is a wrong period kind (MSG00008),
    // checked at MSG00008's place in the §4 order.
    if (!periodKindAllowed(line.period.kind, fields) && (decision.code === 'CONTINUE' || decision.code === 'MSG00012')) {
      decision = { code: 'MSG00008', reason: 'the authorization does not include this period kind' };
    }
    if (decision.code !== 'CONTINUE') return statusOnly(line, decision.code, decision.newSsin);
    quality[i] = integration?.qualityCode ?? -1;
    const role = line.role === 'PARTNER' ? 'PARTNER' : 'BENEFICIARY';
    // Only the rows a line needs (see amountColumns): a year's months; a month range and, for
    // lastMonthIsLastPaid, the first visible row after it.
    const partnerLine = role === 'PARTNER';
    if (line.period.kind === 'year') {
      model.amountColumns(cols, line.ssin, role, facts.from, facts.to, undefined, p, staging);
      yearGroups(cols, role, line.period.year, referenceDate, groups);
      if (groups.count === 0) return statusOnly(line, 'MSG00100');
      enc.responseStart(line.seq, line.ticket, line.ssin, 'MSG00000', undefined);
      enc.yearAnswer(line.period.year, groups, cols.strings, partnerLine, attrs);
    } else if (line.period.kind === 'months') {
      model.amountColumns(cols, line.ssin, role, facts.from, facts.to, visible, p, staging);
      monthGroups(cols, role, line.period.from, line.period.to, referenceDate, groups);
      if (groups.count === 0) return statusOnly(line, 'MSG00100');
      enc.responseStart(line.seq, line.ticket, line.ssin, 'MSG00000', undefined);
      enc.monthsAnswer(groups, cols.strings, partnerLine, attrs);
    } else {
      // decideLine already answers MSG00008 for a period kind the service does not take.
      return statusOnly(line, 'MSG00008');
    }
    enc.responseEnd();
  };

  return {
    stage(group) {
      const t0 = timing() ? performance.now() : 0;
      if (persons.length < group.length) {
        persons = new Int32Array(group.length);
        keys = new Float64Array(group.length);
        partnerLines = new Uint8Array(group.length);
      }
      for (let i = 0; i < group.length; i++) {
        keys[i] = ssinKey(group[i].ssin) ?? -1;
        partnerLines[i] = group[i].role === 'PARTNER' ? 1 : 0;
      }
      model.personIndexesOfKeys(keys, group.length, persons);
      model.stage(staging, persons, group.length, partnerLines);
      if (t0 !== 0) addTiming('rules', performance.now() - t0);
    },
    resolve(chunk, at) {
      const t0 = timing() ? performance.now() : 0;
      if (valid.length < chunk.length) {
        valid = new Uint8Array(chunk.length);
        quality = new Int32Array(chunk.length);
      }
      enc.clear();
      for (let i = 0; i < chunk.length; i++) resolveLine(chunk[i], i, at);
      if (t0 !== 0) addTiming('rules', performance.now() - t0); // lookups in the model, the rules and the encoding, per line
      return { out: enc, valid, quality, keys };
    },
  };
}
