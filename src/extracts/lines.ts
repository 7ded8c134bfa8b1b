// The lines of an extract (contract §6d): one per person the client may see under §5's finality
// rule for the year and who has visible amounts in it, carrying the Year answer of a BENEFICIARY
// line. Decided by the same functions as a request line — the §4 order (decideLine), finality
// (findIntegration), the yearly aggregation (yearOf, on the read model's compact rows) and the client's field profile —
// as if the client had sent `<Request><Ssin>…</Ssin><Role>BENEFICIARY</Role><Period><Year>Y</Year>`
// for every person of the register: a line that would be answered MSG00000 is in the extract,
// any other (MSG00011, MSG00005, MSG00006, MSG00012, MSG00100) is not.
import type { Authorization, ProfiledResponseLine, RequestPeriod } from '../interfaces.js';
import { decideLine } from '../domain/lineStatus.js';
import { findIntegration, type FinalityContext } from '../domain/finality.js';
import { periodBounds } from '../domain/period.js';
import { applyFieldProfile } from '../services/amounts/profile.js';
import type { ExtractHolder, PersonView } from './source.js';

export interface ExtractFacts {
  year: number;
  referenceDate: string;
  holder: ExtractHolder;
  authorization: Authorization;
}

export interface ExtractLine {
  /** The line without its seq (given by its place in the file). */
  line: Omit<ProfiledResponseLine, 'seq'>;
  /** The quality code of the integration that allowed it (for the audit entry). */
  qualityCode: number;
}

const finalityOf = (f: ExtractFacts): FinalityContext => ({ senderCbe: f.holder.cbeNumber, sector: f.holder.sector, allowedQualityCodes: f.authorization.qualityCodes });

/** The person's line in the extract, or undefined when the person is not in it. */
export function extractLine(view: PersonView, facts: ExtractFacts): ExtractLine | undefined {
  const period: RequestPeriod = { kind: 'year', year: facts.year };
  const integration = findIntegration(view.integrations(), finalityOf(facts), periodBounds(period));
  const ssin = view.person.ssin;
  const decision = decideLine({ ssin, period, service: 'LivingWagesWithAmount', referenceDate: facts.referenceDate, person: view.person, integrationFound: integration !== undefined });
  if (decision.code !== 'CONTINUE' || integration === undefined) return undefined;
  const totals = view.yearTotals(facts.year, facts.referenceDate);
  if (totals.length === 0) return undefined; // MSG00100: nothing visible that year
  const { seq: _seq, ...line } = applyFieldProfile({ seq: 1, ssin, status: 'MSG00000', year: { year: facts.year, totals } }, facts.authorization.fields);
  return { line, qualityCode: integration.qualityCode };
}

/**
 * The finality basis (a refusal when absent, EXTRACT_NO_FINALITY): at least one person of the
 * register for whom the client holds an integration that counts for it under §5 — its sector at
 * sector level or its own CBE, a quality code its authorization allows, overlapping the year.
 * Without one the client may see nobody's data for that year; with one, an extract is written
 * even when none of those persons has visible amounts (it then has no Response).
 */
export function hasFinalityBasis(persons: Iterable<PersonView>, facts: ExtractFacts): boolean {
  const bounds = periodBounds({ kind: 'year', year: facts.year });
  const finality = finalityOf(facts);
  for (const p of persons) if (findIntegration(p.integrations(), finality, bounds) !== undefined) return true;
  return false;
}
