// Shared types of the pipeline. Modules depend on this file, not on each other's internals.
// Dates are ISO strings: 'YYYY-MM-DD' for days, 'YYYY-MM' for months; they compare lexically.

export type ServiceName = 'LivingWagesWithAmount' | 'LivingWages' | 'Handiservice';
export const SERVICES: readonly ServiceName[] = ['LivingWagesWithAmount', 'LivingWages', 'Handiservice'];

export type Environment = 'PROD' | 'ACPT' | 'TEST';
export type Role = 'BENEFICIARY' | 'PARTNER';

export type BenefitType = 'LEEFLOON' | 'EQUIVALENT_LEEFLOON' | 'CHILD_BENEFIT_ADVANCE';
export const BENEFIT_TYPES: readonly BenefitType[] = ['LEEFLOON', 'EQUIVALENT_LEEFLOON', 'CHILD_BENEFIT_ADVANCE'];
export type Category = 'COHABITANT' | 'ISOLATED' | 'FAMILY';
export const CATEGORIES: readonly Category[] = ['COHABITANT', 'ISOLATED', 'FAMILY'];
export type AmountStatus = 'PROVISIONAL' | 'DEFINITIVE';

/** Per-line status codes (contract §4). */
export type StatusCode = 'MSG00000' | 'MSG00100' | 'MSG00005' | 'MSG00006' | 'MSG00008' | 'MSG00011' | 'MSG00012' | 'MSG00021';
export type StatusValue = 'DATA_FOUND' | 'NO_DATA_FOUND' | 'NO_RESULT';
export const STATUS_VALUE: Record<StatusCode, StatusValue> = {
  MSG00000: 'DATA_FOUND',
  MSG00100: 'NO_DATA_FOUND',
  MSG00005: 'NO_RESULT',
  MSG00006: 'NO_RESULT',
  MSG00008: 'NO_RESULT',
  MSG00011: 'NO_RESULT',
  MSG00012: 'NO_RESULT',
  MSG00021: 'NO_DATA_FOUND', // Handiservice: the SSIN is not integrated at the data provider (§6c)
};

/** File-level rejection codes (contract §7). */
export type RejectionCode =
  | 'NOT_WELL_FORMED'
  | 'DTD_FORBIDDEN'
  | 'SCHEMA_INVALID'
  | 'TRAILER_MISMATCH'
  | 'DUPLICATE_SEQ'
  | 'SEQ_ORDER'
  | 'UNKNOWN_SENDER'
  | 'SENDER_MISMATCH'
  | 'WRONG_ENVIRONMENT'
  | 'MSG00013'
  | 'FILEID_REUSED'
  | 'INTERNAL_ERROR';

// ---------------------------------------------------------------- request

export interface RequestHeader {
  fileId: string;
  senderCbe: string;
  service: ServiceName;
  legalContext: string;
  environment: Environment;
  createdAt: string;
}

export type RequestPeriod =
  | { kind: 'year'; year: number }
  | { kind: 'months'; from: string; to: string } // YYYY-MM inclusive
  | { kind: 'dates'; from: string; to: string }; // YYYY-MM-DD inclusive (LivingWages)

export interface RequestLine {
  seq: number;
  ticket?: string;
  ssin: string;
  role?: Role;
  period: RequestPeriod;
  /** 1-based position of the <Request> start tag in the file, for operator messages. */
  line: number;
}

/** One error found in a request file, with its position (1-based). */
export interface FileError {
  line: number;
  column: number;
  message: string;
}

// ---------------------------------------------------------------- register data

export interface Person {
  ssin: string;
  replacedBy: string | null;
}

export interface Integration {
  ssin: string;
  sector: number;
  /** null: a sector-level integration (the KSZ repertory), counting for every client of the sector (§5). */
  institutionCbe: string | null;
  qualityCode: number;
  startDate: string;
  endDate: string | null; // null = open
}

export interface AmountRow {
  ssin: string;
  partnerSsin: string | null;
  ocmwCbe: string;
  benefitType: BenefitType;
  category: Category;
  month: string; // YYYY-MM
  grantFrom: string; // YYYY-MM-DD, the granted days within the month
  grantTo: string;
  amountCents: number; // may be negative (a correction)
  paidOn: string;
  status: AmountStatus;
}

// ---------------------------------------------------------------- clients and authorizations

export interface Authorization {
  service: ServiceName;
  legalContext: string;
  qualityCodes: number[];
  deliberation: string | null;
  /** Response fields the client may receive; empty = every field of the service. */
  fields: string[];
}

export interface Client {
  clientId: string;
  cbeNumber: string;
  sector: number;
  name: string;
  authorizations: Authorization[];
}

// ---------------------------------------------------------------- response

export interface MonthEntry {
  month: string; // YYYY-MM
  ocmw: string;
  benefitType: BenefitType;
  category: Category;
  amountCents: number;
  from: string;
  to: string;
  fullMonth: boolean;
  provisional: boolean;
  partnerSsin?: string; // BENEFICIARY lines, when known
  beneficiarySsin?: string; // PARTNER lines
}

export interface YearTotal {
  ocmw: string;
  benefitType: BenefitType;
  category: Category;
  amountCents: number;
  months: number;
  fullYear: boolean;
  provisional: boolean;
  partnerSsin?: string; // all amounts name this same partner
  partners?: string[]; // otherwise: each partner seen, written as <Partner ssin="..."/>
  beneficiarySsin?: string; // PARTNER lines
}

