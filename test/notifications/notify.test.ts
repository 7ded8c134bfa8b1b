// LivingWagesNotifications end to end through the compiled CLI (contract §6b): who gets a file,
// who does not, once per event also across re-imports, restarts and SIGKILLs at fail points or
// at random moments; every file verifies (xmlsec1, ldm-batch verify) and validates (XSD).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, watch } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { BIN, hasTool, makeInstance, run, ROOT, type Instance } from '../helpers/instance.js';
import { validateNotificationFile } from '../../src/batch/validate.js';
import { makeSsin } from '../../src/domain/ssin.js';
import { openApp } from '../../src/cli/context.js';
import { notifyAfterRightsImport } from '../../src/cli/commands/notify.js';
import { silentLogger } from '../../src/log/logger.js';
import * as R from '../rights/scenario.js';

const XMLSEC = '/usr/bin/xmlsec1';
const XMLLINT = '/usr/bin/xmllint';
const NOTIFICATION_XSD = join(ROOT, 'schemas', 'ldm-batch-notification.xsd');
const parser = new XMLParser({ isArray: (name) => name === 'Notification' });

/** A regional agency: subscribed, integrated for TWO from 2025-06-01 and for CREATED from 2025-03-01 only. */
const REG = { clientId: 'reg', cbe: '0316381039', sector: 30 };
/** Subscribed, authorized, but integrated for nobody. */
const LONE = { clientId: 'lone', cbe: '0207446079', sector: 31 };

const clientsCsv = [
  R.clientsCsv,
  `${REG.clientId},${REG.cbe},${REG.sector},Regionaal Agentschap,LivingWages,REGION:CARE_ALLOWANCE,5,IVC/KSZG/24/007,`,
  `${LONE.clientId},${LONE.cbe},${LONE.sector},Alleen,LivingWages,LONE:PURPOSE,7,IVC/KSZG/24/008,`,
].join('\n');
const repertoryCsv = [R.repertoryCsv, `${R.TWO},30,${REG.cbe},5,2025-06-01,`, `${R.CREATED},30,${REG.cbe},5,2025-03-01,`].join('\n');

interface Seen {
  client: string;
  file: string;
  ssin: string;
  event: string;
  rightId: string;
  eventDate: string;
}

async function outFiles(inst: Instance, client: string): Promise<string[]> {
  const dir = join(inst.spool, client, 'out');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).sort();
}

/** Every Notification in every file of these clients' out/ folders. */
async function notifications(inst: Instance, clients: string[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const client of clients) {
    for (const file of await outFiles(inst, client)) {
      if (!file.endsWith('.notification.xml')) continue;
      const doc = parser.parse(await readFile(join(inst.spool, client, 'out', file), 'utf8'));
      for (const n of doc.BatchNotification.Notifications.Notification as { Ssin: string | number; Event: string; RightId: string; EventDate: string }[]) {
        seen.push({ client, file, ssin: String(n.Ssin).padStart(11, '0'), event: n.Event, rightId: n.RightId, eventDate: n.EventDate });
      }
    }
  }
  return seen;
}

// The tests drive `notify` themselves, so the import hook (once wired) must not send first.
const NO_HOOK = { LDM_BATCH_NOTIFY_ON_IMPORT: '0' };

async function importCsvFile(inst: Instance, kind: string, name: string, text: string): Promise<void> {
  const r = await inst.cli(['import', kind, await inst.writeCsv(name, text)], { env: NO_HOOK });
  expect(r.code, `${kind}: ${r.stdout}${r.stderr}`).toBe(0);
}

async function setup(inst: Instance, files: [string, string][]): Promise<void> {
  for (const [kind, text] of files) await importCsvFile(inst, kind, `${kind}.csv`, text);
  for (const c of ['mut', 'reg', 'lone']) expect((await inst.cli(['notify', 'subscribe', c])).code).toBe(0);
}

const BASE: [string, string][] = [
  ['clients', clientsCsv],
  ['persons', R.personsCsv],
  ['repertory', repertoryCsv],
];

/** The events mut must be told about: every version but R-NOINT's (mut has no integration for NOINT). */
const MUT_EVENTS = R.rightsCsv
  .split('\n')
  .slice(1)
  .filter((l) => !l.startsWith('R-NOINT'))
  .map((l) => {
    const c = l.split(',');
    return `${c[0]} ${c[7]} ${c[8]}`;
  })
  .sort();

