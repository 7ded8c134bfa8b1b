// The pure rules behind quarantine and the start checks (issue 13), as tables.
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_NAME_BYTES, claimFileName, decodeRawName, encodeRawName, hostileEntryReason, unprocessableReason } from '../../src/spool/transport.js';
import { spoolRootProblem } from '../../src/spool/root.js';

describe('unprocessableReason', () => {
  const table: [string, RegExp | undefined][] = [
    ['R1.xml', undefined],
    [`${'é'.repeat(73)}.xml`, undefined], // 150 bytes: the limit
    [`${'é'.repeat(74)}.xml`, /152 bytes long in UTF-8; at most 150/],
    [`${'é'.repeat(110)}.xml`, /224 bytes long/],
    [`${'a'.repeat(146)}.xml`, undefined],
    [`${'a'.repeat(147)}.xml`, /151 bytes/],
    ['bad\u0001name.xml', /control characters/],
    ['tab\tname.xml', /control characters/],
    ['del\u007fname.xml', /control characters/],
    ['x\\..\\etc.xml', /backslash/],
    [encodeRawName(Buffer.from([0x66, 0xff, 0x2e, 0x78, 0x6d, 0x6c])), /not valid UTF-8/],
  ];
  for (const [name, reason] of table) {
    it(JSON.stringify(name).slice(0, 40), () => {
      const r = unprocessableReason(name);
      if (reason === undefined) expect(r).toBeUndefined();
      else expect(r).toMatch(reason);
    });
  }

  it('every name within the limit still has a claim name of at most 255 bytes, with the longest instance id', () => {
    const name = `${'é'.repeat((MAX_REQUEST_NAME_BYTES - 4) / 2)}.xml`;
    expect(unprocessableReason(name)).toBeUndefined();
    expect(Buffer.byteLength(claimFileName(name, 'i'.repeat(64), 9_999_999_999_999))).toBeLessThanOrEqual(255);
  });
});

describe('raw (non-UTF-8) names', () => {
  it('round-trip, and never decode to a name with a slash or NUL', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x2e, 0x78, 0x6d, 0x6c]);
    expect(decodeRawName(encodeRawName(raw))?.equals(raw)).toBe(true);
    expect(decodeRawName(encodeRawName(Buffer.from('a/b')))).toBeUndefined();
    expect(decodeRawName(encodeRawName(Buffer.from([0x61, 0])))).toBeUndefined();
    expect(decodeRawName('R1.xml')).toBeUndefined();
  });
});

describe('hostileEntryReason', () => {
  const e = (name: string, o: { kind?: 'link' | 'directory' | 'fifo' | 'other'; badEncoding?: boolean } = {}) => ({ name, size: 0, mtimeMs: 0, ...o });
  const table: [ReturnType<typeof e>, RegExp | undefined][] = [
    [e('R.xml'), undefined],
    [e('R.xml', { kind: 'link' }), /symbolic link/],
    [e('R.xml', { kind: 'directory' }), /folder/],
    [e('R.xml', { kind: 'fifo' }), /FIFO/],
    [e('R.xml', { kind: 'other' }), /special file/],
    [e('notes.txt', { kind: 'link' }), undefined], // not a request name: left alone, never read
    [e('.hidden.xml', { kind: 'link' }), undefined],
    [e('R.xml.part', { kind: 'fifo' }), undefined],
    [e(encodeRawName(Buffer.from([0xff, 0x2e, 0x78, 0x6d, 0x6c])), { badEncoding: true }), /not valid UTF-8/],
    [e(encodeRawName(Buffer.from([0xff, 0x2e, 0x74, 0x78, 0x74])), { badEncoding: true }), undefined], // ".txt"
    [e(encodeRawName(Buffer.from([0x2e, 0xff, 0x2e, 0x78, 0x6d, 0x6c])), { badEncoding: true }), undefined], // hidden
  ];
  for (const [entry, reason] of table) {
    it(`${entry.name} ${entry.kind ?? ''}`, () => {
      const r = hostileEntryReason(entry);
      if (reason === undefined) expect(r).toBeUndefined();
      else expect(r).toMatch(reason);
    });
  }
});

describe('spoolRootProblem', () => {
  const table: [string, string, RegExp | undefined][] = [
    ['/srv/ldm-batch/spool', '/srv/ldm-batch/spool', undefined],
    ['/var/spool/ldm', '/var/spool/ldm', undefined],
    ['/tmp/ldm-x/spool', './spool', undefined],
    ['/', '/', /file-system root/],
    ['/', '//', /file-system root/],
    ['/etc', '/etc/', /system folder \/etc/],
    ['/usr', '/usr', /system folder/],
    ['/proc', '/proc', /system folder/],
    ['/var/spool', '/var/spool', /system folder/],
    ['/home', '/home', /system folder/],
    ['/tmp', '/tmp', /system folder/],
    ['/srv', './spool/../../..', /\.\./],
    ['/a/spool', '../spool', /\.\./],
    ['/a/b', '', /empty/],
  ];
  for (const [root, written, reason] of table) {
    it(`${written || '(empty)'} → ${root}`, () => {
      const r = spoolRootProblem(root, written);
      if (reason === undefined) expect(r).toBeUndefined();
      else expect(r).toMatch(reason);
    });
  }
});
