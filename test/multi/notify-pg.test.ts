// Notifications from several daemons on one PostgreSQL database: the daemon runs the notify run
// on its schedule; one instance dies right after publishing a file but before recording it, two
// others run while new rights are imported. Every notification must reach its institution in
// exactly one file, each file once, the dead run's file with the same name and bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XMLParser } from 'fast-xml-parser';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { createTempDatabase, postgresAvailable, type TempDatabase } from '../helpers/postgres.js';
import { skipReason } from './skips.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { waitUntil } from '../daemon/harness.js';
import * as S from '../pipeline/scenario.js';
import { CLIENTS, importFixture } from './fixture.js';
import { startCluster, stopCluster } from './cluster.js';
import { patient } from '../helpers/patience.js';

const why = skipReason('notifications from several daemons', { postgres: true, sshd: true }, { postgres: await postgresAvailable(), sshd: sshdAvailable() });

/** Rights per import wave; each is an event for all 5 subscribed institutions (all integrated for its SSIN). */
const PER_WAVE = 40;
const WAVES = 3;
const PER_FILE = 25;
const SSINS = [S.A, S.P, S.B, S.D2];

function rightsCsv(wave: number): string {
  const rows = Array.from({ length: PER_WAVE }, (_, k) => `W${wave}-${String(k).padStart(3, '0')},1,${SSINS[k % SSINS.length]},${S.OCMW},LEEFLOON,2025-01-01,,CREATED,2025-0${(k % 9) + 1}-15`);
  return ['right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on', ...rows].join('\n');
}

const parser = new XMLParser({ isArray: (name) => name === 'Notification' });

interface Seen {
  key: string;
  file: string;
}

/** Every notification in every client's out/ (the key: client, right and event date). */
async function published(root: string): Promise<{ seen: Seen[]; files: string[] }> {
  const seen: Seen[] = [];
  const files: string[] = [];
  for (const c of CLIENTS) {
    const dir = join(root, c.clientId, 'out');
    for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.notification.xml'))) {
      files.push(`${c.clientId}/${name}`);
      const doc = parser.parse(await readFile(join(dir, name), 'utf8')) as { BatchNotification: { Notifications: { Notification: { RightId: string; EventDate: string }[] } } };
      for (const n of doc.BatchNotification.Notifications.Notification) seen.push({ key: `${c.clientId} ${n.RightId} ${n.EventDate}`, file: name });
    }
  }
  return { seen, files };
}

