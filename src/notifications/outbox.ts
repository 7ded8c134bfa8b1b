// The notification outbox: one row per (institution, right version), created once when the
// event is planned, then put into exactly one notification file whose name is fixed before it
// is written. Every step is a guarded transaction, so re-runs (after a crash, or concurrent)
// neither lose nor repeat a notification.
//
//   rights.planned 0 → 1            plan: recipients decided, outbox rows inserted (same transaction)
//   outbox PENDING → FILED          batch: a notification_files row (WRITING) with its name, rows attached
//   file WRITING → PUBLISHED        the signed file is in out/; outbox rows → SENT
import type { Db } from '../store/db.js';
import type { Integration, RightEvent, RightVersion } from '../interfaces.js';
import { LdmError } from '../errors.js';
import { NOTIFICATION_FILES_TABLE, OUTBOX_TABLE, RIGHTS_TABLE } from '../store/rightsMigration.js';
import { toRightVersion, type RightRow } from '../store/rights.js';
import { SECTOR_LEVEL, toIntegration } from '../store/repertoryRows.js';
import { notificationFileName, notificationId } from '../services/rights/rules.js';
import type { NotificationItem } from './writer.js';

/** Rights versions not yet planned, oldest first (import order). */
export async function unplannedEvents(db: Db, limit: number): Promise<{ id: number; version: RightVersion }[]> {
  const rows: (RightRow & { id: number | string })[] = await db(RIGHTS_TABLE)
    .select('id', 'right_id', 'version', 'ssin', 'ocmw_cbe', 'right_type', 'start_date', 'end_date', 'event', 'decided_on')
    .where('planned', 0)
    .orderBy('id')
    .limit(limit);
  return rows.map((r) => ({ id: Number(r.id), version: toRightVersion(r) }));
}

/** Integrations of these SSINs held by these institutions or at sector level (one query per chunk; findIntegration picks what counts). */
export async function integrationsOf(db: Db, ssins: readonly string[], institutionCbes: readonly string[]): Promise<Integration[]> {
  if (ssins.length === 0 || institutionCbes.length === 0) return [];
  const rows: { ssin: string; sector: number | string; institution_cbe: string; quality_code: number | string; start_date: string; end_date: string | null }[] = await db('repertory')
    .select('ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date')
    .whereIn('ssin', [...new Set(ssins)])
    .whereIn('institution_cbe', [...new Set([...institutionCbes, SECTOR_LEVEL])]);
  return rows.map(toIntegration);
}

export interface PlannedNotification {
  clientId: string;
  event: RightVersion;
}

/**
 * Stores the recipients of these events and marks the events planned, in one transaction: an
 * event is either planned with all its outbox rows or not at all. Rows already there (a
 * concurrent planner) are kept as they are.
 */
export async function recordPlan(db: Db, eventIds: readonly number[], planned: readonly PlannedNotification[], now: string): Promise<void> {
  await db.transaction(async (trx) => {
    const rows = planned.map((p) => ({
      client_id: p.clientId,
      right_id: p.event.rightId,
      version: p.event.version,
      ssin: p.event.ssin,
      event: p.event.event,
      event_date: p.event.decidedOn,
      state: 'PENDING',
      created_at: now,
    }));
    // 8 columns a row: stay under SQLite's bound-variable limit.
    for (let i = 0; i < rows.length; i += 100) {
      await trx(OUTBOX_TABLE).insert(rows.slice(i, i + 100)).onConflict(['client_id', 'right_id', 'version']).ignore();
    }
    for (let i = 0; i < eventIds.length; i += 500) {
      await trx(RIGHTS_TABLE).whereIn('id', eventIds.slice(i, i + 500)).where('planned', 0).update({ planned: 1 });
    }
  });
}

/** Marks every unplanned event planned without notifying anyone (loading history; `notify --baseline`). */
export async function markAllPlanned(db: Db): Promise<number> {
  return db(RIGHTS_TABLE).where('planned', 0).update({ planned: 1 });
}

/** Clients with notifications waiting for a file. */
export async function clientsWithPending(db: Db): Promise<string[]> {
  const rows: { client_id: string }[] = await db(OUTBOX_TABLE).distinct('client_id').where('state', 'PENDING').orderBy('client_id');
  return rows.map((r) => r.client_id);
}

export interface NotificationFileRecord {
  id: number;
  clientId: string;
  recipientCbe: string;
  notificationId: string;
  fileName: string;
  recordCount: number;
  createdAt: string;
}

