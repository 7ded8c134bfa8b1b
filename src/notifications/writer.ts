// Signed BatchNotification files (contract §6b, schemas/ldm-batch-notification.xsd).
//
// Same technique as the response writer (response/writer.ts): the document is written directly
// in exclusive canonical form, so the bytes from `<BatchNotification` to the signature, plus the
// root end tag, are the digest input; they are hashed as they stream out. Only Ssin, Event,
// RightId and EventDate per notification: no business data (no type, periods or amounts).
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { RightEvent, Signer } from '../interfaces.js';
import { element, escapeText } from '../response/c14n.js';
import { signatureElement } from '../response/sign.js';
import { LDM_NS } from '../response/writer.js';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const CHUNK = 64 * 1024;

export interface NotificationHeader {
  notificationId: string;
  recipientCbe: string;
  createdAt: string; // YYYY-MM-DDTHH:MM:SSZ
}

export interface NotificationItem {
  ssin: string;
  event: RightEvent;
  rightId: string;
  eventDate: string;
}

export interface NotificationWriteResult {
  recordCount: number;
  /** hex SHA-256 of every byte of the file. */
  fileSha256: string;
}

/** One `<Notification>` element; seq is its position in the file (1..N). Exported for tests. */
export function notificationXml(seq: number, n: NotificationItem): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`seq must be a positive integer: ${seq}`);
  return (
    `    <Notification seq="${seq}">\n` +
    `      <Ssin>${escapeText(n.ssin)}</Ssin>\n` +
    `      <Event>${escapeText(n.event)}</Event>\n` +
    `      <RightId>${escapeText(n.rightId)}</RightId>\n` +
    `      <EventDate>${escapeText(n.eventDate)}</EventDate>\n` +
    `    </Notification>\n`
  );
}

function headerXml(h: NotificationHeader): string {
  return (
    `  <Header>\n` +
    `    ${element('NotificationId', {}, h.notificationId)}\n` +
    `    <Recipient>\n      ${element('CbeNumber', {}, h.recipientCbe)}\n    </Recipient>\n` +
    `    ${element('CreatedAt', {}, h.createdAt)}\n` +
    `  </Header>\n`
  );
}

/**
 * Writes a complete signed notification file at `path` (the caller publishes it under its final
 * name afterwards). `items` come in seq order; the XSD needs at least one. Deterministic: the
 * same header and items always give the same bytes (RSA PKCS#1 v1.5 signatures are).
 */
export async function writeNotificationFile(
  path: string,
  header: NotificationHeader,
  items: AsyncIterable<NotificationItem> | Iterable<NotificationItem>,
  signer: Signer,
): Promise<NotificationWriteResult> {
  const out = createWriteStream(path, { flags: 'w' });
  const digest = createHash('sha256');
  const fileHash = createHash('sha256');
  let pending = '';
  const flush = async (hashed: boolean): Promise<void> => {
    if (pending.length === 0) return;
    const buf = Buffer.from(pending, 'utf8');
    pending = '';
    if (hashed) digest.update(buf);
    fileHash.update(buf);
    if (!out.write(buf)) await once(out, 'drain');
  };
  try {
    pending += XML_DECL;
    await flush(false); // c14n drops the declaration: not part of the digest
    pending += `<BatchNotification xmlns="${LDM_NS}">\n${headerXml(header)}  <Notifications>\n`;
    let seq = 0;
    for await (const n of items) {
      pending += notificationXml(++seq, n);
      if (pending.length >= CHUNK) await flush(true);
    }
    if (seq === 0) throw new Error(`notification file ${header.notificationId} would be empty`);
    pending += `  </Notifications>\n  <Trailer>\n    ${element('RecordCount', {}, String(seq))}\n  </Trailer>\n`;
    await flush(true);
    // The digest input ends with the root's end tag; the enveloped signature sits just before it.
    digest.update('</BatchNotification>', 'utf8');
    pending += `${signatureElement(digest.digest('base64'), signer)}</BatchNotification>\n`;
    await flush(false);
    out.end();
    await finished(out);
    return { recordCount: seq, fileSha256: fileHash.digest('hex') };
  } catch (err) {
    out.destroy();
    throw err;
  }
}