const key = (n: Seen): string => `${n.rightId} ${n.event} ${n.eventDate}`;

describe('notify', () => {
  let inst: Instance;
  beforeAll(async () => {
    inst = await makeInstance();
    await setup(inst, [...BASE, ['rights', R.rightsCsv]]);
  });
  afterAll(async () => inst?.cleanup());

  it('sends one signed file to each subscribed institution integrated on the event date, and nothing to others', async () => {
    const r = await inst.cli(['notify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ ran: true, eventsPlanned: 9, notificationsQueued: MUT_EVENTS.length + 1 });
    expect(summary.files.map((f: { client: string }) => f.client).sort()).toEqual(['mut', 'reg']);

    const mut = await notifications(inst, ['mut']);
    expect(mut.map(key).sort()).toEqual(MUT_EVENTS);
    expect(new Set(mut.map((n) => n.file)).size).toBe(1);
    expect(mut.find((n) => n.rightId === 'R-CREATED')?.ssin).toBe(R.CREATED);
    // reg: integrated for TWO since 2025-06-01 (R-TWO-B decided 2025-06-25, R-TWO-A 2024-12-28),
    // for CREATED since 2025-03-01 (R-CREATED decided 2025-01-20): only R-TWO-B.
    expect((await notifications(inst, ['reg'])).map(key)).toEqual(['R-TWO-B CREATED 2025-06-25']);
    // lone (subscribed, no integration) and fin (integrated for NOINT, not subscribed): nothing.
    expect(await outFiles(inst, 'lone')).toEqual([]);
    expect(await outFiles(inst, 'fin')).toEqual([]);
  });

  it('files carry no business data, validate against the notification XSD and verify', async () => {
    for (const client of ['mut', 'reg']) {
      for (const file of await outFiles(inst, client)) {
        const path = join(inst.spool, client, 'out', file);
        const text = await readFile(path, 'utf8');
        expect(text).not.toMatch(/LEEFLOON|amountCents|ocmw|Period|0212000032/);
        expect(text).toContain(`<NotificationId>${file.replace(/\.notification\.xml$/, '')}</NotificationId>`);
        expect(await validateNotificationFile(path)).toEqual({ ok: true });
        const v = await inst.cli(['verify', path, '--json']);
        expect(v.code, v.stdout).toBe(0);
        expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });
        if (hasTool(XMLLINT)) expect((await run(XMLLINT, ['--noout', '--schema', NOTIFICATION_XSD, path])).code).toBe(0);
      }
    }
  });

  it.skipIf(!hasTool(XMLSEC))('files are accepted by xmlsec1 --verify (skipped: xmlsec1 not installed)', async () => {
    for (const client of ['mut', 'reg']) {
      for (const file of await outFiles(inst, client)) {
        const r = await run(XMLSEC, ['--verify', '--trusted-pem', inst.cert, join(inst.spool, client, 'out', file)]);
        expect(r.code, r.stderr).toBe(0);
      }
    }
  });

  it('an event imported again is not notified twice; a new version is notified once, in a new file', async () => {
    const before = await notifications(inst, ['mut', 'reg']);
    await importCsvFile(inst, 'rights', 'again.csv', R.rightsCsv);
    const again = JSON.parse((await inst.cli(['notify', '--json'])).stdout);
    expect(again).toMatchObject({ ran: true, eventsPlanned: 0, notificationsQueued: 0, files: [] });
    expect(await notifications(inst, ['mut', 'reg'])).toEqual(before);

    const v3 = `R-SHORT,3,${R.SHORT},${R.ANTWERPEN},LEEFLOON,2025-01-01,2025-04-30,MODIFIED,2026-02-01`;
    await importCsvFile(inst, 'rights', 'v3.csv', [R.RIGHTS_HEADER, v3].join('\n'));
    const next = JSON.parse((await inst.cli(['notify', '--json'])).stdout);
    expect(next.files).toEqual([expect.objectContaining({ client: 'mut', notifications: 1, outcome: 'PUBLISHED' })]);
    expect(next.files[0].file).not.toBe(before[0].file);
    const after = await notifications(inst, ['mut', 'reg']);
    expect(after.map(key).filter((k) => k.startsWith('R-SHORT'))).toEqual(['R-SHORT CREATED 2024-12-15', 'R-SHORT MODIFIED 2025-07-03', 'R-SHORT MODIFIED 2026-02-01']);
    expect((await inst.cli(['notify', '--json'])).stdout).toMatch(/"files": \[\]/);
  });

  it('a client subscribed later gets the events imported after it subscribed', async () => {
    expect((await inst.cli(['notify', 'subscribe', 'fin', '--quality-codes', '1'])).code).toBe(0);
    const v2 = `R-NOINT,2,${R.NOINT},${R.ANTWERPEN},LEEFLOON,2025-01-01,2025-09-30,MODIFIED,2026-02-02`;
    await importCsvFile(inst, 'rights', 'noint.csv', [R.RIGHTS_HEADER, v2].join('\n'));
    expect((await inst.cli(['notify'])).code).toBe(0);
    expect((await notifications(inst, ['fin'])).map(key)).toEqual(['R-NOINT MODIFIED 2026-02-02']);
    const status = JSON.parse((await inst.cli(['notify', 'status', '--json'])).stdout);
    expect(status.subscribers.map((s: { clientId: string }) => s.clientId)).toEqual(['fin', 'lone', 'mut', 'reg']);
    expect(status.outbox.every((o: { state: string }) => o.state === 'SENT')).toBe(true);
  });
});