interface FileRow {
  id: number | string;
  client_id: string;
  recipient_cbe: string;
  notification_id: string | null;
  file_name: string | null;
  record_count: number | string;
  created_at: string;
}

function toFile(r: FileRow): NotificationFileRecord {
  if (r.notification_id === null || r.file_name === null) throw new Error(`notification file ${r.id} has no name`);
  return { id: Number(r.id), clientId: r.client_id, recipientCbe: r.recipient_cbe, notificationId: r.notification_id, fileName: r.file_name, recordCount: Number(r.record_count), createdAt: r.created_at };
}

/**
 * Puts up to `max` pending notifications of a client into a new file: the file's name and
 * CreatedAt are fixed here, before any byte is written. Null when nothing is pending (or a
 * concurrent run took the rows first).
 */
export async function openFile(db: Db, clientId: string, recipientCbe: string, max: number, createdAt: string): Promise<NotificationFileRecord | null> {
  try {
    return await db.transaction(async (trx) => {
      const ids: { id: number | string }[] = await trx(OUTBOX_TABLE).select('id').where({ client_id: clientId, state: 'PENDING' }).orderBy('id').limit(max);
      if (ids.length === 0) return null;
      const [inserted] = await trx(NOTIFICATION_FILES_TABLE).insert({ client_id: clientId, recipient_cbe: recipientCbe, state: 'WRITING', record_count: ids.length, created_at: createdAt }).returning('id');
      const fileId = Number(typeof inserted === 'object' && inserted !== null ? (inserted as { id: number | string }).id : inserted);
      const id = notificationId(recipientCbe, fileId);
      await trx(NOTIFICATION_FILES_TABLE).where('id', fileId).update({ notification_id: id, file_name: notificationFileName(id) });
      const lastId = Number(ids[ids.length - 1].id);
      const taken = await trx(OUTBOX_TABLE).where({ client_id: clientId, state: 'PENDING' }).where('id', '<=', lastId).update({ state: 'FILED', file_id: fileId });
      // Another run inserted or took rows in between: start over next time rather than guess.
      if (taken !== ids.length) throw new LdmError('NOTIFY_RACE', `outbox rows of ${clientId} changed while a file was being opened`);
      return { id: fileId, clientId, recipientCbe, notificationId: id, fileName: notificationFileName(id), recordCount: ids.length, createdAt };
    });
  } catch (err) {
    if (err instanceof LdmError && err.code === 'NOTIFY_RACE') return null;
    throw err;
  }
}

/** Files whose name is fixed but that are not known to be published (a run died, or this one is writing them). */
export async function unpublishedFiles(db: Db): Promise<NotificationFileRecord[]> {
  const rows: FileRow[] = await db(NOTIFICATION_FILES_TABLE).select('id', 'client_id', 'recipient_cbe', 'notification_id', 'file_name', 'record_count', 'created_at').where('state', 'WRITING').orderBy('id');
  return rows.map(toFile);
}

/** The notifications of a file in seq order (rank by outbox id), read in pages. */
export async function* fileItems(db: Db, fileId: number, page = 1000): AsyncGenerator<NotificationItem> {
  let after = 0;
  for (;;) {
    const rows: { id: number | string; ssin: string; event: string; right_id: string; event_date: string }[] = await db(OUTBOX_TABLE)
      .select('id', 'ssin', 'event', 'right_id', 'event_date')
      .where('file_id', fileId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(page);
    for (const r of rows) yield { ssin: r.ssin, event: r.event as RightEvent, rightId: r.right_id, eventDate: r.event_date };
    if (rows.length < page) return;
    after = Number(rows[rows.length - 1].id);
  }
}

/** The file is in out/: it and its notifications are done. */
export async function markPublished(db: Db, fileId: number, sha256: string | null, now: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx(NOTIFICATION_FILES_TABLE).where({ id: fileId, state: 'WRITING' }).update({ state: 'PUBLISHED', published_at: now, sha256 });
    await trx(OUTBOX_TABLE).where({ file_id: fileId, state: 'FILED' }).update({ state: 'SENT', sent_at: now });
  });
}

/** Counts per client and state, for `notify status`. */
export async function outboxCounts(db: Db): Promise<{ clientId: string; state: string; count: number }[]> {
  const rows = (await db(OUTBOX_TABLE)
    .select('client_id', 'state')
    .count({ n: '*' })
    .groupBy('client_id', 'state')
    .orderBy(['client_id', 'state'])) as unknown as { client_id: string; state: string; n: number | string }[];
  return rows.map((r) => ({ clientId: r.client_id, state: r.state, count: Number(r.n) }));
}
