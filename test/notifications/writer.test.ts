// The BatchNotification writer in-process: schema-valid, signed (our verifier, xml-crypto,
// xmlsec1), deterministic, and no business data.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notificationXml, writeNotificationFile, type NotificationItem } from '../../src/notifications/writer.js';
import { verifyResponse } from '../../src/response/verify.js';
import { validateNotificationFile } from '../../src/batch/validate.js';
import { removeTestKeys, testKeys } from '../helpers/keys.js';
import { HAVE_XMLSEC1, NO_XMLSEC1, xmlCryptoVerify, xmlsec1Verify } from '../response/fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  removeTestKeys();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ldm-notif-'));
  dirs.push(d);
  return d;
}

const HEADER = { notificationId: 'NOTIF-0411702543-000017', recipientCbe: '0411702543', createdAt: '2026-03-02T04:00:00Z' };
const ITEMS: NotificationItem[] = [
  { ssin: '85073003328', event: 'CREATED', rightId: 'R-2026-000456', eventDate: '2026-03-01' },
  { ssin: '75051221070', event: 'CANCELLED', rightId: 'R-2024-000123', eventDate: '2026-03-01' },
];

describe('writeNotificationFile', () => {
  it('writes a schema-valid, signed file that every verifier accepts', async () => {
    const keys = await testKeys();
    const path = join(await tmp(), 'n.notification.xml');
    const r = await writeNotificationFile(path, HEADER, ITEMS, keys.signer);
    expect(r.recordCount).toBe(2);
    expect(await validateNotificationFile(path)).toEqual({ ok: true });
    const v = await verifyResponse(path, { trustedCertPem: keys.signer.certificatePem });
    expect(v).toMatchObject({ ok: true, recordCount: 2 });
    expect(xmlCryptoVerify(path, keys.signer.certificatePem)).toBe(true);
  });

  it.skipIf(!HAVE_XMLSEC1)(`is accepted by xmlsec1, and refused after a one-byte change (${NO_XMLSEC1})`, async () => {
    const keys = await testKeys();
    const dir = await tmp();
    const path = join(dir, 'n.notification.xml');
    await writeNotificationFile(path, HEADER, ITEMS, keys.signer);
    expect((await xmlsec1Verify(path, keys.certPath)).code).toBe(0);
    const text = await readFile(path, 'utf8');
    const bad = join(dir, 'bad.notification.xml');
    await writeFile(bad, text.replace('<Event>CANCELLED</Event>', '<Event>MODIFIED</Event>'));
    expect((await xmlsec1Verify(bad, keys.certPath)).code).not.toBe(0);
    expect((await verifyResponse(bad)).ok).toBe(false);
  });

  it('is byte-identical when written again (a re-run after a crash)', async () => {
    const keys = await testKeys();
    const dir = await tmp();
    await writeNotificationFile(join(dir, 'a.xml'), HEADER, ITEMS, keys.signer);
    await writeNotificationFile(join(dir, 'b.xml'), HEADER, (async function* () {
      yield* ITEMS;
    })(), keys.signer);
    expect((await readFile(join(dir, 'b.xml'))).equals(await readFile(join(dir, 'a.xml')))).toBe(true);
  });

  it('carries only seq, Ssin, Event, RightId and EventDate per notification', () => {
    expect(notificationXml(1, ITEMS[0])).toBe(
      '    <Notification seq="1">\n      <Ssin>85073003328</Ssin>\n      <Event>CREATED</Event>\n      <RightId>R-2026-000456</RightId>\n      <EventDate>2026-03-01</EventDate>\n    </Notification>\n',
    );
  });

  it('refuses to write an empty file (the XSD needs one Notification)', async () => {
    const keys = await testKeys();
    await expect(writeNotificationFile(join(await tmp(), 'e.xml'), HEADER, [], keys.signer)).rejects.toThrow(/empty/);
  });

  it('writes many notifications in chunks (streaming) and stays valid', async () => {
    const keys = await testKeys();
    const path = join(await tmp(), 'big.xml');
    const many = Array.from({ length: 5000 }, (_, i): NotificationItem => ({ ...ITEMS[i % 2], rightId: `R-${i}` }));
    expect((await writeNotificationFile(path, HEADER, many, keys.signer)).recordCount).toBe(5000);
    expect(await validateNotificationFile(path)).toEqual({ ok: true });
    expect((await verifyResponse(path)).ok).toBe(true);
  });
});