describe('the import hook (notifyAfterRightsImport)', () => {
  it('sends what an import brought, and reports a failure without throwing', async () => {
    const inst = await makeInstance();
    try {
      await setup(inst, [...BASE, ['rights', R.rightsCsv]]);
      const app = await openApp(inst.config);
      try {
        const r = await notifyAfterRightsImport(app, silentLogger);
        expect(r.status).toBe('RAN');
        if (r.status === 'RAN') expect(r.summary.files.map((f) => f.client).sort()).toEqual(['mut', 'reg']);
      } finally {
        await app.close();
      }
      expect((await notifications(inst, ['mut'])).map(key).sort()).toEqual(MUT_EVENTS);

      // A signing key that cannot be read: the hook says so and leaves the work for `notify`.
      const broken = join(inst.dir, 'broken.config.json');
      const cfg = JSON.parse(await readFile(inst.config, 'utf8'));
      await writeFile(broken, JSON.stringify({ ...cfg, signing: { ...cfg.signing, keyFile: './keys/missing.pem' } }));
      await importCsvFile(inst, 'rights', 'v3.csv', [R.RIGHTS_HEADER, `R-SHORT,3,${R.SHORT},${R.ANTWERPEN},LEEFLOON,2025-01-01,2025-04-30,MODIFIED,2026-02-01`].join('\n'));
      const app2 = await openApp(broken);
      try {
        const r = await notifyAfterRightsImport(app2, silentLogger);
        expect(r).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/signing key/) });
      } finally {
        await app2.close();
      }
      const later = JSON.parse((await inst.cli(['notify', '--json'])).stdout);
      expect(later.files).toEqual([expect.objectContaining({ client: 'mut', notifications: 1 })]);
    } finally {
      await inst.cleanup();
    }
  });
});

