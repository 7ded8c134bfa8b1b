// `import rights` on a real SQLite file: history kept, bad rows named by line, a conflicting
// version refused, the same content again is idempotent, and a bad file changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';
import { importCsv, ImportRejected } from '../../src/import/importCsv.js';
import { packagePath } from '../../src/config/packagePath.js';
import { LdmError } from '../../src/errors.js';
import { lookupRightVersions } from '../../src/store/rights.js';
import { currentRights } from '../../src/services/rights/rules.js';
import * as R from './scenario.js';

let dir: string;
let db: Db;

async function csv(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}
const count = async (): Promise<number> => Number(((await db('rights').count({ n: '*' }))[0] as { n: number | string }).n);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldm-rights-import-'));
  db = await openDatabase({ client: 'sqlite', filename: join(dir, 'store.sqlite') });
  await importCsv(db, 'ocmws', packagePath('fixtures', 'reference', 'ocmws.csv'));
});
afterAll(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('import rights', () => {
  it('keeps every version; the highest one is current', async () => {
    const r = await importCsv(db, 'rights', await csv('rights.csv', R.rightsCsv));
    expect(r.rows).toBe(R.rightsCsv.trim().split('\n').length - 1);
    const byPerson = await lookupRightVersions(db, [R.SHORT]);
    expect(byPerson.get(R.SHORT)?.map((x) => x.version)).toEqual([1, 2]);
    expect(currentRights(byPerson.get(R.SHORT) ?? [])[0]).toMatchObject({ version: 2, endDate: '2025-06-30', event: 'MODIFIED' });
  });

  it('is idempotent: the same file again changes nothing (and keeps the planned state)', async () => {
    await db('rights').update({ planned: 1 });
    const before = await count();
    await importCsv(db, 'rights', await csv('rights-again.csv', R.rightsCsv));
    expect(await count()).toBe(before);
    expect(Number(((await db('rights').where('planned', 0).count({ n: '*' }))[0] as { n: number }).n)).toBe(0);
  });

  const badRows: { name: string; rows: string[]; line: number; reason: RegExp }[] = [
    { name: 'Herstappe (no OCMW)', rows: [`X-1,1,${R.NEW},${R.HERSTAPPE},LEEFLOON,2025-01-01,,CREATED,2025-01-02`], line: 2, reason: /not on the OCMW list.*Herstappe/ },
    { name: 'an unknown OCMW on line 3', rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`, `X-2,1,${R.NEW},0207446079,LEEFLOON,2025-01-01,,CREATED,2025-01-02`], line: 3, reason: /0207446079 is not on the OCMW list/ },
    { name: 'end before start', rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,2024-12-31,CREATED,2025-01-02`], line: 2, reason: /end_date is before start_date/ },
    { name: 'version 0', rows: [`X-1,0,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`], line: 2, reason: /positive whole number/ },
    { name: 'bad event', rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,REVOKED,2025-01-02`], line: 2, reason: /event must be one of/ },
    { name: 'bad type', rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},CHILD_BENEFIT_ADVANCE,2025-01-01,,CREATED,2025-01-02`], line: 2, reason: /right_type must be one of/ },
    {
      name: 'the same version twice in the file with other content',
      rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`, `X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,2025-03-31,CREATED,2025-01-02`],
      line: 3,
      reason: /right X-1 version 1 appears earlier in the file, on line 2, with other content/,
    },
    {
      name: 'one right naming two SSINs in the file',
      rows: [`X-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`, `X-1,2,${R.CREATED},${R.ANTWERPEN},LEEFLOON,2025-01-01,,MODIFIED,2025-02-02`],
      line: 3,
      reason: /another SSIN/,
    },
  ];

  it.each(badRows)('refuses a file with $name at line $line and changes nothing', async (c) => {
    const before = await count();
    const err = await importCsv(db, 'rights', await csv('bad.csv', [R.RIGHTS_HEADER, ...c.rows].join('\n'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRejected);
    const rej = err as ImportRejected;
    expect(rej.badRows[0].line).toBe(c.line);
    expect(rej.badRows[0].reason).toMatch(c.reason);
    expect(await count()).toBe(before);
  });

  it('refuses a stored version sent again with other content, and a right moved to another SSIN; nothing changes', async () => {
    const before = await count();
    const changed = R.rightsCsv.split('\n')[1].replace('2025-12-31', '2025-11-30'); // R-CREATED v1, another end
    const fresh = `Y-1,1,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,CREATED,2025-01-02`;
    const err = await importCsv(db, 'rights', await csv('conflict.csv', [R.RIGHTS_HEADER, fresh, changed].join('\n'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LdmError);
    expect((err as LdmError).message).toMatch(/data row 2 \(right R-CREATED version 1\).*already stored with another endDate/);
    const moved = `R-CREATED,9,${R.NEW},${R.ANTWERPEN},LEEFLOON,2025-01-01,,MODIFIED,2025-05-02`;
    const err2 = await importCsv(db, 'rights', await csv('moved.csv', [R.RIGHTS_HEADER, moved].join('\n'))).catch((e: unknown) => e);
    expect((err2 as LdmError).message).toMatch(/another SSIN/);
    expect(await count()).toBe(before);
    expect(await db('rights').where('right_id', 'Y-1').first()).toBeUndefined();
  });

  it('adds a new version of a stored right', async () => {
    const before = await count();
    await importCsv(db, 'rights', await csv('v3.csv', [R.RIGHTS_HEADER, `R-SHORT,3,${R.SHORT},${R.ANTWERPEN},LEEFLOON,2025-01-01,2025-05-31,MODIFIED,2025-08-01`].join('\n')));
    expect(await count()).toBe(before + 1);
    const current = currentRights((await lookupRightVersions(db, [R.SHORT])).get(R.SHORT) ?? []);
    expect(current[0]).toMatchObject({ version: 3, endDate: '2025-05-31' });
  });
});
