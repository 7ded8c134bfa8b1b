// A small hand-made rights register (synthetic SSINs, OCMW's from the shipped list) where every
// rights case and every per-line code of contract §4 has a LivingWages line. Shared by the rights
// and notification tests.
import { makeSsin } from '../../src/domain/ssin.js';
import type { RequestHeader } from '../../src/interfaces.js';
import type { RequestSpec } from '../../src/generate/requests.js';

export const ANTWERPEN = '0212000032';
export const GENT = '0212111779';
/** A valid CBE number that is not on the OCMW list (Herstappe has no OCMW). */
export const HERSTAPPE = '0207446079';

export const MUT = { clientId: 'mut', cbe: '0411702543', sector: 26, legalContext: 'MUTUALITY:MAXIMUM_BILLING' };
export const FIN = { clientId: 'fin', cbe: '0308357159', sector: 17, legalContext: 'FPS_FINANCE:TAX_ASSESSMENT' };

export const CREATED = makeSsin({ year: 1985, month: 7, day: 30 }, 33);
export const SHORT = makeSsin({ year: 1979, month: 11, day: 2 }, 151);
export const CANCEL = makeSsin({ year: 1992, month: 4, day: 18 }, 62);
export const TWO = makeSsin({ year: 2002, month: 9, day: 9 }, 8);
export const CLIP = makeSsin({ year: 1968, month: 1, day: 23 }, 417);
export const NONE = makeSsin({ year: 1999, month: 12, day: 31 }, 5);
export const NOINT = makeSsin({ year: 1975, month: 5, day: 15 }, 230);
export const UNKNOWN = makeSsin({ year: 1990, month: 5, day: 5 }, 77);
export const OLD = makeSsin({ year: 1970, month: 1, day: 1 }, 101);
export const NEWER = makeSsin({ year: 1970, month: 1, day: 1 }, 103);
export const BAD = CREATED.slice(0, 9) + String((Number(CREATED.slice(9)) + 1) % 100).padStart(2, '0');
/** Not in the register; used by the import tests. */
export const NEW = makeSsin({ year: 1988, month: 8, day: 8 }, 88);

export const clientsCsv = [
  'client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields',
  `${MUT.clientId},${MUT.cbe},${MUT.sector},Mutualiteit,LivingWages,${MUT.legalContext},3,IVC/KSZG/21/045,`,
  `${FIN.clientId},${FIN.cbe},${FIN.sector},FOD Financiën,LivingWagesWithAmount,${FIN.legalContext},1,IVC/KSZG/23/123,`,
].join('\n');

export const personsCsv = ['ssin,replaced_by', ...[CREATED, SHORT, CANCEL, TWO, CLIP, NONE, NOINT, NEWER].map((s) => `${s},`), `${OLD},${NEWER}`].join('\n');

/** The mutuality is integrated (sector 26, quality code 3) for everyone but NOINT. */
export const repertoryCsv = [
  'ssin,sector,institution_cbe,quality_code,start_date,end_date',
  ...[CREATED, SHORT, CANCEL, TWO, CLIP, NONE, OLD, NEWER].map((s) => `${s},26,${MUT.cbe},003,2020-01-01,`),
  `${NOINT},17,${FIN.cbe},1,2020-01-01,`, // integrated elsewhere only
].join('\n');

export const RIGHTS_HEADER = 'right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on';

export const rightsCsv = [
  RIGHTS_HEADER,
  `R-CREATED,1,${CREATED},${ANTWERPEN},LEEFLOON,2025-02-01,2025-12-31,CREATED,2025-01-20`,
  `R-SHORT,1,${SHORT},${ANTWERPEN},LEEFLOON,2025-01-01,2025-12-31,CREATED,2024-12-15`,
  `R-SHORT,2,${SHORT},${ANTWERPEN},LEEFLOON,2025-01-01,2025-06-30,MODIFIED,2025-07-03`,
  `R-CANCEL,1,${CANCEL},${GENT},LEEFLOON,2025-01-01,,CREATED,2024-12-20`,
  `R-CANCEL,2,${CANCEL},${GENT},LEEFLOON,2025-01-01,,CANCELLED,2025-02-10`,
  `R-TWO-A,1,${TWO},${ANTWERPEN},LEEFLOON,2025-01-01,2025-06-30,CREATED,2024-12-28`,
  `R-TWO-B,1,${TWO},${GENT},EQUIVALENT_LEEFLOON,2025-07-01,,CREATED,2025-06-25`,
  `R-CLIP,1,${CLIP},${GENT},LEEFLOON,2024-06-01,2026-03-31,CREATED,2024-05-30`,
  `R-NOINT,1,${NOINT},${ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`,
].join('\n');

