// The same pipeline on PostgreSQL: the knex migrations, the imports, `process` with every status
// code, the spool with re-delivery and a crash takeover, the audit log — against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { BIN, makeInstance, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, PG_SKIP_REASON, type TempDatabase } from '../helpers/postgres.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

const available = await postgresAvailable();
let db: TempDatabase;
let inst: Instance;

describe.skipIf(!available)(available ? 'on PostgreSQL' : `on PostgreSQL — SKIPPED: ${PG_SKIP_REASON}`, () => {
  beforeAll(async () => {
    db = await createTempDatabase();
    inst = await makeInstance({ database: db.url });
    const cfg = JSON.parse(await readFile(inst.config, 'utf8'));
    cfg.leaseSeconds = 0.3;
    await writeFile(inst.config, JSON.stringify(cfg));
    await S.importScenario(inst);
    await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await inst?.cleanup();
    await db?.drop();
  });

  it('answers every status code like on SQLite, and audits each line once', async () => {
    await writeRequestFile(join(inst.dir, 'all.xml'), S.header({ fileId: 'PG-ALL' }), S.lines);
    const out = join(inst.dir, 'all.response.xml');
    const r = await inst.cli(['process', join(inst.dir, 'all.xml'), '-o', out, '--as-of', S.AS_OF]);
    expect(r.code, r.stderr).toBe(0);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'Response' }).parse(await readFile(out, 'utf8'));
    expect(doc.BatchResponse.Responses.Response.map((x: { Status: { '@code': string } }) => x.Status['@code'])).toEqual(S.lines.map((l) => l.expect));
    expect((await inst.cli(['verify', out])).code).toBe(0);
    const audit = JSON.parse((await inst.cli(['audit', '--ssin', S.A, '--since', '2026-01-01', '--json'])).stdout);
    expect(audit.length).toBe(S.lines.filter((l) => l.ssin === S.A).length); // one entry per line naming A
  });

  it('runs the spool: answer, re-delivery, and takeover after a SIGKILL', async () => {
    await writeRequestFile(join(inst.spool, 'fin', 'in', 'R1.xml'), S.header({ fileId: 'PG-R1' }), S.lines);
    const env = { ...process.env, LDM_BATCH_LOG_LEVEL: 'error', LDM_BATCH_CRASH_AT: 'delivered' };
    const killed = await new Promise<string | number | null>((done) => {
      spawn(process.execPath, [BIN, 'run-once', '--as-of', S.AS_OF, '--config', inst.config], { env, stdio: 'ignore' }).on('exit', (c, s) => done(s ?? c));
    });
    expect(killed).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 400));
    const again = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
    expect(JSON.parse(again.stdout).files).toEqual([expect.objectContaining({ client: 'fin', file: 'R1.xml', outcome: 'ANSWERED', response: 'fin/out/R1.response.xml' })]);
    expect((await readdir(join(inst.spool, 'fin', 'out'))).filter((n) => n.startsWith('R1'))).toEqual(['R1.response.xml']);
    await writeFile(join(inst.spool, 'fin', 'in', 'R1-again.xml'), await readFile(join(inst.spool, 'fin', 'archive', 'R1.xml')));
    const re = await inst.cli(['run-once', '--json']);
    expect(JSON.parse(re.stdout).files[0].outcome).toBe('REDELIVERED');
    const list = JSON.parse((await inst.cli(['batches', 'list', '--json'])).stdout) as { state: string }[];
    expect(list.filter((b) => b.state === 'CLAIMED')).toEqual([]);
  });
});
