// Pure rules of the rights service (contract §6) and of its notifications (§6b). No I/O here:
// the resolver and the notifier look data up in chunks and hand it to these functions.
import type { Integration, RightEntry, RightVersion, Role } from '../../interfaces.js';
import { findIntegration, type FinalityContext } from '../../domain/finality.js';
import { overlaps } from '../../domain/period.js';

// ---------------------------------------------------------------- versions

/**
 * The rights that count: per right_id its highest version, left out when that version is a
 * cancellation (a cancelled right no longer exists for consultations). Order: by right_id.
 */
export function currentRights(versions: readonly RightVersion[]): RightVersion[] {
  const latest = new Map<string, RightVersion>();
  for (const v of versions) {
    const seen = latest.get(v.rightId);
    if (seen === undefined || v.version > seen.version) latest.set(v.rightId, v);
  }
  return [...latest.values()].filter((v) => v.event !== 'CANCELLED').sort((a, b) => cmp(a.rightId, b.rightId));
}

/**
 * The current rights that overlap [from, to] (inclusive), each with its period clipped to the
 * range; an open end is clipped to `to`. Sorted by clipped start, then right_id, so answers are
 * deterministic (byte-identical re-runs).
 */
export function rightsInRange(versions: readonly RightVersion[], range: { from: string; to: string }): RightEntry[] {
  const out: RightEntry[] = [];
  for (const r of currentRights(versions)) {
    if (!overlaps(r.startDate, r.endDate, range.from, range.to)) continue;
    const from = r.startDate > range.from ? r.startDate : range.from;
    const to = r.endDate !== null && r.endDate < range.to ? r.endDate : range.to;
    out.push({ rightId: r.rightId, type: r.rightType, ocmw: r.ocmwCbe, periods: [{ from, to }] });
  }
  return out.sort((a, b) => cmp(a.periods[0].from, b.periods[0].from) || cmp(a.rightId, b.rightId));
}

/**
 * A line problem specific to LivingWages, reported as MSG00008 at MSG00008's place in the §4
 * order (the period kind is already checked by checkPeriod): contract §3 says these lines carry
 * no Role, so one that does is invalid data on the line rather than something to ignore.
 */
export function rightsLineProblem(line: { role?: Role }): string | null {
  return line.role === undefined ? null : `a LivingWages request carries no Role (found ${line.role})`;
}

// ---------------------------------------------------------------- import

const CONTENT_FIELDS = ['ssin', 'ocmwCbe', 'rightType', 'startDate', 'endDate', 'event', 'decidedOn'] as const;

/**
 * Versions are immutable history: the same (right_id, version) again with the same content is
 * an idempotent re-import; with other content it is a bad row. Returns the differing fields.
 */
export function versionDifferences(stored: RightVersion, incoming: RightVersion): string[] {
  return CONTENT_FIELDS.filter((f) => stored[f] !== incoming[f]);
}

/** A right belongs to one person: a later (or earlier) version naming another SSIN is refused. */
export function ssinConflict(knownSsin: string | undefined, incoming: RightVersion): string | null {
  if (knownSsin === undefined || knownSsin === incoming.ssin) return null;
  return `right ${incoming.rightId} belongs to another SSIN in its other version(s); a right cannot move to another person`;
}

// ---------------------------------------------------------------- notifications

/** An institution that asked for LivingWagesNotifications, with the quality codes that count for it. */
export interface Subscriber {
  clientId: string;
  cbeNumber: string;
  sector: number;
  qualityCodes: readonly number[];
}

/**
 * Who is told about one event (a right version): each subscriber that holds, on the event date
 * (decided_on), an integration for the SSIN that counts for it (its own CBE or its whole
 * sector), with an allowed quality code — the finality rule of §5 (findIntegration) applied to
 * the one day of the event. Sorted by client id. `integrations` are the repertory rows of the
 * event's SSIN (any institution, and sector level).
 */
export function notificationRecipients(event: RightVersion, subscribers: readonly Subscriber[], integrations: readonly Integration[]): string[] {
  const out: string[] = [];
  for (const s of subscribers) {
    if (s.qualityCodes.length === 0) continue; // a subscription without quality codes allows nothing (fail closed)
    const ctx: FinalityContext = { senderCbe: s.cbeNumber, sector: s.sector, allowedQualityCodes: [...s.qualityCodes] };
    const own = integrations.filter((i) => i.ssin === event.ssin);
    if (findIntegration(own, ctx, { from: event.decidedOn, to: event.decidedOn }) !== undefined) out.push(s.clientId);
  }
  return out.sort(cmp);
}

/**
 * The NotificationId (and file name stem) of the n-th notification file: fixed before the file
 * is written, so a re-run after a crash writes the same name. Matches the XSD FileIdType.
 */
export function notificationId(recipientCbe: string, fileNumber: number): string {
  if (!Number.isSafeInteger(fileNumber) || fileNumber < 1) throw new RangeError(`file number must be a positive integer: ${fileNumber}`);
  return `NOTIF-${recipientCbe}-${String(fileNumber).padStart(6, '0')}`;
}

export function notificationFileName(id: string): string {
  return `${id}.notification.xml`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
