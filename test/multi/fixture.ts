// The scale-out data set: the scenario register of test/pipeline/scenario.ts served to five
// clients (each a copy of `fin` with its own CBE and integrations), and 200 small request files
// spread over them — the same files, byte for byte, for every run that is compared.
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCbe } from '../../src/domain/cbe.js';
import { isValidSsin } from '../../src/domain/ssin.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

export interface FixtureClient {
  clientId: string;
  cbe: string;
}

/** Five institutions of sector 17 with fin's authorization; `makeCbe` gives valid check digits. */
export const CLIENTS: readonly FixtureClient[] = Array.from({ length: 5 }, (_, i) => ({ clientId: `inst${i + 1}`, cbe: makeCbe(4_100_000 + i) }));

export const FILES = 200;

const AUTH = 'LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,001 2,IVC/KSZG/23/123,';

export const clientsCsv = ['client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields', ...CLIENTS.map((c) => `${c.clientId},${c.cbe},17,Institution ${c.clientId},${AUTH}`)].join('\n');

/** The scenario's integrations, repeated at every client's CBE (G stays integrated at MUT only: MSG00012). */
export const repertoryCsv = [
  'ssin,sector,institution_cbe,quality_code,start_date,end_date',
  ...CLIENTS.flatMap((c) => [S.A, S.P, S.B, S.D, S.D2, S.BIS].map((s) => `${s},017,${c.cbe},1,2020-01-01,`)),
  `${S.G},26,${S.MUT.cbe},3,2020-01-01,`,
].join('\n');

/** Loads the data set through the real `import` command. */
export async function importFixture(inst: { cli(args: string[]): Promise<{ code: number; stderr: string }>; writeCsv(name: string, text: string): Promise<string> }): Promise<void> {
  for (const [kind, text] of [
    ['clients', clientsCsv],
    ['persons', S.personsCsv],
    ['repertory', repertoryCsv],
    ['amounts', S.amountsCsv],
  ] as const) {
    const r = await inst.cli(['import', kind, await inst.writeCsv(`${kind}.csv`, text)]);
    if (r.code !== 0) throw new Error(`import ${kind} failed: ${r.stderr}`);
  }
}

export interface RequestFile {
  client: FixtureClient;
  name: string;
  /** Scenario blocks (11 lines each) in the file. */
  blocks: number;
  lines: number;
  /** Lines with a valid SSIN: each gets exactly one audit entry. */
  audited: number;
  /** The per-line status codes the response must carry, in order. */
  expect: string[];
}

const auditedPerBlock = S.lines.filter((l) => isValidSsin(l.ssin, 2026)).length;

/** File i: client i mod 5, 5..18 scenario blocks (55..198 lines), a fixed spread. */
export const REQUESTS: readonly RequestFile[] = Array.from({ length: FILES }, (_, i) => {
  const client = CLIENTS[i % CLIENTS.length];
  const blocks = 5 + ((i * 7) % 14);
  return {
    client,
    name: `R-${String(i).padStart(3, '0')}.xml`,
    blocks,
    lines: blocks * S.lines.length,
    audited: blocks * auditedPerBlock,
    expect: Array.from({ length: blocks }, () => S.lines.map((l) => l.expect)).flat(),
  };
});

export const TOTAL_LINES = REQUESTS.reduce((n, r) => n + r.lines, 0);
export const TOTAL_AUDITED = REQUESTS.reduce((n, r) => n + r.audited, 0);

export const responseName = (name: string): string => name.replace(/\.xml$/, '.response.xml');

/** Writes every request into `<root>/<client>/in/`, each aside and renamed, as a well-behaved client uploads. */
export async function dropRequests(root: string): Promise<void> {
  for (const r of REQUESTS) {
    const dir = join(root, r.client.clientId, 'in');
    await mkdir(dir, { recursive: true });
    const header = S.header({ fileId: `${r.client.clientId}-${r.name.replace(/\.xml$/, '')}`, senderCbe: r.client.cbe });
    const lines = Array.from({ length: r.blocks }, () => S.lines).flat();
    await writeRequestFile(join(dir, `${r.name}.part`), header, lines);
    await rename(join(dir, `${r.name}.part`), join(dir, r.name));
  }
}
