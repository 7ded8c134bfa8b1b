// Daemons on one PostgreSQL database and one SFTP spool, with the same extract on the same
// schedule (every second). A first daemon dies (SIGKILL) once the file is written, before it is
// published; then two daemons both try at the same moments: one takes the dead run over after
// its lease, the other finds it IN_PROGRESS or ALREADY_WRITTEN. Exactly one file in out/, one
// journal row, each line audited once, and the file is the extract the contract defines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { skipReason } from '../multi/skips.js';
import { startCluster, stopCluster, type Member } from '../multi/cluster.js';
import { EVERY_SECOND, waitUntil } from '../daemon/harness.js';
import { patient } from '../helpers/patience.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { loadStore, parseExtract } from './fixture.js';
import { expectedExtract } from './oracle.js';
import { auditEntries } from '../helpers/auditEntries.js';

const why = skipReason('extracts from two daemons', { postgres: true, sshd: true }, { postgres: await postgresAvailable(), sshd: sshdAvailable() });

describe.skipIf(why !== '')(why ? `extracts from two daemons — SKIPPED: ${why}` : 'one extract from two daemons on one PostgreSQL database, on the same schedule', () => {
  let srv: Sshd;
  let pg: TempDatabase;
  let inst: Instance;
  let db: Db;
  let gen: string;
  let members: Member[] = [];

  beforeAll(async () => {
    srv = await startSshd();
    pg = await createTempDatabase();
    inst = await makeInstance({ database: pg.url });
    gen = await loadStore(inst, 300, 9, { extracts: [{ clientId: 'fin', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: EVERY_SECOND }] });
    db = await openDatabase(parseDatabaseSpec(pg.url));
  }, patient(120_000));
  afterAll(async () => {
    if (members.length > 0) await stopCluster(members);
    await db?.destroy();
    await inst?.cleanup();
    await pg?.drop();
    await srv?.cleanup();
  });

  it('writes EXTRACT-fin-2025.xml once, also after a daemon died in the middle of it', async () => {
    const root = join(srv.root, 'extracts');
    const o = { root, leaseSeconds: 2 };
    // 1. A daemon that dies once the file is written, before it is published.
    const [crashy] = await startCluster(inst, srv, ['ldm-x'], o, { LDM_BATCH_CRASH_AT: 'extract-written' });
    const crash = await Promise.race([crashy.daemon.exited, sleep(patient(30_000)).then(() => null)]);
    expect(crash?.signal, 'ldm-x should have died at extract-written').toBe('SIGKILL');
    const left: { state: string; instance_id: string }[] = await db('batches').where('file_name', 'EXTRACT-fin-2025').select('state', 'instance_id');
    expect(left).toEqual([{ state: 'CLAIMED', instance_id: 'ldm-x' }]);
    expect(await readdir(join(root, 'fin', 'out')).catch(() => [] as string[])).toEqual([]);

    // 2. Two daemons on the same schedule: one takes the dead run over once its lease expired.
    members = await startCluster(inst, srv, ['ldm-e1', 'ldm-e2'], o);
    const outcomes = (m: Member): string[] =>
      m.daemon.events.filter((e) => (e.event === 'extract.written' || e.event === 'extract.skipped') && e.year === 2025).map((e) => (e.event === 'extract.written' ? 'WRITTEN' : String(e.outcome)));
    // Each daemon has tried at least twice (the schedule fires every second on both), and one of
    // them has written the file: the dead run's lease (2 s) may still hold during the first tries
    // of two daemons that start fast (seen: four IN_PROGRESS, then stopped before the take-over).
    await waitUntil(
      () => members.every((m) => outcomes(m).length >= 2) && members.some((m) => outcomes(m).includes('WRITTEN')),
      patient(60_000),
      'both daemons to run the extract twice, one of them to write it',
    );
    const stopped = await stopCluster(members);
    const stoppedMembers = members;
    const all = members.flatMap(outcomes);
    members = [];
    expect(stopped.map((s) => s.code)).toEqual([0, 0]);

    expect(all.filter((x) => x === 'WRITTEN').length, all.join(' ')).toBe(1);
    expect(all.every((x) => ['WRITTEN', 'ALREADY_WRITTEN', 'IN_PROGRESS'].includes(x))).toBe(true);
    const written = stoppedMembers.flatMap((m) => m.daemon.events.filter((e) => e.event === 'extract.written'));
    expect(written.map((e) => e.resumed)).toEqual([true]);

    // one file in out/, nothing left over
    const out = await readdir(join(root, 'fin', 'out'));
    expect(out).toEqual(['EXTRACT-fin-2025.xml']);
    // one journal row, done; one extract row
    const extracts: { batch_id: number }[] = await db('extracts').where({ client_id: 'fin' });
    expect(extracts.length).toBe(1);
    const batches: { id: number; state: string; record_count: number; attempts: number }[] = await db('batches').where('file_name', 'EXTRACT-fin-2025');
    expect(batches.map((b) => [b.id, b.state, b.attempts])).toEqual([[extracts[0].batch_id, 'DONE', 2]]);
    // the extract the contract defines (reference date: the daemons' clock, 2026-02-15), each line audited once
    const doc = parseExtract(await readFile(join(root, 'fin', 'out', 'EXTRACT-fin-2025.xml'), 'utf8'));
    const want = expectedExtract(gen, { cbe: '0308357159', sector: 17, qualityCodes: [1, 2] }, 2025, '2026-02-15');
    expect(doc.lines.map((l) => l.ssin)).toEqual([...want.keys()]);
    const audit: { ssin: string }[] = await auditEntries(db, { batchId: extracts[0].batch_id });
    expect(audit.length).toBe(want.size);
    expect(new Set(audit.map((a) => a.ssin)).size).toBe(want.size);
    expect((await auditEntries(db)).length).toBe(want.size);
    const v = await run(process.execPath, [BIN, 'verify', join(root, 'fin', 'out', 'EXTRACT-fin-2025.xml'), '--cert', inst.cert]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, patient(120_000));
});
