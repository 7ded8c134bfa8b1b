// The four Handiservice imports (contract §8): handicap_recognitions, handicap_rights,
// handicap_payments and social_cards. Same discipline as every kind (importCsv.ts): bad rows
// with line and reason, nothing stored when any row is bad, a key given twice with other content
// names both lines, counts inserted/updated/unchanged. A stored row whose key comes again with
// other content is updated (the provider's current data replace the old).
// kinds.ts imports this module to register the kinds: reach them through kinds.ts (or importCsv.ts).
import { maskSsin } from '../domain/ssin.js';
import {
  checkHandicapPaymentRow,
  checkHandicapRightRow,
  checkRecognitionRow,
  checkSocialCardRow,
  HANDICAP_PAYMENT_COLUMNS,
  HANDICAP_RIGHT_COLUMNS,
  RECOGNITION_COLUMNS,
  RowProblem,
  SOCIAL_CARD_COLUMNS,
  type StoredRow,
} from '../services/handiservice/rowCheck.js';
import { HANDICAP_PAYMENTS_TABLE, HANDICAP_RIGHTS_TABLE, RECOGNITIONS_TABLE, SOCIAL_CARDS_TABLE } from '../store/handiservice/migration.js';
import { BadRow, writeCounted, type ImportKind } from './kinds.js';

function checked(check: (v: Record<string, string | null>, year: number) => StoredRow): ImportKind['check'] {
  return (v, ctx) => {
    try {
      return check(v, ctx.referenceYear);
    } catch (err) {
      if (err instanceof RowProblem) throw new BadRow(err.message);
      throw err;
    }
  };
}

// Rows have up to 14 columns: writeCounted keeps each statement under SQLite's variable limit.

export const handicapRecognitions: ImportKind = {
  name: 'handicap_recognitions',
  columns: RECOGNITION_COLUMNS,
  check: checked(checkRecognitionRow),
  fileKey: (r) => String(r.recognition_id),
  describeKey: (r) => `recognition ${String(r.recognition_id)}`,
  write: (trx, rows) => writeCounted(trx, RECOGNITIONS_TABLE, ['recognition_id'], rows),
};

export const handicapRights: ImportKind = {
  name: 'handicap_rights',
  columns: HANDICAP_RIGHT_COLUMNS,
  check: checked(checkHandicapRightRow),
  fileKey: (r) => String(r.right_id),
  describeKey: (r) => `handicap right ${String(r.right_id)}`,
  write: (trx, rows) => writeCounted(trx, HANDICAP_RIGHTS_TABLE, ['right_id'], rows),
};

const PAYMENT_KEY = ['ssin', 'month', 'legislation'] as const;

export const handicapPayments: ImportKind = {
  name: 'handicap_payments',
  columns: HANDICAP_PAYMENT_COLUMNS,
  check: checked(checkHandicapPaymentRow),
  fileKey: (r) => PAYMENT_KEY.map((k) => String(r[k])).join('\u0000'),
  describeKey: (r) => `the ${String(r.legislation)} payment of ${maskSsin(String(r.ssin))} for ${String(r.month)}`,
  write: (trx, rows) => writeCounted(trx, HANDICAP_PAYMENTS_TABLE, PAYMENT_KEY, rows),
};

export const socialCards: ImportKind = {
  name: 'social_cards',
  columns: SOCIAL_CARD_COLUMNS,
  check: checked(checkSocialCardRow),
  fileKey: (r) => String(r.card_number),
  describeKey: (r) => `social card ${String(r.card_number)}`,
  write: (trx, rows) => writeCounted(trx, SOCIAL_CARDS_TABLE, ['card_number'], rows),
};

export const HANDISERVICE_KINDS = {
  handicap_recognitions: handicapRecognitions,
  handicap_rights: handicapRights,
  handicap_payments: handicapPayments,
  social_cards: socialCards,
};
