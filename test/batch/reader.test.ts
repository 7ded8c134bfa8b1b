// Streaming reading of request files: the lines for processing, and the envelope checks.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestLine } from '../../src/interfaces.js';
import { GrowableBitset } from '../../src/batch/bitset.js';
import { checkEnvelope } from '../../src/batch/envelope.js';
import { readRequest, readRequestEvents, type RequestEvent } from './requestSax.js';
import { FIRST_REQUEST_LINE, generateRequest, LINES_PER_REQUEST, ssinFor } from './gen.js';

const tmp = mkdtempSync(join(tmpdir(), 'ldm-reader-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(tmp, `r${n++}.xml`);
  writeFileSync(path, content);
  return path;
}

async function allLines(path: string): Promise<RequestLine[]> {
  const out: RequestLine[] = [];
  for await (const line of readRequest(path).lines) out.push(line);
  return out;
}

const AMOUNTS_HEADER = {
  fileId: 'FIN-2026-000001',
  senderCbe: '0308357159',
  service: 'LivingWagesWithAmount',
  legalContext: 'FPS_FINANCE:TAX_ASSESSMENT',
  environment: 'PROD',
  createdAt: '2026-01-15T03:00:00Z',
};

describe('readRequest', () => {
  it('reads header, lines and trailer of the amounts fixture', async () => {
    const r = readRequest('fixtures/requests/amounts-valid.xml');
    expect(await r.header).toEqual(AMOUNTS_HEADER);
    const lines: RequestLine[] = [];
    for await (const line of r.lines) lines.push(line);
    expect(lines).toEqual([
      { seq: 1, ticket: 'client-ref-0001', ssin: '85073003328', role: 'BENEFICIARY', period: { kind: 'year', year: 2025 }, line: 12 },
      { seq: 2, ssin: '85073003328', role: 'PARTNER', period: { kind: 'months', from: '2025-01', to: '2025-06' }, line: 18 },
      { seq: 3, ticket: 'client-ref-0003', ssin: '90020112305', period: { kind: 'months', from: '2024-07', to: '2025-06' }, line: 23 },
      { seq: 4, ssin: '92111500797', role: 'PARTNER', period: { kind: 'year', year: 2024 }, line: 28 },
    ]);
    expect(await r.trailer).toEqual({ recordCount: 4 });
  });

  it('reads Dates periods and keeps a Ticket verbatim (LivingWages fixture)', async () => {
    const r = readRequest('fixtures/requests/rights-valid.xml');
    const lines = [];
    for await (const line of r.lines) lines.push(line);
    expect(await r.header).toMatchObject({ fileId: 'MUT-2026.01_rights-7', service: 'LivingWages', environment: 'ACPT', createdAt: '2026-02-01T08:30:00+01:00' });
    expect(lines).toEqual([
      { seq: 1, ticket: 'dossier 42/2026', ssin: '85073003328', period: { kind: 'dates', from: '2025-01-01', to: '2025-12-31' }, line: 12 },
      { seq: 2, ssin: '75051221070', period: { kind: 'dates', from: '2024-02-29', to: '2024-03-31' }, line: 17 },
    ]);
  });

  it('yields events in order: header, lines, trailer', async () => {
    const kinds: RequestEvent['kind'][] = [];
    for await (const ev of readRequestEvents(file(generateRequest({ count: 3 })))) kinds.push(ev.kind);
    expect(kinds).toEqual(['header', 'line', 'line', 'line', 'trailer']);
  });

  it('reads a large file across read chunks, with the line of each start tag', async () => {
    const count = 20_000;
    const lines = await allLines(file(generateRequest({ count })));
    expect(lines).toHaveLength(count);
    for (const [i, l] of lines.entries()) {
      if (l.seq !== i + 1 || l.line !== FIRST_REQUEST_LINE + i * LINES_PER_REQUEST || l.ssin !== ssinFor(i + 1)) {
        throw new Error(`line ${i}: ${JSON.stringify(l)}`);
      }
    }
    expect(lines[1]).toEqual({ seq: 2, ssin: ssinFor(2), role: 'PARTNER', period: { kind: 'months', from: '2025-01', to: '2025-06' }, line: 17 });
  });

  it('decodes entities and CDATA, accepts prefixes, white space around numbers and multi-line start tags', async () => {
    const xml = generateRequest({
      count: 2,
      rootOpen: '<l:BatchRequest xmlns:l="urn:ldm-batch:v1" xmlns="urn:ldm-batch:v1">',
      rootClose: '</l:BatchRequest>',
      request: (seq, x) =>
        seq === 2 ? x.replace('<Request seq="2">', '<Request\n      seq=" 02 "\n    >').replace('<Ssin>', '<Ticket>a &amp; b<![CDATA[<c>]]>&#x20AC;</Ticket><Ssin>') : undefined,
    }).replace('<RecordCount>2<', '<RecordCount> 2 <');
    const r = readRequest(file(xml));
    const lines = [];
    for await (const line of r.lines) lines.push(line);
    expect(lines[1]).toMatchObject({ seq: 2, ticket: 'a & b<c>€', line: 17 });
    expect(await r.trailer).toEqual({ recordCount: 2 });
  });

  it('reads a file with a byte order mark and CRLF line ends', async () => {
    const xml = `\uFEFF${generateRequest({ count: 3 }).replace(/\n/g, '\r\n')}`;
    expect((await allLines(file(xml))).map((l) => [l.seq, l.line])).toEqual([
      [1, 12],
      [2, 17],
      [3, 22],
    ]);
  });

  it('works when only the lines are read, or only the header', async () => {
    const path = file(generateRequest({ count: 5 }));
    expect((await allLines(path)).map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    const r = readRequest(path);
    expect((await r.header).fileId).toBe('GEN-0001');
    const seqs = [];
    for await (const line of r.lines) seqs.push(line.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops early without reading on when the consumer breaks', async () => {
    const path = file(generateRequest({ count: 50_000 }));
    const t0 = performance.now();
    for await (const line of readRequest(path).lines) if (line.seq === 3) break;
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('throws an Error with line and column on malformed input, and on a wrong root', async () => {
    const truncated = generateRequest({ count: 10 }).slice(0, -200);
    await expect(allLines(file(truncated))).rejects.toThrow(/:\d+:\d+: /);
    const r = readRequest(file(truncated));
    await expect(r.header).resolves.toMatchObject({ fileId: 'GEN-0001' });
    await expect((async () => {
      for await (const _ of r.lines) void _;
    })()).rejects.toThrow(/:59:1: not well-formed XML: unclosed tag: Request/);
    await expect(r.trailer).rejects.toThrow(/:59:1: /); // settles once lines has been read

    const mismatch = generateRequest({ count: 3 }).replace('</Ssin>', '</Sin>');
    await expect(allLines(file(mismatch))).rejects.toThrow(/:13:30: not well-formed XML: unexpected close tag/);

    await expect(allLines(file(generateRequest({ count: 2 }).replace('urn:ldm-batch:v1', 'urn:other')))).rejects.toThrow(
      /:2:\d+: the root element must be BatchRequest in namespace urn:ldm-batch:v1/,
    );
    await expect(allLines(file(''))).rejects.toThrow(/root element/);
    await expect(readRequest(file('<BatchRequest xmlns="urn:ldm-batch:v1"><Requests/></BatchRequest>')).header).rejects.toThrow(
      /Requests before the Header/,
    );
  });

  it('a header or trailer failure is not an unhandled rejection when only lines are read', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = readRequest(file('<not-xml'));
      await expect((async () => {
        for await (const _ of r.lines) void _;
      })()).rejects.toThrow();
      await new Promise((res) => setTimeout(res, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe('checkEnvelope', () => {
  it('reads header, counts and the SHA-256 of the bytes', async () => {
    const path = 'fixtures/requests/amounts-valid.xml';
    const env = await checkEnvelope(path);
    const bytes = readFileSync(path);
    expect(env).toEqual({
      header: AMOUNTS_HEADER,
      fileId: 'FIN-2026-000001',
      recordCount: 4,
      trailerPosition: { line: 34, column: 12 },
      requestCount: 4,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
    });
  });

  it('detects a trailer off by one', async () => {
    for (const recordCount of [9, 11]) {
      const env = await checkEnvelope(file(generateRequest({ count: 10, recordCount })));
      expect(env).toMatchObject({ recordCount, requestCount: 10 });
      expect(env.duplicateSeq).toBeUndefined();
    }
  });

  it('detects the first duplicate seq at its second occurrence', async () => {
    const xml = generateRequest({
      count: 40,
      request: (seq, x) => (seq === 31 ? x.replace('seq="31"', 'seq="007"') : seq === 35 ? x.replace('seq="35"', 'seq="2"') : undefined),
    });
    const env = await checkEnvelope(file(xml));
    expect(env.duplicateSeq).toEqual({ seq: 7, line: FIRST_REQUEST_LINE + 30 * LINES_PER_REQUEST, column: 14 });
    expect(env.requestCount).toBe(40);
  });

  it('handles a large seq and a file of 100,000 requests', async () => {
    const big = await checkEnvelope(file(generateRequest({ count: 3, request: (seq, x) => (seq === 2 ? x.replace('seq="2"', 'seq="99999999"') : undefined) })));
    expect(big.duplicateSeq).toBeUndefined();
    const path = file(generateRequest({ count: 100_000, compact: true, request: (seq, x) => (seq === 100_000 ? x.replace('seq="100000"', 'seq="1"') : undefined) }));
    const env = await checkEnvelope(path);
    expect(env).toMatchObject({ requestCount: 100_000, recordCount: 100_000, duplicateSeq: { seq: 1, line: FIRST_REQUEST_LINE + 99_999 } });
    expect(env.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('reads what it can from a file that fails the schema, and never throws on content', async () => {
    const invalid = await checkEnvelope('fixtures/requests/invalid-schema.xml');
    expect(invalid.header).toBeUndefined(); // Environment DEV
    expect(invalid.fileId).toBe('FIN-2026-000002');
    expect(invalid.requestCount).toBe(3);

    const otherNs = await checkEnvelope(file(generateRequest({ count: 2 }).replace('urn:ldm-batch:v1', 'urn:other')));
    expect(otherNs.header?.fileId).toBe('GEN-0001');

    const truncated = await checkEnvelope(file(generateRequest({ count: 5 }).slice(0, 700)));
    expect(truncated).toMatchObject({ fileId: 'GEN-0001', requestCount: 2 });
    expect(truncated.recordCount).toBeUndefined();

    const badId = await checkEnvelope(file(generateRequest({ count: 1 }).replace('GEN-0001', 'has spaces in it')));
    expect(badId.fileId).toBeUndefined();
    expect(badId.header).toBeUndefined();

    for (const junk of ['', 'not xml at all', '<<<>>>&&', Buffer.from([0xff, 0xfe, 0x00, 0x3c]), '<a><b c="></a>']) {
      const env = await checkEnvelope(file(junk));
      expect(env.requestCount).toBe(0);
      expect(env.header).toBeUndefined();
    }
  });
});

describe('GrowableBitset', () => {
  it('adds, detects repeats and grows', () => {
    const s = new GrowableBitset(64);
    expect(s.add(1)).toBe(true);
    expect(s.add(1)).toBe(false);
    expect(s.add(1_000_000)).toBe(true);
    expect(s.has(1_000_000)).toBe(true);
    expect(s.has(999_999)).toBe(false);
    expect(s.add(1_000_000)).toBe(false);
    expect(s.has(1)).toBe(true);
  });
});
