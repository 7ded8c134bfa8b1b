// LivingWagesNotifications (contract §6b): after rights are imported, each subscribed institution
// holding an integration for the SSIN on the event date gets a signed BatchNotification file in
// its out/ folder. Called by `ldm-batch notify`, after `import rights` (notifyAfterRightsImport
// in cli/commands/notify.ts) and, later, by the daemon's cron — all the same function.
//
// One run, under the notify lock:
//   1. finish files a dead run left named but unpublished (same name, same CreatedAt: same bytes);
//   2. plan new events: decide recipients (pure rule), store outbox rows, mark events planned;
//   3. per client: fix a file's name for its pending rows, write + sign it, publish it
//      (temporary name, then no-clobber rename), mark it published.
// Once per institution: the outbox key (client, right_id, version) and the guarded transitions.
// The one thing no store can make atomic is "file visible in out/" + "marked published": a crash
// exactly between them makes the next run publish the *same* file again (same name and bytes)
// if the institution already took it away; a notification never appears in two different files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import type { Signer } from '../interfaces.js';
import type { Logger } from '../log/logger.js';
import type { SpoolTransport } from '../spool/transport.js';
import { clockNow, type Clock } from '../pipeline/clock.js';
import { crashPoint } from '../pipeline/crashPoint.js';
import { KEYS_PER_QUERY } from '../store/db.js';
import { notificationRecipients } from '../services/rights/rules.js';
import { loadSubscribers } from './subscriptions.js';
import {
  clientsWithPending,
  fileItems,
  integrationsOf,
  markAllPlanned,
  markPublished,
  openFile,
  recordPlan,
  unplannedEvents,
  unpublishedFiles,
  type NotificationFileRecord,
  type PlannedNotification,
} from './outbox.js';
import { acquireNotifyLock, lockHolder, releaseNotifyLock, renewNotifyLock } from './lock.js';
import { writeNotificationFile } from './writer.js';
import { LdmError } from '../errors.js';

/** Notifications per file; a client with more pending gets several files in one run. */
export const MAX_NOTIFICATIONS_PER_FILE = 10_000;

/** The cap per file: LDM_BATCH_NOTIFY_PER_FILE, else MAX_NOTIFICATIONS_PER_FILE (for `notify` and the daemon alike). */
export function notificationsPerFile(): number {
  const raw = process.env.LDM_BATCH_NOTIFY_PER_FILE;
  if (raw === undefined || raw === '') return MAX_NOTIFICATIONS_PER_FILE;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new LdmError('CONFIG', `LDM_BATCH_NOTIFY_PER_FILE must be a positive whole number, got "${raw}"`, { exitCode: 2 });
  return n;
}

export interface NotifyContext {
  db: Db;
  transport: SpoolTransport;
  signer: Signer;
  /** Local folder for files being written (under the instance's data/work). */
  workDir: string;
  instanceId: string;
  timezone: string;
  log: Logger;
  clock?: Clock;
  leaseSeconds?: number;
  maxPerFile?: number;
}

export interface NotifyFileOutcome {
  client: string;
  file: string;
  notifications: number;
  /** PUBLISHED now, or ALREADY_PUBLISHED by a run that died before recording it. */
  outcome: 'PUBLISHED' | 'ALREADY_PUBLISHED';
}

export interface NotifySummary {
  /** False when another run holds the lock: nothing was done, the other run does it. */
  ran: boolean;
  reason?: string;
  eventsPlanned: number;
  notificationsQueued: number;
  files: NotifyFileOutcome[];
}

