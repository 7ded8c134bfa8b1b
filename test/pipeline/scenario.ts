// A small, hand-made register where every per-line status code of contract §4 has a line,
// shared by the end-to-end tests.
import { makeSsin } from '../../src/domain/ssin.js';
import type { RequestHeader } from '../../src/interfaces.js';
import type { RequestSpec } from '../../src/generate/requests.js';

export const OCMW = '0212000032'; // first entry of the shipped list
export const FIN = { clientId: 'fin', cbe: '0308357159', sector: 17 };
export const MUT = { clientId: 'mut', cbe: '0411702543', sector: 26 };

export const A = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
export const P = makeSsin({ year: 1987, month: 3, day: 12 }, 45);
export const B = makeSsin({ year: 2001, month: 2, day: 3 }, 12);
export const C = makeSsin({ year: 1990, month: 5, day: 5 }, 77); // not in the register
export const D = makeSsin({ year: 1970, month: 1, day: 1 }, 101);
export const D2 = makeSsin({ year: 1970, month: 1, day: 1 }, 103);
export const G = makeSsin({ year: 1999, month: 12, day: 31 }, 5);
export const BIS = makeSsin({ year: 1980, month: 4, day: 4 }, 11, 'unknown');
export const F = A.slice(0, 9) + String((Number(A.slice(9)) + 1) % 100).padStart(2, '0');

export const clientsCsv = [
  'client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields',
  `fin,${FIN.cbe},${FIN.sector},FOD Financiën,LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,001 2,IVC/KSZG/23/123,`,
  `mut,${MUT.cbe},${MUT.sector},Mutualiteit,LivingWagesWithAmount,HEALTH:INCREASED_REIMBURSEMENT,3,IVC/KSZG/21/045,`,
].join('\n');

export const personsCsv = ['ssin,replaced_by', `${A},`, `${P},`, `${B},`, `${D},${D2}`, `${D2},`, `${G},`, `${BIS},`].join('\n');

export const repertoryCsv = [
  'ssin,sector,institution_cbe,quality_code,start_date,end_date',
  ...[A, P, B, D, D2, BIS].map((s) => `${s},017,${FIN.cbe},1,2020-01-01,`),
  `${G},26,${MUT.cbe},3,2020-01-01,`, // G is integrated at another institution only
].join('\n');

function monthRows(ssin: string, partner: string, year: number): string[] {
  const rows: string[] = [];
  for (let m = 1; m <= 12; m++) {
    const month = `${year}-${String(m).padStart(2, '0')}`;
    const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
    const paid = m === 12 ? `${year + 1}-01-05` : `${year}-${String(m + 1).padStart(2, '0')}-05`;
    rows.push(`${ssin},${partner},${OCMW},LEEFLOON,ISOLATED,${month},${month}-01,${month}-${last},100000,${paid},${m === 12 ? 'PROVISIONAL' : 'DEFINITIVE'}`);
  }
  return rows;
}

export const amountsCsv = [
  'ssin,partner_ssin,ocmw_cbe,benefit_type,category,month,grant_from,grant_to,amount_cents,paid_on,status',
  ...monthRows(A, P, 2025),
  ...monthRows(G, '', 2025),
  `${BIS},,${OCMW},EQUIVALENT_LEEFLOON,FAMILY,2025-03,2025-03-10,2025-03-31,120000,2025-04-03,DEFINITIVE`,
].join('\n');

/** Reference date: December 2025 (paid 5 January 2026) is visible from Saturday 7 February 2026. */
export const AS_OF = '2026-02-15';

export const header = (over: Partial<RequestHeader> = {}): RequestHeader => ({
  fileId: 'FIN-2026-000001',
  senderCbe: FIN.cbe,
  service: 'LivingWagesWithAmount',
  legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
  environment: 'PROD',
  createdAt: '2026-02-15T03:00:00Z',
  ...over,
});

/** One line per status code, in the order of contract §4's table, plus PARTNER and BIS lines. */
export const lines: (RequestSpec & { expect: string })[] = [
  { ticket: 'client-ref-0001', ssin: A, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00000' },
  { ssin: A, role: 'BENEFICIARY', period: { kind: 'months', from: '2025-01', to: '2025-06' }, expect: 'MSG00000' },
  { ssin: P, role: 'PARTNER', period: { kind: 'year', year: 2025 }, expect: 'MSG00000' },
  { ssin: B, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00100' },
  { ssin: C, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00005' },
  { ssin: D, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00006' },
  { ssin: A, role: 'BENEFICIARY', period: { kind: 'months', from: '2025-06', to: '2025-01' }, expect: 'MSG00008' },
  { ssin: F, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00011' },
  { ssin: G, role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, expect: 'MSG00012' },
  { ssin: A, role: 'BENEFICIARY', period: { kind: 'year', year: 2026 }, expect: 'MSG00008' },
  { ssin: BIS, role: 'BENEFICIARY', period: { kind: 'months', from: '2025-01', to: '2025-12' }, expect: 'MSG00000' },
];

/** Loads the scenario into an instance through the real `import` command (clients may be replaced). */
export async function importScenario(inst: { cli(args: string[]): Promise<{ code: number; stderr: string }>; writeCsv(name: string, text: string): Promise<string> }, over: { clients?: string } = {}): Promise<void> {
  for (const [kind, text] of [
    ['clients', over.clients ?? clientsCsv],
    ['persons', personsCsv],
    ['repertory', repertoryCsv],
    ['amounts', amountsCsv],
  ] as const) {
    const r = await inst.cli(['import', kind, await inst.writeCsv(`${kind}.csv`, text)]);
    if (r.code !== 0) throw new Error(`import ${kind} failed: ${r.stderr}`);
  }
}
