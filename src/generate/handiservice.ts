// Synthetic Handiservice data (contract §6c, §8) for `generate`, `demo` and the benchmark: an
// OCMW client with both inquiry profiles, its own dossiers (sector 17, institution level) and
// the DG PMH's integrations (sector 16) for most persons, and the four kinds of DG PMH data
// (recognitions, some pending; rights; monthly payments; social cards), with open ends and empty
// values. It draws from its own random sequence, so the other generated files stay as they were.
import { addMonths, lastDayOfMonth } from '../domain/dates.js';
import type { RequestSpec } from './requests.js';

/** An institution of sector 16 (the DG PMH's own register; CBE valid). */
export const DG_PMH_CBE = '0312123432';

/** The OCMW that asks Handiservice (OCMW Gent; CBE valid), with both shipped profiles. */
export const HANDISERVICE_CLIENT = {
  clientId: 'ocmw-gent',
  cbeNumber: '0212111779',
  sector: 17,
  name: 'OCMW Gent',
  qualityCodes: [1, 2, 3, 4, 5, 6, 7],
  deliberation: 'IVC/KSZG/12/016',
  authorizations: [
    { legalContext: 'PCSA:SOCIAL_INQUIRY', fields: 'handiservice:general' },
    { legalContext: 'PCSA:SOCIAL_INQUIRY_REOPENED', fields: 'handiservice:reopened' },
  ],
} as const;

/** The clients.csv rows of the Handiservice client (one per authorization). */
export function handiserviceClientRows(): (string | number | null)[][] {
  const c = HANDISERVICE_CLIENT;
  return c.authorizations.map((a) => [c.clientId, c.cbeNumber, c.sector, `"${c.name}"`, 'Handiservice', a.legalContext, c.qualityCodes.join(' '), c.deliberation, a.fields]);
}

export const HANDISERVICE_FILE_HEADERS = {
  handicap_recognitions:
    'recognition_id,ssin,legislation,request_date,status,decision_date,start_date,end_date,points,earning_capacity_reduced,lower_limbs_50,full_blindness,upper_limbs_amputated,upper_limbs_paralysed',
  handicap_rights: 'right_id,ssin,legislation,category,start_date,end_date,monthly_amount_cents,partner_income',
  handicap_payments: 'ssin,month,legislation,amount_cents,suspended_cents',
  social_cards: 'card_number,ssin,type,delivered_on,end_date',
} as const;
export type HandiserviceFile = keyof typeof HANDISERVICE_FILE_HEADERS;

type Cells = (string | number | null)[];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}
const day = (month: string, d: number): string => `${month}-${String(d).padStart(2, '0')}`;

/**
 * The repertory rows and data rows of one person (`index` numbers the ids). `firstYear`: data
 * start then or later; nothing is dated after the reference date's month.
 */
export function handiservicePerson(r: () => number, ssin: string, index: number, firstYear: number, referenceDate: string): { repertory: Cells[]; files: Record<HandiserviceFile, Cells[]> } {
  const files: Record<HandiserviceFile, Cells[]> = { handicap_recognitions: [], handicap_rights: [], handicap_payments: [], social_cards: [] };
  const repertory: Cells[] = [];
  const lastMonth = referenceDate.slice(0, 7);
  const month = (): string => {
    const m = `${firstYear + Math.floor(r() * 4)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}`;
    return m > lastMonth ? lastMonth : m;
  };
  // the OCMW's own dossier: most persons, some ended long ago (MSG00012), some with a code the client may not use
  const x = r();
  if (x < 0.85) {
    const start = day(month(), 1);
    const end = x > 0.78 ? lastDayOfMonth(addMonths(start.slice(0, 7), 2)) : null;
    repertory.push([ssin, 17, HANDISERVICE_CLIENT.cbeNumber, r() < 0.03 ? 30 : pick(r, HANDISERVICE_CLIENT.qualityCodes), start, end]);
  }
  // known at the DG PMH (sector 16): most persons, at sector level or in the DG's own register
  if (r() < 0.8) repertory.push([ssin, 16, r() < 0.8 ? null : DG_PMH_CBE, pick(r, [1, 2, 3, 5, 7]), day(month(), 1), null]);
  const legislation = (): string => pick(r, ['IT', 'IVT', 'IVT', 'THAB', 'CHILD']);
  const bool = (): string | null => (r() < 0.2 ? null : r() < 0.5 ? 'true' : 'false');
  for (let k = Math.floor(r() * 3); k > 0; k--) {
    const pending = r() < 0.15;
    const request = day(month(), 1 + Math.floor(r() * 28));
    const start = pending ? null : day(addMonths(request.slice(0, 7), 1), 1);
    const end = r() < 0.6 ? null : lastDayOfMonth(addMonths(request.slice(0, 7), 6 + Math.floor(r() * 30)));
    files.handicap_recognitions.push([
      `REC-${index}-${k}`,
      ssin,
      legislation(),
      request,
      pending ? 'PENDING' : r() < 0.9 ? 'DECIDED' : 'APPEAL',
      pending ? null : day(addMonths(request.slice(0, 7), 1), 1),
      start,
      end,
      r() < 0.2 ? null : Math.floor(r() * 19),
      bool(),
      bool(),
      bool(),
      bool(),
      bool(),
    ]);
  }
  const rights = Math.floor(r() * 2.5);
  for (let k = rights; k > 0; k--) {
    const start = day(month(), 1);
    const end = r() < 0.6 ? null : lastDayOfMonth(addMonths(start.slice(0, 7), 3 + Math.floor(r() * 24)));
    const leg = legislation();
    const cents = 40_000 + Math.floor(r() * 120_000);
    files.handicap_rights.push([`HR-${index}-${k}`, ssin, leg, pick(r, ['A', 'B', 'C', 'CAT3', 'CAT5']), start, end, cents, bool()]);
    // monthly payments of this right, up to the reference month
    for (let m = start.slice(0, 7), n = 0; m <= lastMonth && n < 14 && (end === null || m <= end.slice(0, 7)); m = addMonths(m, 1), n++) {
      if (files.handicap_payments.some((p) => p[1] === m && p[2] === leg)) continue;
      files.handicap_payments.push([ssin, m, leg, cents, r() < 0.05 ? Math.floor(cents / 2) : null]);
    }
  }
  if (r() < 0.3) {
    const delivered = day(month(), 1 + Math.floor(r() * 28));
    files.social_cards.push([`CARD-${index}`, ssin, pick(r, ['PARKING', 'REDUCTION']), delivered, r() < 0.5 ? null : `${Number(delivered.slice(0, 4)) + 5}${delivered.slice(4)}`]);
  }
  return { repertory, files };
}

/** Handiservice request lines: a Dates period of up to a year before the reference month's end, some too long or with a Role. */
export function* handiserviceLines(ssins: readonly string[], r: () => number, count: number, referenceDate: string): Generator<RequestSpec> {
  for (let i = 0; i < count; i++) {
    const ssin = ssins[Math.floor(r() * ssins.length)];
    const from = `${addMonths(referenceDate.slice(0, 7), -Math.floor(r() * 15))}-01`;
    const long = r() < 0.04; // exactly one year: refused (MSG00008)
    const end = long ? `${Number(from.slice(0, 4)) + 1}${from.slice(4)}` : lastDayOfMonth(addMonths(from.slice(0, 7), Math.floor(r() * 12)));
    const to = !long && end > referenceDate ? referenceDate : end;
    yield { ssin, period: { kind: 'dates', from, to } };
  }
}
