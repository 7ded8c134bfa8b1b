// Store access of Handiservice, per chunk of SSINs: the provider's integrations (sector 16, any
// institution) and the four kinds of DG PMH data. One statement per table and chunk, each a seek
// per SSIN into an index that starts with ssin (repertory: its unique key).
import type { Db } from '../db.js';
import type { HandicapLegislation, HandicapPayment, HandicapRecognition, HandicapRecords, HandicapRight, Integration, RecognitionStatus, SocialCard } from '../../interfaces.js';
import { integrationsBySsin } from '../lookupIntegrations.js';
import { HANDICAP_PAYMENTS_TABLE, HANDICAP_RIGHTS_TABLE, RECOGNITIONS_TABLE, SOCIAL_CARDS_TABLE } from './migration.js';
import { PROVIDER_SECTOR } from '../../services/handiservice/rules.js';

type Row = Record<string, string | number | null>;

const str = (v: string | number | null): string => String(v);
const optStr = (v: string | number | null): string | null => (v === null ? null : String(v));
const optNum = (v: string | number | null): number | null => (v === null ? null : Number(v));
const optBool = (v: string | number | null): boolean | null => (v === null ? null : v === 'true');

export function toRecognition(r: Row): HandicapRecognition {
  return {
    recognitionId: str(r.recognition_id),
    ssin: str(r.ssin),
    // the import stores checked values only
    legislation: str(r.legislation) as HandicapLegislation,
    requestDate: str(r.request_date),
    status: str(r.status) as RecognitionStatus,
    decisionDate: optStr(r.decision_date),
    startDate: optStr(r.start_date),
    endDate: optStr(r.end_date),
    points: optNum(r.points),
    earningCapacityReduced: optBool(r.earning_capacity_reduced),
    lowerLimbs50: optBool(r.lower_limbs_50),
    fullBlindness: optBool(r.full_blindness),
    upperLimbsAmputated: optBool(r.upper_limbs_amputated),
    upperLimbsParalysed: optBool(r.upper_limbs_paralysed),
  };
}

export function toHandicapRight(r: Row): HandicapRight {
  return {
    rightId: str(r.right_id),
    ssin: str(r.ssin),
    legislation: str(r.legislation) as HandicapLegislation,
    category: str(r.category),
    startDate: str(r.start_date),
    endDate: optStr(r.end_date),
    monthlyAmountCents: optNum(r.monthly_amount_cents),
    partnerIncome: optBool(r.partner_income),
  };
}

export function toHandicapPayment(r: Row): HandicapPayment {
  return {
    ssin: str(r.ssin),
    month: str(r.month),
    legislation: str(r.legislation) as HandicapLegislation,
    amountCents: Number(r.amount_cents),
    suspendedCents: optNum(r.suspended_cents),
  };
}

export function toSocialCard(r: Row): SocialCard {
  return { cardNumber: str(r.card_number), ssin: str(r.ssin), type: str(r.type), deliveredOn: str(r.delivered_on), endDate: optStr(r.end_date) };
}

/** The sector-16 integrations (sector and institution level) of these SSINs, per SSIN. */
export function lookupProviderIntegrations(db: Db, ssins: readonly string[]): Promise<Map<string, Integration[]>> {
  return integrationsBySsin(db, ssins, (q) => {
    q.where('sector', PROVIDER_SECTOR);
  });
}

/** Everything stored for these SSINs (four statements), per SSIN; an SSIN without data has no entry. */
export async function lookupHandicapRecords(db: Db, ssins: readonly string[]): Promise<Map<string, HandicapRecords>> {
  const out = new Map<string, HandicapRecords>();
  if (ssins.length === 0) return out;
  const keys = [...new Set(ssins)];
  const of = (ssin: string): HandicapRecords => {
    let r = out.get(ssin);
    if (r === undefined) {
      r = { recognitions: [], rights: [], payments: [], cards: [] };
      out.set(ssin, r);
    }
    return r;
  };
  const [recognitions, rights, payments, cards] = (await Promise.all([
    db(RECOGNITIONS_TABLE).select('*').whereIn('ssin', keys),
    db(HANDICAP_RIGHTS_TABLE).select('*').whereIn('ssin', keys),
    db(HANDICAP_PAYMENTS_TABLE).select('*').whereIn('ssin', keys),
    db(SOCIAL_CARDS_TABLE).select('*').whereIn('ssin', keys),
  ])) as Row[][];
  for (const r of recognitions) of(str(r.ssin)).recognitions.push(toRecognition(r));
  for (const r of rights) of(str(r.ssin)).rights.push(toHandicapRight(r));
  for (const r of payments) of(str(r.ssin)).payments.push(toHandicapPayment(r));
  for (const r of cards) of(str(r.ssin)).cards.push(toSocialCard(r));
  return out;
}
