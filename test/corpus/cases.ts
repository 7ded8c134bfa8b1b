// The bad-input corpus: hostile and broken request files, each with the outcome the spool must
// give it. Small cases are literal; large ones are generated at test time (never committed).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { requestHeaderXml, requestLineXml } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

export interface CorpusCase {
  name: string;
  /** The file name dropped into in/ (may itself be the hostile part). */
  file: string;
  /** Writes the file's bytes at `path`. */
  make(path: string): Promise<void>;
  expect: { outcome: 'ANSWERED' } | { outcome: 'REJECTED'; code: string } | { outcome: 'FAILED'; code: string };
}

const head = (over: Parameters<typeof S.header>[0] = {}): string => requestHeaderXml(S.header(over));
const line1 = requestLineXml(1, S.lines[0]);
const tail = (n: number): string => `  </Requests>\n  <Trailer><RecordCount>${n}</RecordCount></Trailer>\n</BatchRequest>\n`;
const valid = (over: Parameters<typeof S.header>[0] = {}): string => head(over) + line1 + tail(1);

async function write(path: string, data: string | Buffer): Promise<void> {
  const out = createWriteStream(path);
  out.end(data);
  await once(out, 'finish');
}

/** A header, then one Request whose Ticket is `bytes` long, all on one line. */
async function oneHugeLine(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(head().replace(/\n/g, '') + '<Request seq="1"><Ticket>');
  const chunk = Buffer.alloc(1 << 20, 'A');
  for (let written = 0; written < bytes; written += chunk.length) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end(`</Ticket><Ssin>${S.A}</Ssin><Period><Year>2025</Year></Period></Request>` + tail(1).replace(/\n/g, ''));
  await once(out, 'finish');
}

const HUGE_LINE_BYTES = Number(process.env.LDM_CORPUS_HUGE_MB ?? 1024) << 20;

export const CASES: CorpusCase[] = [
  { name: 'empty file', file: 'empty.xml', make: (p) => write(p, ''), expect: { outcome: 'REJECTED', code: 'NOT_WELL_FORMED' } },
  { name: 'truncated XML', file: 'truncated.xml', make: (p) => write(p, valid().slice(0, valid().length - 60)), expect: { outcome: 'REJECTED', code: 'NOT_WELL_FORMED' } },
  {
    name: 'not UTF-8 (Latin-1 bytes)',
    file: 'latin1.xml',
    make: (p) => write(p, Buffer.from(valid().replace('client-ref-0001', 'réf-0001'), 'latin1')),
    expect: { outcome: 'REJECTED', code: 'NOT_WELL_FORMED' },
  },
  { name: 'UTF-8 BOM (legal)', file: 'bom.xml', make: (p) => write(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid({ fileId: 'BOM-1' }))])), expect: { outcome: 'ANSWERED' } },
  {
    name: 'DTD with internal subset',
    file: 'dtd.xml',
    make: (p) => write(p, valid().replace('<BatchRequest', '<!DOCTYPE BatchRequest [<!ELEMENT BatchRequest ANY>]>\n<BatchRequest')),
    expect: { outcome: 'REJECTED', code: 'DTD_FORBIDDEN' },
  },
  {
    name: 'XXE (external entity)',
    file: 'xxe.xml',
    make: (p) => write(p, valid().replace('<BatchRequest', '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<BatchRequest').replace('client-ref-0001', '&x;')),
    expect: { outcome: 'REJECTED', code: 'DTD_FORBIDDEN' },
  },
  {
    name: 'billion laughs',
    file: 'laughs.xml',
    make: (p) => {
      let ents = '<!ENTITY l0 "lol">';
      for (let i = 1; i < 10; i++) ents += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
      return write(p, valid().replace('<BatchRequest', `<!DOCTYPE r [${ents}]>\n<BatchRequest`).replace('client-ref-0001', '&l9;'));
    },
    expect: { outcome: 'REJECTED', code: 'DTD_FORBIDDEN' },
  },
  {
    name: `a ${HUGE_LINE_BYTES >> 20} MB single line`,
    file: 'huge-line.xml',
    make: (p) => oneHugeLine(p, HUGE_LINE_BYTES),
    // well-formed; the schema allows no Ticket that long (the guard refuses it while streaming)
    expect: { outcome: 'REJECTED', code: 'SCHEMA_INVALID' },
  },
  {
    name: 'deep nesting (100,000 levels)',
    file: 'deep.xml',
    make: (p) => write(p, head() + '<Request seq="1">' + '<x>'.repeat(100_000) + '</x>'.repeat(100_000) + '</Request>' + tail(1)),
    expect: { outcome: 'REJECTED', code: 'NOT_WELL_FORMED' },
  },
  { name: 'wrong namespace', file: 'ns.xml', make: (p) => write(p, valid().replace('urn:ldm-batch:v1', 'urn:ldm-batch:v2')), expect: { outcome: 'REJECTED', code: 'SCHEMA_INVALID' } },
  { name: 'unknown sender', file: 'unknown-sender.xml', make: (p) => write(p, valid({ senderCbe: '0316381039' })), expect: { outcome: 'REJECTED', code: 'UNKNOWN_SENDER' } },
  { name: "sender spoofing another client's CBE", file: 'spoof.xml', make: (p) => write(p, valid({ senderCbe: S.MUT.cbe })), expect: { outcome: 'REJECTED', code: 'SENDER_MISMATCH' } },
  { name: 'RecordCount off by one', file: 'count.xml', make: (p) => write(p, head() + line1 + tail(2)), expect: { outcome: 'REJECTED', code: 'TRAILER_MISMATCH' } },
  { name: 'duplicate seq', file: 'dupseq.xml', make: (p) => write(p, head() + line1 + line1 + tail(2)), expect: { outcome: 'REJECTED', code: 'DUPLICATE_SEQ' } },
  {
    name: 'descending seq',
    file: 'descseq.xml',
    make: (p) => write(p, head() + requestLineXml(2, S.lines[0]) + requestLineXml(1, S.lines[0]) + tail(2)),
    expect: { outcome: 'REJECTED', code: 'SEQ_ORDER' },
  },
  { name: '0 lines', file: 'zero.xml', make: (p) => write(p, head() + tail(0)), expect: { outcome: 'REJECTED', code: 'SCHEMA_INVALID' } },
  { name: 'file name with a control character', file: 'bad\u0001name.xml', make: (p) => write(p, valid({ fileId: 'CTRL-1' })), expect: { outcome: 'FAILED', code: 'UNSAFE_NAME' } },
  { name: 'file name with a path separator (backslash)', file: 'x\\..\\..\\etc.xml', make: (p) => write(p, valid({ fileId: 'SEP-1' })), expect: { outcome: 'FAILED', code: 'UNSAFE_NAME' } },
  { name: 'wrong environment', file: 'env.xml', make: (p) => write(p, valid({ environment: 'TEST' })), expect: { outcome: 'REJECTED', code: 'WRONG_ENVIRONMENT' } },
  { name: 'unauthorized service', file: 'service.xml', make: (p) => write(p, valid({ service: 'LivingWages' })), expect: { outcome: 'REJECTED', code: 'MSG00013' } },
  { name: 'unauthorized legal context', file: 'context.xml', make: (p) => write(p, valid({ legalContext: 'FPS_FINANCE:RECOVERY' })), expect: { outcome: 'REJECTED', code: 'MSG00013' } },
];

/** A valid file, dropped after each bad one: it must still be answered. */
export const validAfter = (i: number): string => valid({ fileId: `AFTER-${i}` });