// ---------------------------------------------------------------- rights (LivingWages, contract §6/§6b)

export type RightType = 'LEEFLOON' | 'EQUIVALENT_LEEFLOON';
export const RIGHT_TYPES: readonly RightType[] = ['LEEFLOON', 'EQUIVALENT_LEEFLOON'];
export type RightEvent = 'CREATED' | 'MODIFIED' | 'CANCELLED';
export const RIGHT_EVENTS: readonly RightEvent[] = ['CREATED', 'MODIFIED', 'CANCELLED'];

/** One version of a right (rights.csv row); versions are never changed once stored. */
export interface RightVersion {
  rightId: string;
  version: number;
  ssin: string;
  ocmwCbe: string;
  rightType: RightType;
  startDate: string;
  endDate: string | null; // null = open
  event: RightEvent;
  decidedOn: string;
}

/** A right in a LivingWages answer: its periods clipped to the requested range, never amounts. */
export interface RightEntry {
  rightId: string;
  type: RightType;
  ocmw: string;
  periods: { from: string; to: string }[];
}

export interface ResponseLine {
  seq: number;
  ticket?: string;
  ssin: string;
  status: StatusCode;
  newSsin?: string; // MSG00006
  year?: { year: number; totals: YearTotal[] };
  months?: { lastMonthIsLastPaid: boolean; entries: MonthEntry[] };
  rights?: RightEntry[]; // LivingWages, MSG00000 only
  handicap?: HandicapAnswer; // Handiservice, MSG00000 only (after the client's field profile)
}

/** A yearly total after the client's field profile: any attribute may be absent (proportionality). */
export type ProfiledYearTotal = Partial<YearTotal>;
/** A month entry after profiling: only the month is always there. */
export type ProfiledMonthEntry = Partial<MonthEntry> & Pick<MonthEntry, 'month'>;

/** What the writer receives. Every ResponseLine is one (an empty profile changes nothing). */
export interface ProfiledResponseLine extends Omit<ResponseLine, 'year' | 'months'> {
  year?: { year: number; totals: ProfiledYearTotal[] };
  months?: { lastMonthIsLastPaid?: boolean; entries: ProfiledMonthEntry[] };
}

// ---------------------------------------------------------------- Handiservice (contract §6c, §8)

export type HandicapLegislation = 'IT' | 'IVT' | 'THAB' | 'CHILD';
export const HANDICAP_LEGISLATIONS: readonly HandicapLegislation[] = ['IT', 'IVT', 'THAB', 'CHILD'];
export type RecognitionStatus = 'PENDING' | 'DECIDED' | 'APPEAL';
export const RECOGNITION_STATUSES: readonly RecognitionStatus[] = ['PENDING', 'DECIDED', 'APPEAL'];

/** A decision on a handicap (handicap_recognitions.csv row). */
export interface HandicapRecognition {
  recognitionId: string;
  ssin: string;
  legislation: HandicapLegislation;
  requestDate: string;
  status: RecognitionStatus;
  decisionDate: string | null;
  /** null: still pending; the recognition then starts on its requestDate. */
  startDate: string | null;
  endDate: string | null; // null = open
  points: number | null;
  earningCapacityReduced: boolean | null;
  lowerLimbs50: boolean | null;
  fullBlindness: boolean | null;
  upperLimbsAmputated: boolean | null;
  upperLimbsParalysed: boolean | null;
}

/** A benefit right (handicap_rights.csv row). */
export interface HandicapRight {
  rightId: string;
  ssin: string;
  legislation: HandicapLegislation;
  category: string;
  startDate: string;
  endDate: string | null;
  monthlyAmountCents: number | null;
  partnerIncome: boolean | null;
}

/** One month's payment under one legislation (handicap_payments.csv row). */
export interface HandicapPayment {
  ssin: string;
  month: string; // YYYY-MM
  legislation: HandicapLegislation;
  amountCents: number;
  suspendedCents: number | null;
}

/** A social card (social_cards.csv row). */
export interface SocialCard {
  cardNumber: string;
  ssin: string;
  type: string;
  deliveredOn: string;
  endDate: string | null;
}

/** Everything stored for one person, as the Handiservice rules take it. */
export interface HandicapRecords {
  recognitions: HandicapRecognition[];
  rights: HandicapRight[];
  payments: HandicapPayment[];
  cards: SocialCard[];
}

/**
 * The `<Handicap>` element of a Handiservice answer, after clipping and the field profile: each
 * entry holds only the attributes to write (their XML names); an absent value is left out.
 */
export type HandicapAttrs = Readonly<Record<string, string | number | boolean | undefined>>;
export interface HandicapAnswer {
  recognitions: HandicapAttrs[];
  rights: HandicapAttrs[];
  payments: HandicapAttrs[];
  cards: HandicapAttrs[];
}

export interface ResponseHeader {
  inReplyTo?: string;
  requestSha256: string;
  service?: ServiceName;
  referenceDate: string; // YYYY-MM-DD
  processedAt: string; // YYYY-MM-DDTHH:MM:SSZ
}

export interface Rejection {
  code: RejectionCode;
  errors: FileError[];
}

/** Key material used to sign responses. */
export interface Signer {
  privateKeyPem: string;
  certificatePem: string;
}
