// `ldm-batch notify`: sends LivingWagesNotifications (contract §6b), and manages subscriptions.
//
//   notify [run] [--baseline] [--json]                   plan new rights events, write + publish the files
//   notify subscribe <client> [--quality-codes "1 2"]    subscribe a client (default codes: its LivingWages authorizations')
//   notify unsubscribe <client>
//   notify status [--json]                               subscribers and the outbox per client and state
import { openApp, type AppContext } from '../context.js';
import { openTransport } from '../../spool/open.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { LdmError, errorMessage } from '../../errors.js';
import { print, printJson } from '../output.js';
import { notificationsPerFile, runNotifications, type NotifySummary } from '../../notifications/notify.js';
import { loadSubscribers, subscribe, unsubscribe } from '../../notifications/subscriptions.js';
import { outboxCounts } from '../../notifications/outbox.js';

async function notifyWith(app: AppContext, log: Logger, opts: { baseline?: boolean }): Promise<NotifySummary> {
  const maxPerFile = notificationsPerFile();
  const transport = openTransport(app.config, log);
  try {
    return await runNotifications(
      {
        db: app.db,
        transport,
        signer: await app.signer(),
        workDir: app.workDir,
        instanceId: app.config.instanceId,
        timezone: app.config.timezone,
        log,
        leaseSeconds: app.config.leaseSeconds,
        maxPerFile,
      },
      opts,
    );
  } finally {
    await transport.close();
  }
}

export type AfterImportResult =
  | { status: 'RAN'; summary: NotifySummary }
  | { status: 'SKIPPED'; reason: string }
  | { status: 'FAILED'; error: string };

/**
 * The hook for `import rights`: call it after a successful rights import, with the same app.
 * It never fails the import: what it could not send stays in the outbox for the next `notify`.
 * LDM_BATCH_NOTIFY_ON_IMPORT=0 turns it off (loading history: then `notify --baseline`).
 */
export async function notifyAfterRightsImport(app: AppContext, log?: Logger): Promise<AfterImportResult> {
  if (process.env.LDM_BATCH_NOTIFY_ON_IMPORT === '0') return { status: 'SKIPPED', reason: 'LDM_BATCH_NOTIFY_ON_IMPORT=0' };
  const l = log ?? createLogger({ base: { instance: app.config.instanceId } });
  try {
    return { status: 'RAN', summary: await notifyWith(app, l, {}) };
  } catch (err) {
    l.error('notify.failed', { error: errorMessage(err) });
    return { status: 'FAILED', error: errorMessage(err) };
  }
}

export function printNotifySummary(s: NotifySummary): void {
  if (!s.ran) return print(`notify: nothing done: ${s.reason ?? 'locked'}`);
  print(`notify: ${s.eventsPlanned} new event(s), ${s.notificationsQueued} notification(s) queued`);
  for (const f of s.files) print(`  ${f.client}/out/${f.file}: ${f.notifications} notification(s) ${f.outcome}`);
}

export async function runNotify(o: { baseline?: boolean; json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const log = createLogger({ base: { instance: app.config.instanceId } });
    const summary = await notifyWith(app, log, { baseline: o.baseline });
    if (o.json) printJson(summary);
    else printNotifySummary(summary);
  } finally {
    await app.close();
  }
}

function parseCodes(s: string | undefined): number[] {
  if (s === undefined) return [];
  const parts = s.split(/[\s,]+/).filter((x) => x.length > 0);
  for (const p of parts) if (!/^\d{1,6}$/.test(p)) throw new LdmError('USAGE', `--quality-codes must be numbers, found "${p}"`, { exitCode: 2 });
  return parts.map(Number);
}

export async function runNotifySubscribe(clientId: string, o: { qualityCodes?: string; json?: boolean; config?: string }): Promise<void> {
  const codes = parseCodes(o.qualityCodes);
  const app = await openApp(o.config);
  try {
    await subscribe(app.db, clientId, codes, new Date().toISOString());
    const sub = (await loadSubscribers(app.db)).find((s) => s.clientId === clientId);
    const effective = sub?.qualityCodes ?? [];
    if (o.json) printJson({ ok: true, clientId, qualityCodes: effective });
    else print(`${clientId} subscribed to LivingWagesNotifications (quality codes: ${effective.join(' ') || 'none'})`);
    // Fail closed, but say so: without quality codes no integration qualifies.
    if (effective.length === 0) process.stderr.write(`ldm-batch: warning: ${clientId} has no quality codes (no LivingWages authorization and none given): it will receive nothing\n`);
  } finally {
    await app.close();
  }
}

export async function runNotifyUnsubscribe(clientId: string, o: { json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const removed = await unsubscribe(app.db, clientId);
    if (o.json) printJson({ ok: removed, clientId });
    else print(removed ? `${clientId} unsubscribed` : `${clientId} had no subscription`);
    if (!removed) process.exitCode = 1;
  } finally {
    await app.close();
  }
}

export async function runNotifyStatus(o: { json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const subscribers = await loadSubscribers(app.db);
    const outbox = await outboxCounts(app.db);
    if (o.json) return printJson({ subscribers, outbox });
    print(subscribers.length === 0 ? 'no subscribers' : 'subscribers (client, CBE, sector, quality codes):');
    for (const s of subscribers) print(`  ${s.clientId}\t${s.cbeNumber}\t${s.sector}\t${s.qualityCodes.join(' ')}`);
    if (outbox.length > 0) print('outbox (client, state, count):');
    for (const r of outbox) print(`  ${r.clientId}\t${r.state}\t${r.count}`);
  } finally {
    await app.close();
  }
}
