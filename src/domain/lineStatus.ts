// The per-line check order of contract §4, first failure wins:
// MSG00011 → MSG00005 → MSG00006 → MSG00008 → MSG00012 → (caller) MSG00100 / MSG00000.
import type { Person, RequestPeriod, ServiceName } from '../interfaces.js';
import { checkPeriod, type PeriodCheck } from './period.js';
import { isValidSsin, yearOf } from './ssin.js';

export type LineRejectCode = 'MSG00011' | 'MSG00005' | 'MSG00006' | 'MSG00008' | 'MSG00012';

export type LineDecision = { code: LineRejectCode; newSsin?: string; reason: string } | { code: 'CONTINUE' };

export interface LineInput {
  ssin: string;
  period: RequestPeriod;
  service: ServiceName;
  referenceDate: string;
  /** The register entry; undefined = unknown SSIN. */
  person: Person | undefined;
  /** Whether findIntegration matched (computed by the caller, which holds the repertory). */
  integrationFound: boolean;
  /**
   * What isValidSsin and checkPeriod answer for this line, when the caller has them already (the
   * hot path computes them once per line and memoizes the period check): the same functions,
   * not a second copy of the rules.
   */
  ssinValid?: boolean;
  periodCheck?: PeriodCheck;
}

// Shared, frozen answers: a million lines need not make a million equal objects.
const BAD_SSIN: LineDecision = Object.freeze({ code: 'MSG00011', reason: 'SSIN check digits are wrong' });
const UNKNOWN: LineDecision = Object.freeze({ code: 'MSG00005', reason: 'SSIN unknown to the register' });
const NO_INTEGRATION: LineDecision = Object.freeze({ code: 'MSG00012', reason: 'no integration of the sender covers this SSIN and period' });
const CONTINUE: LineDecision = Object.freeze({ code: 'CONTINUE' });

export function decideLine(input: LineInput): LineDecision {
  if (!(input.ssinValid ?? isValidSsin(input.ssin, yearOf(input.referenceDate)))) return BAD_SSIN;
  if (input.person === undefined) return UNKNOWN;
  if (input.person.replacedBy !== null && input.person.replacedBy !== '') {
    return { code: 'MSG00006', newSsin: input.person.replacedBy, reason: 'SSIN was replaced' };
  }
  const period = input.periodCheck ?? checkPeriod(input.period, input.service, input.referenceDate);
  if (!period.ok) return { code: 'MSG00008', reason: period.reason };
  if (!input.integrationFound) return NO_INTEGRATION;
  return CONTINUE;
}