export const AS_OF = '2026-02-15';

export const header = (over: Partial<RequestHeader> = {}): RequestHeader => ({
  fileId: 'MUT-2026-RIGHTS-1',
  senderCbe: MUT.cbe,
  service: 'LivingWages',
  legalContext: MUT.legalContext,
  environment: 'PROD',
  createdAt: '2026-02-15T03:00:00Z',
  ...over,
});

const Y2025 = { kind: 'dates', from: '2025-01-01', to: '2025-12-31' } as const;

/** One line per case; `expect` is the status code, `rights` the expected Right elements (rightId ocmw type from..to). */
export const lines: (RequestSpec & { expect: string; rights?: string[] })[] = [
  { ticket: 'created', ssin: CREATED, period: Y2025, expect: 'MSG00000', rights: [`R-CREATED ${ANTWERPEN} LEEFLOON 2025-02-01..2025-12-31`] },
  { ticket: 'shortened', ssin: SHORT, period: Y2025, expect: 'MSG00000', rights: [`R-SHORT ${ANTWERPEN} LEEFLOON 2025-01-01..2025-06-30`] },
  { ticket: 'shortened-later', ssin: SHORT, period: { kind: 'dates', from: '2025-07-01', to: '2025-12-31' }, expect: 'MSG00100' },
  { ticket: 'cancelled', ssin: CANCEL, period: Y2025, expect: 'MSG00100' },
  {
    ticket: 'two-ocmws',
    ssin: TWO,
    period: Y2025,
    expect: 'MSG00000',
    rights: [`R-TWO-A ${ANTWERPEN} LEEFLOON 2025-01-01..2025-06-30`, `R-TWO-B ${GENT} EQUIVALENT_LEEFLOON 2025-07-01..2025-12-31`],
  },
  { ticket: 'clipped', ssin: CLIP, period: { kind: 'dates', from: '2025-03-15', to: '2025-04-10' }, expect: 'MSG00000', rights: [`R-CLIP ${GENT} LEEFLOON 2025-03-15..2025-04-10`] },
  { ticket: 'nothing', ssin: NONE, period: Y2025, expect: 'MSG00100' },
  { ticket: 'no-integration', ssin: NOINT, period: Y2025, expect: 'MSG00012' },
  { ticket: 'unknown', ssin: UNKNOWN, period: Y2025, expect: 'MSG00005' },
  { ticket: 'replaced', ssin: OLD, period: Y2025, expect: 'MSG00006' },
  { ticket: 'bad-ssin', ssin: BAD, period: Y2025, expect: 'MSG00011' },
  { ticket: 'reversed', ssin: CREATED, period: { kind: 'dates', from: '2025-06-30', to: '2025-01-01' }, expect: 'MSG00008' },
  { ticket: 'year-kind', ssin: CREATED, period: { kind: 'year', year: 2025 }, expect: 'MSG00008' },
  { ticket: 'months-kind', ssin: CREATED, period: { kind: 'months', from: '2025-01', to: '2025-03' }, expect: 'MSG00008' },
  { ticket: 'with-role', ssin: CREATED, role: 'BENEFICIARY', period: Y2025, expect: 'MSG00008' },
  { ticket: 'future', ssin: CREATED, period: { kind: 'dates', from: '2026-01-01', to: '2026-03-31' }, expect: 'MSG00008' },
  { ticket: 'too-long', ssin: CREATED, period: { kind: 'dates', from: '2023-01-01', to: '2025-12-31' }, expect: 'MSG00008' },
  // MSG00008 comes before MSG00012 (§4 order): a Role on a line without integration.
  { ticket: 'role-no-integration', ssin: NOINT, role: 'PARTNER', period: Y2025, expect: 'MSG00008' },
];

/** Loads the rights scenario into an instance through the real `import` command. */
export async function importRightsScenario(inst: { cli(args: string[]): Promise<{ code: number; stderr: string }>; writeCsv(name: string, text: string): Promise<string> }): Promise<void> {
  for (const [kind, text] of [
    ['clients', clientsCsv],
    ['persons', personsCsv],
    ['repertory', repertoryCsv],
    ['rights', rightsCsv],
  ] as const) {
    const r = await inst.cli(['import', kind, await inst.writeCsv(`${kind}.csv`, text)]);
    if (r.code !== 0) throw new Error(`import ${kind} failed: ${r.stderr}`);
  }
}
