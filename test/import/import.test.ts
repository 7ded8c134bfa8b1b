// Contract §8 on a real SQLite file: a file with any bad row changes nothing and names the line
// and the reason; codes are numbers; re-importing updates instead of doubling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { importCsv, ImportRejected } from '../../src/import/importCsv.js';
import { loadClients } from '../../src/store/clients.js';
import { LdmError } from '../../src/errors.js';
import * as S from '../pipeline/scenario.js';

let dir: string;
let db: Db;

async function csv(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}
const count = async (table: string): Promise<number> => Number(((await db(table).count({ n: '*' }))[0] as { n: number | string }).n);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-import-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  await importCsv(db, 'ocmws', await csv('ocmws.csv', `cbe_number,name,municipality\n${S.OCMW},OCMW Antwerpen,Antwerpen\n`));
});
afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('import', () => {
  it('loads every kind of the scenario', async () => {
    for (const [kind, text] of [
      ['clients', S.clientsCsv],
      ['persons', S.personsCsv],
      ['repertory', S.repertoryCsv],
      ['amounts', S.amountsCsv],
    ] as const) {
      const r = await importCsv(db, kind, await csv(`${kind}.csv`, text));
      expect(r.rows).toBe(text.split('\n').length - 1);
    }
    const clients = await loadClients(db);
    expect(clients.find((c) => c.clientId === 'fin')?.authorizations[0].qualityCodes).toEqual([1, 2]); // "001 2"
    expect(await count('repertory')).toBe(7);
  });

  it('is idempotent: the same amounts file again updates, never doubles', async () => {
    const before = await count('amounts');
    await importCsv(db, 'amounts', await csv('amounts.csv', S.amountsCsv.replace(/PROVISIONAL/g, 'DEFINITIVE')));
    expect(await count('amounts')).toBe(before);
    expect(await count('amounts')).toBeGreaterThan(0);
    expect(Number(((await db('amounts').where({ status: 'PROVISIONAL' }).count({ n: '*' }))[0] as { n: number }).n)).toBe(0);
  });

  const badCases: { kind: string; text: string; line: number; reason: RegExp }[] = [
    { kind: 'persons', text: `ssin,replaced_by\n${S.A},\n${S.F},\n`, line: 3, reason: /check digits/ },
    { kind: 'persons', text: `ssin,replaced_by\n${S.A},\n123,\n`, line: 3, reason: /11 digits/ },
    { kind: 'persons', text: `ssin,replaced_by\n${S.A},x,y\n`, line: 2, reason: /expected 2 columns, found 3/ },
    { kind: 'repertory', text: `ssin,sector,institution_cbe,quality_code,start_date,end_date\n${S.A},17,0308357158,1,2020-01-01,\n`, line: 2, reason: /CBE/ },
    { kind: 'repertory', text: `ssin,sector,institution_cbe,quality_code,start_date,end_date\n${S.A},17,0308357159,1,2020-01-01,2019-12-31\n`, line: 2, reason: /before start_date/ },
    { kind: 'repertory', text: `ssin,sector,institution_cbe,quality_code,start_date,end_date\n${S.A},17,0308357159,x1,2020-01-01,\n`, line: 2, reason: /quality_code must be a number/ },
    { kind: 'amounts', text: `${S.amountsCsv.split('\n')[0]}\n${S.A},,0212111779,LEEFLOON,ISOLATED,2025-01,2025-01-01,2025-01-31,100,2025-02-05,DEFINITIVE\n`, line: 2, reason: /not on the OCMW list/ },
    { kind: 'amounts', text: `${S.amountsCsv.split('\n')[0]}\n${S.A},,${S.OCMW},LEEFLOON,ISOLATED,2025-02,2025-02-01,2025-02-30,100,2025-03-05,DEFINITIVE\n`, line: 2, reason: /grant_to must be a date/ },
    { kind: 'amounts', text: `${S.amountsCsv.split('\n')[0]}\n${S.A},,${S.OCMW},LEEFLOON,ALONE,2025-01,2025-01-01,2025-01-31,100,2025-02-05,DEFINITIVE\n`, line: 2, reason: /category must be one of/ },
    { kind: 'clients', text: `${S.clientsCsv.split('\n')[0]}\nfin,0308357159,17,X,LivingWagesWithAmount,A,1,,\nfin,0308357159,18,X,LivingWagesWithAmount,B,1,,\n`, line: 3, reason: /another cbe_number, sector or name/ },
  ];

  it.each(badCases)('refuses a $kind file with a bad row at line $line ($reason) and changes nothing', async (c) => {
    const tables = ['persons', 'repertory', 'amounts', 'clients', 'authorizations'];
    const before = await Promise.all(tables.map(count));
    const err = await importCsv(db, c.kind, await csv(`bad-${c.kind}.csv`, c.text)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRejected);
    const rej = err as ImportRejected;
    expect(rej.badRows[0].line).toBe(c.line);
    expect(rej.badRows[0].reason).toMatch(c.reason);
    expect(rej.message).toContain(`line ${c.line}:`);
    expect(await Promise.all(tables.map(count))).toEqual(before);
  });

  it('refuses a wrong header, naming the expected one', async () => {
    const err = await importCsv(db, 'persons', await csv('hdr.csv', 'ssin,replaced\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LdmError);
    expect((err as LdmError).message).toMatch(/header must be exactly "ssin,replaced_by"/);
  });
});