describe.skipIf(why !== '')(
  why ? `notifications from several daemons — SKIPPED: ${why}` : 'notifications from several daemons on one PostgreSQL database',
  () => {
    let srv: Sshd;
    let pg: TempDatabase;
    let inst: Instance;
    let db: Db;
    // The import hook would send at once; here the daemons must do it.
    const importRights = async (wave: number): Promise<void> => {
      const r = await inst.cli(['import', 'rights', await inst.writeCsv(`rights-${wave}.csv`, rightsCsv(wave))], { env: { LDM_BATCH_NOTIFY_ON_IMPORT: '0' } });
      expect(r.code, r.stderr).toBe(0);
    };

    beforeAll(async () => {
      srv = await startSshd();
      pg = await createTempDatabase();
      inst = await makeInstance({ database: pg.url });
      await importFixture(inst);
      for (const c of CLIENTS) {
        const r = await inst.cli(['notify', 'subscribe', c.clientId, '--quality-codes', '1']);
        expect(r.code, r.stderr).toBe(0);
      }
      db = await openDatabase(parseDatabaseSpec(pg.url));
    }, patient(60_000));
    afterAll(async () => {
      await db?.destroy();
      await inst?.cleanup();
      await pg?.drop();
      await srv?.cleanup();
    });

    it(`${WAVES * PER_WAVE * CLIENTS.length} notifications, each sent once across instances and a SIGKILL after publishing`, async () => {
      const root = join(srv.root, 'notify');
      const env = { LDM_BATCH_NOTIFY_PER_FILE: String(PER_FILE) };
      const o = { root, leaseSeconds: 2 };

      // 1. An instance that dies right after its first file is in out/, before the outbox knows.
      const [crashy] = await startCluster(inst, srv, ['ldm-x'], o, { ...env, LDM_BATCH_CRASH_AT: 'notify-published' });
      await importRights(1);
      const crash = await Promise.race([crashy.daemon.exited, sleep(20_000).then(() => null)]);
      expect(crash?.signal, 'ldm-x should have died at notify-published').toBe('SIGKILL');
      const unrecorded: { file_name: string; client_id: string }[] = await db('notification_files').where('state', 'WRITING').select('file_name', 'client_id');
      expect(unrecorded.length).toBe(1);
      const orphan = `${unrecorded[0].client_id}/${unrecorded[0].file_name}`;
      const orphanBytes = await readFile(join(root, orphan.replace('/', '/out/')));

      // 2. Two instances, with rights arriving while they run.
      const members = await startCluster(inst, srv, ['ldm-n1', 'ldm-n2'], o, env);
      try {
        await sleep(1500);
        await importRights(2);
        await sleep(1200);
        await importRights(3);
        const total = WAVES * PER_WAVE * CLIENTS.length;
        await waitUntil(
          async () => {
            const sent = (await db('notification_outbox').where('state', 'SENT').count({ n: '*' }).first()) as { n: number | string };
            const writing = (await db('notification_files').where('state', 'WRITING').count({ n: '*' }).first()) as { n: number | string };
            return Number(sent.n) === total && Number(writing.n) === 0;
          },
          30_000,
          `${total} notifications sent`,
        );

        // The outbox: one row per (institution, right version), each SENT in one file.
        const outbox: { client_id: string; right_id: string; state: string; file_id: number | null }[] = await db('notification_outbox').select('client_id', 'right_id', 'state', 'file_id');
        expect(outbox.length).toBe(total);
        expect(outbox.every((r) => r.state === 'SENT' && r.file_id !== null)).toBe(true);
        const files: { id: number; client_id: string; file_name: string; state: string; record_count: number }[] = await db('notification_files').select('id', 'client_id', 'file_name', 'state', 'record_count');
        expect(files.every((f) => f.state === 'PUBLISHED')).toBe(true);

        // What the institutions see: every notification exactly once, in the files the outbox names.
        const out = await published(root);
        expect(out.files.sort()).toEqual(files.map((f) => `${f.client_id}/${f.file_name}`).sort());
        const keys = out.seen.map((s) => s.key);
        expect(new Set(keys).size).toBe(keys.length);
        const want = CLIENTS.flatMap((c) => Array.from({ length: WAVES }, (_, w) => Array.from({ length: PER_WAVE }, (__, k) => `${c.clientId} W${w + 1}-${String(k).padStart(3, '0')} 2025-0${(k % 9) + 1}-15`)).flat());
        expect(keys.sort()).toEqual(want.sort());
        // The dead run's file: finished by a survivor under the same name, with the same bytes.
        expect(await readFile(join(root, orphan.replace('/', '/out/')))).toEqual(orphanBytes);
        const finishedBy = members.flatMap((m) => m.daemon.events.filter((e) => e.event === 'notify.published' && e.file === orphan.split('/')[1]).map((e) => `${m.instanceId} (${String(e.outcome)})`));
        expect(finishedBy.length).toBe(1);
        expect(finishedBy[0]).toMatch(/\(exists\)$/);

        const verify = await run(process.execPath, [BIN, 'verify', join(root, orphan.replace('/', '/out/')), '--config', members[0].config]);
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);

        const perInstance = members.map((m) => {
          const pub = m.daemon.events.filter((e) => e.event === 'notify.published');
          const locked = m.daemon.events.filter((e) => e.event === 'notify.locked').length;
          return `${m.instanceId}: ${pub.length} file(s), ${pub.reduce((n, e) => n + Number(e.notifications), 0)} notifications, ${locked} run(s) found the lock held`;
        });
        expect(members.flatMap((m) => m.daemon.events.filter((e) => e.event === 'notify.failed'))).toEqual([]);
        const exits = await stopCluster(members);
        expect(exits.map((e) => e.code)).toEqual([0, 0]);
        console.info(
          `[notify postgres] ${WAVES} imports of ${PER_WAVE} rights → ${total} notifications for ${CLIENTS.length} institutions in ${files.length} files (≤ ${PER_FILE} each); ` +
            `ldm-x SIGKILLed after publishing ${orphan} unrecorded, finished by ${finishedBy[0]}; ${perInstance.join('; ')}; every notification exactly once`,
        );
      } finally {
        await stopCluster(members);
      }
    }, patient(90_000));
  },
);
