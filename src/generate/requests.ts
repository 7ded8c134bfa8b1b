// Writes request files (contract §3) from line descriptions, streaming, for demos, tests and benchmarks.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RequestHeader, RequestPeriod, Role } from '../interfaces.js';
import type { GeneratedPerson } from './dataset.js';

export interface RequestSpec {
  ticket?: string;
  ssin: string;
  role?: Role;
  period: RequestPeriod;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function periodXml(p: RequestPeriod): string {
  if (p.kind === 'year') return `<Period><Year>${p.year}</Year></Period>`;
  if (p.kind === 'months') return `<Period><Months><From>${p.from}</From><To>${p.to}</To></Months></Period>`;
  return `<Period><Dates><From>${p.from}</From><To>${p.to}</To></Dates></Period>`;
}

export function requestLineXml(seq: number, l: RequestSpec): string {
  return (
    `    <Request seq="${seq}">` +
    (l.ticket ? `<Ticket>${esc(l.ticket)}</Ticket>` : '') +
    `<Ssin>${l.ssin}</Ssin>` +
    (l.role ? `<Role>${l.role}</Role>` : '') +
    periodXml(l.period) +
    `</Request>\n`
  );
}

export function requestHeaderXml(h: RequestHeader): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<BatchRequest xmlns="urn:ldm-batch:v1">\n  <Header>\n` +
    `    <FileId>${esc(h.fileId)}</FileId>\n    <Sender><CbeNumber>${h.senderCbe}</CbeNumber></Sender>\n` +
    `    <Service>${h.service}</Service>\n    <LegalContext>${esc(h.legalContext)}</LegalContext>\n` +
    `    <Environment>${h.environment}</Environment>\n    <CreatedAt>${h.createdAt}</CreatedAt>\n  </Header>\n  <Requests>\n`
  );
}

/** Writes a whole request file; `recordCount` defaults to the number of lines written. */
export async function writeRequestFile(path: string, header: RequestHeader, lines: Iterable<RequestSpec>, opts: { recordCount?: number } = {}): Promise<number> {
  const out = createWriteStream(path);
  let buf = requestHeaderXml(header);
  let n = 0;
  for (const l of lines) {
    buf += requestLineXml(++n, l);
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  buf += `  </Requests>\n  <Trailer><RecordCount>${opts.recordCount ?? n}</RecordCount></Trailer>\n</BatchRequest>\n`;
  out.end(buf);
  await once(out, 'finish');
  return n;
}

/**
 * A realistic mix of lines over the generated persons: yearly and monthly lines, some PARTNER
 * lines, plus a few wrong check digits and unknown numbers.
 */
export function* sampleLines(persons: readonly GeneratedPerson[], r: () => number, count: number, referenceYear: number): Generator<RequestSpec> {
  for (let i = 0; i < count; i++) {
    const p = persons[Math.floor(r() * persons.length)];
    const x = r();
    let ssin = p.ssin;
    if (x < 0.03) ssin = ssin.slice(0, 9) + String((Number(ssin.slice(9)) + 1) % 100).padStart(2, '0'); // wrong check digits
    const role: Role = p.partner && r() < 0.15 ? 'PARTNER' : 'BENEFICIARY';
    const year = referenceYear - 1 - Math.floor(r() * 3);
    const period: RequestPeriod =
      r() < 0.5 ? { kind: 'year', year } : { kind: 'months', from: `${year}-${String(1 + Math.floor(r() * 6)).padStart(2, '0')}`, to: `${year}-12` };
    yield { ticket: r() < 0.5 ? `ref-${i + 1}` : undefined, ssin, role, period };
  }
}
