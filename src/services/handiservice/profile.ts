// Proportionality for Handiservice (contract §6c): an authorization's `fields` names the element
// kinds and attributes the client receives, or one of the profiles the project ships.
//
// Vocabulary:
//   Recognition Right Payment SocialCard      the element kinds (without one, none of that kind)
//   legislation requestDate status decisionDate from to points earningCapacityReduced lowerLimbs50
//   fullBlindness upperLimbsAmputated upperLimbsParalysed category monthlyAmountCents partnerIncome
//   amountCents suspendedCents type           attributes (a name counts for every kind that has it)
// Always written with their element: Recognition/@id, Right/@id, Payment/@month, SocialCard/@number
// (what the entry is). Named profiles: `handiservice:general` (everything: the general social
// inquiry, PCSA:SOCIAL_INQUIRY) and `handiservice:reopened` (a reopened inquiry,
// PCSA:SOCIAL_INQUIRY_REOPENED: no Payment; no status, decisionDate, requestDate or points).
// Empty `fields` = everything, as for every service. Unknown names grant nothing (fail closed);
// configuration and import refuse them up front (unknownHandiserviceFields).
import type { HandicapAnswer, HandicapAttrs } from '../../interfaces.js';
import type { Entry, HandicapData } from './rules.js';

export const HANDICAP_KINDS = ['Recognition', 'Right', 'Payment', 'SocialCard'] as const;
export type HandicapKind = (typeof HANDICAP_KINDS)[number];

/** Attributes of each kind, in the contract's order; the first one is the entry's identity (always written). */
export const HANDICAP_ATTRIBUTES: Readonly<Record<HandicapKind, readonly string[]>> = {
  Recognition: [
    'id',
    'legislation',
    'requestDate',
    'status',
    'decisionDate',
    'from',
    'to',
    'points',
    'earningCapacityReduced',
    'lowerLimbs50',
    'fullBlindness',
    'upperLimbsAmputated',
    'upperLimbsParalysed',
  ],
  Right: ['id', 'legislation', 'category', 'from', 'to', 'monthlyAmountCents', 'partnerIncome'],
  Payment: ['month', 'legislation', 'amountCents', 'suspendedCents'],
  SocialCard: ['number', 'type', 'from', 'to'],
};

const IDENTITY = new Set(['id', 'month', 'number']);

/** Every name a `fields` list may hold (besides the named profiles). */
export const HANDISERVICE_FIELDS: readonly string[] = [
  ...HANDICAP_KINDS,
  ...new Set(Object.values(HANDICAP_ATTRIBUTES).flatMap((a) => a.filter((n) => !IDENTITY.has(n)))),
];

const REOPENED_LEFT_OUT = new Set(['Payment', 'status', 'decisionDate', 'requestDate', 'points']);

export const HANDISERVICE_PROFILES: Readonly<Record<string, readonly string[]>> = {
  'handiservice:general': HANDISERVICE_FIELDS,
  'handiservice:reopened': HANDISERVICE_FIELDS.filter((f) => !REOPENED_LEFT_OUT.has(f)),
};

/** Names in `fields` that are neither in the vocabulary nor a named profile. */
export function unknownHandiserviceFields(fields: readonly string[]): string[] {
  return fields.filter((f) => !HANDISERVICE_FIELDS.includes(f) && HANDISERVICE_PROFILES[f] === undefined);
}

/** The set of names `fields` grants (named profiles expanded); undefined = everything. */
export function grantedFields(fields: readonly string[]): ReadonlySet<string> | undefined {
  if (fields.length === 0) return undefined;
  const out = new Set<string>();
  for (const f of fields) for (const g of HANDISERVICE_PROFILES[f] ?? [f]) out.add(g);
  return out;
}

function profileEntries(kind: HandicapKind, entries: readonly Entry[], granted: ReadonlySet<string> | undefined): HandicapAttrs[] {
  if (granted !== undefined && !granted.has(kind)) return [];
  return entries.map((e) => {
    const out: Record<string, string | number | boolean> = {};
    for (const name of HANDICAP_ATTRIBUTES[kind]) {
      const v = e[name];
      if (v === null || v === undefined) continue; // an empty value is left out (§6c)
      if (granted !== undefined && !IDENTITY.has(name) && !granted.has(name)) continue;
      out[name] = v;
    }
    return out;
  });
}

/**
 * The `<Handicap>` content the client may receive, or undefined when nothing is left (the line
 * is then MSG00100: nothing to return under the client's profile).
 */
export function applyHandicapProfile(data: HandicapData, fields: readonly string[]): HandicapAnswer | undefined {
  const granted = grantedFields(fields);
  const answer: HandicapAnswer = {
    recognitions: profileEntries('Recognition', data.recognitions, granted),
    rights: profileEntries('Right', data.rights, granted),
    payments: profileEntries('Payment', data.payments, granted),
    cards: profileEntries('SocialCard', data.cards, granted),
  };
  const n = answer.recognitions.length + answer.rights.length + answer.payments.length + answer.cards.length;
  return n === 0 ? undefined : answer;
}