describe('notify after a crash (SIGKILL at a fail point)', () => {
  const points = ['notify-planned', 'notify-filed', 'notify-written', 'notify-published'];
  it.each(points)('killed at %s: the next run sends every notification exactly once', async (point) => {
    const inst = await makeInstance();
    try {
      await setup(inst, [...BASE, ['rights', R.rightsCsv]]);
      const crashed = await inst.cli(['notify'], { env: { LDM_BATCH_CRASH_AT: point } });
      expect(crashed.code, `${point}: the process should have been killed`).not.toBe(0);
      const r = await inst.cli(['notify', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const seen = await notifications(inst, ['mut', 'reg', 'lone', 'fin']);
      expect(seen.filter((n) => n.client === 'mut').map(key).sort()).toEqual(MUT_EVENTS);
      expect(seen.filter((n) => n.client === 'reg').map(key)).toEqual(['R-TWO-B CREATED 2025-06-25']);
      expect(seen).toHaveLength(MUT_EVENTS.length + 1);
      if (point === 'notify-published') expect(JSON.parse(r.stdout).files.map((f: { outcome: string }) => f.outcome)).toContain('ALREADY_PUBLISHED');
      // No temporary or partial files are left visible in out/.
      for (const c of ['mut', 'reg']) expect((await outFiles(inst, c)).every((f) => f.endsWith('.notification.xml') && !f.startsWith('.'))).toBe(true);
      for (const c of ['mut', 'reg']) for (const f of await outFiles(inst, c)) expect((await inst.cli(['verify', join(inst.spool, c, 'out', f)])).code).toBe(0);
    } finally {
      await inst.cleanup();
    }
  });
});

describe('notify killed at random moments', () => {
  it('never loses or repeats a notification across several killed runs', { timeout: 180_000 }, async () => {
    const inst = await makeInstance();
    try {
      // 4000 persons with one right each, all integrated at the mutuality: 200 files of 20, so a
      // run takes a few seconds and kills land in the middle of the work.
      const people = Array.from({ length: 4000 }, (_, i) => makeSsin({ year: 1950 + (i % 50), month: 1 + (i % 12), day: 1 + (i % 28) }, Math.floor(i / 50)));
      const persons = ['ssin,replaced_by', ...people.map((s) => `${s},`)].join('\n');
      const repertory = ['ssin,sector,institution_cbe,quality_code,start_date,end_date', ...people.map((s) => `${s},26,${R.MUT.cbe},3,2020-01-01,`)].join('\n');
      const rights = [R.RIGHTS_HEADER, ...people.map((s, i) => `BULK-${i},1,${s},${R.GENT},LEEFLOON,2025-01-01,,CREATED,2025-0${1 + (i % 9)}-1${i % 10}`)].join('\n');
      await setup(inst, [['clients', clientsCsv], ['persons', persons], ['repertory', repertory], ['rights', rights]]);
      const env = { ...process.env, LDM_BATCH_NOTIFY_PER_FILE: '20', LDM_BATCH_LOG_LEVEL: 'error' };
      let seed = 11;
      const rnd = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      let killed = 0;
      let midWork = 0; // kills that left some files published and some not
      const outDir = join(inst.spool, 'mut', 'out');
      await mkdir(outDir, { recursive: true });
      const published = (): number => readdirSync(outDir).filter((f) => f.endsWith('.notification.xml')).length;
      for (let attempt = 0; attempt < 6; attempt++) {
        // Killed when the run has published a few more files than before it started: the kill
        // lands in the middle of the work whatever the machine's speed (no timer involved).
        const target = published() + 1 + Math.floor(rnd() * 30);
        const child = spawn(process.execPath, [BIN, 'notify', '--config', inst.config], { cwd: inst.dir, env, stdio: 'ignore' });
        const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
        const check = (): void => {
          if (child.exitCode === null && published() >= target) child.kill('SIGKILL');
        };
        const watcher = watch(outDir, check);
        check();
        const code = await exited;
        watcher.close();
        if (code === null) {
          killed++;
          const done = published();
          if (done > 0 && done < people.length / 20) midWork++;
        } else expect(code).toBe(0);
      }
      const last = await inst.cli(['notify', '--json'], { env: { LDM_BATCH_NOTIFY_PER_FILE: '20' } });
      expect(last.code, last.stderr).toBe(0);
      const seen = await notifications(inst, ['mut']);
      const counts = new Map<string, number>();
      for (const n of seen) counts.set(n.rightId, (counts.get(n.rightId) ?? 0) + 1);
      expect(counts.size).toBe(people.length);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const files = await outFiles(inst, 'mut');
      expect(files.every((f) => f.endsWith('.notification.xml') && !f.startsWith('.'))).toBe(true);
      expect(files.length).toBe(people.length / 20);
      // The kills must have hit something for the test to mean anything.
      expect(killed).toBeGreaterThan(0);
      expect(midWork).toBeGreaterThan(0);
      for (const f of files) expect(await validateNotificationFile(join(inst.spool, 'mut', 'out', f))).toEqual({ ok: true });
      if (hasTool(XMLSEC)) for (const f of files) expect((await run(XMLSEC, ['--verify', '--trusted-pem', inst.cert, join(inst.spool, 'mut', 'out', f)])).code).toBe(0);
    } finally {
      await inst.cleanup();
    }
  });
});