export async function runNotifications(ctx: NotifyContext, opts: { baseline?: boolean } = {}): Promise<NotifySummary> {
  const summary: NotifySummary = { ran: false, eventsPlanned: 0, notificationsQueued: 0, files: [] };
  const holder = lockHolder(ctx.instanceId);
  const lease = ctx.leaseSeconds ?? 120;
  if (!(await acquireNotifyLock(ctx.db, holder, lease))) {
    summary.reason = 'another notify run holds the lock; it will send what is pending';
    ctx.log.info('notify.locked');
    return summary;
  }
  summary.ran = true;
  try {
    const keep = async (): Promise<void> => {
      if (!(await renewNotifyLock(ctx.db, holder, lease))) throw new Error('the notify lock was lost (lease expired); stopping so that another run can continue');
    };
    for (const file of await unpublishedFiles(ctx.db)) {
      summary.files.push(await deliver(ctx, file));
      await keep();
    }
    if (opts.baseline) {
      summary.eventsPlanned = await markAllPlanned(ctx.db);
      ctx.log.info('notify.baseline', { events: summary.eventsPlanned });
    } else {
      await plan(ctx, summary, keep);
    }
    const max = ctx.maxPerFile ?? MAX_NOTIFICATIONS_PER_FILE;
    for (const clientId of await clientsWithPending(ctx.db)) {
      const client: { cbe_number: string } | undefined = await ctx.db('clients').where('client_id', clientId).first('cbe_number');
      if (client === undefined) {
        ctx.log.warn('notify.unknown_client', { client: clientId });
        continue;
      }
      for (;;) {
        const file = await openFile(ctx.db, clientId, client.cbe_number, max, now(ctx));
        if (file === null) break;
        crashPoint('notify-filed');
        summary.files.push(await deliver(ctx, file));
        await keep();
      }
    }
  } finally {
    await releaseNotifyLock(ctx.db, holder).catch((err: unknown) => ctx.log.warn('notify.release_failed', { error: err }));
  }
  return summary;
}

function now(ctx: NotifyContext): string {
  return (ctx.clock ?? clockNow)(ctx.timezone).instant;
}

/** Decides the recipients of every unplanned event, chunk by chunk (hundreds of SSINs a query). */
async function plan(ctx: NotifyContext, summary: NotifySummary, keep: () => Promise<void>): Promise<void> {
  const subscribers = await loadSubscribers(ctx.db);
  const cbes = subscribers.map((s) => s.cbeNumber);
  for (;;) {
    const events = await unplannedEvents(ctx.db, KEYS_PER_QUERY);
    if (events.length === 0) return;
    const integrations = await integrationsOf(ctx.db, events.map((e) => e.version.ssin), cbes);
    const planned: PlannedNotification[] = [];
    for (const e of events) {
      for (const clientId of notificationRecipients(e.version, subscribers, integrations)) planned.push({ clientId, event: e.version });
    }
    await recordPlan(ctx.db, events.map((e) => e.id), planned, now(ctx));
    summary.eventsPlanned += events.length;
    summary.notificationsQueued += planned.length;
    crashPoint('notify-planned');
    await keep();
  }
}

/** Writes (again, after a crash: the same bytes) and publishes one named file, then records it. */
async function deliver(ctx: NotifyContext, file: NotificationFileRecord): Promise<NotifyFileOutcome> {
  const dir = join(ctx.workDir, 'notifications');
  await mkdir(dir, { recursive: true });
  const local = join(dir, file.fileName);
  const written = await writeNotificationFile(
    local,
    { notificationId: file.notificationId, recipientCbe: file.recipientCbe, createdAt: file.createdAt },
    fileItems(ctx.db, file.id),
    ctx.signer,
  );
  if (written.recordCount !== file.recordCount) {
    throw new Error(`notification file ${file.fileName} holds ${written.recordCount} notifications, the outbox says ${file.recordCount}`);
  }
  crashPoint('notify-written');
  await ctx.transport.ensureFolders(file.clientId);
  const published = await ctx.transport.publish(local, file.clientId, 'out', file.fileName);
  crashPoint('notify-published');
  if (published === 'exists') await checkSame(ctx, file, written.fileSha256);
  await markPublished(ctx.db, file.id, written.fileSha256, new Date().toISOString());
  await unlink(local).catch(() => undefined);
  ctx.log.info('notify.published', { client: file.clientId, file: file.fileName, notifications: file.recordCount, outcome: published });
  return { client: file.clientId, file: file.fileName, notifications: file.recordCount, outcome: published === 'published' ? 'PUBLISHED' : 'ALREADY_PUBLISHED' };
}

/** A file of that name in out/ can only be our own earlier publication; say so if its bytes differ (e.g. a new signing key). */
async function checkSame(ctx: NotifyContext, file: NotificationFileRecord, sha256: string): Promise<void> {
  try {
    const path = await ctx.transport.fetch(file.clientId, 'out', file.fileName, join(ctx.workDir, 'notifications'));
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    await unlink(path).catch(() => undefined); // the fetched copy holds personal data: not left in the work folder
    if (hash.digest('hex') !== sha256) ctx.log.warn('notify.published_differs', { client: file.clientId, file: file.fileName });
  } catch (err) {
    // Taken away by the institution meanwhile: it was delivered.
    ctx.log.debug('notify.check_skipped', { client: file.clientId, file: file.fileName, error: err });
  }
}
