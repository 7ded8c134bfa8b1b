// Generates request files for tests and measurements.
import { writeFileSync } from 'node:fs';

export interface GenOptions {
  count: number;
  service?: 'LivingWagesWithAmount' | 'LivingWages';
  /** One line per Request instead of one line per element. */
  compact?: boolean;
  /** The Trailer's RecordCount as written (default: count); text to test whitespace and the like. */
  recordCount?: number | string;
  /** Replaces the XML of Request `seq` (return undefined to keep it). */
  request?: (seq: number, xml: string) => string | undefined;
  header?: string;
  /** Namespace declaration of the root (default: the default namespace). */
  rootOpen?: string;
  rootClose?: string;
}

export const HEADER = [
  '  <Header>',
  '    <FileId>GEN-0001</FileId>',
  '    <Sender><CbeNumber>0308357159</CbeNumber></Sender>',
  '    <Service>LivingWagesWithAmount</Service>',
  '    <LegalContext>FPS_FINANCE:TAX_ASSESSMENT</LegalContext>',
  '    <Environment>PROD</Environment>',
  '    <CreatedAt>2026-01-15T03:00:00Z</CreatedAt>',
  '  </Header>',
].join('\n');

/** Line number of Request 1's start tag in a generated file (pretty form: 5 lines per request). */
export const FIRST_REQUEST_LINE = 12;
export const LINES_PER_REQUEST = 5;

export function ssinFor(i: number): string {
  const base = String(850101000 + (i % 99999) * 7).padStart(9, '0');
  return base + String(97 - (Number(base) % 97)).padStart(2, '0');
}

export function requestXml(seq: number, compact = false, service = 'LivingWagesWithAmount'): string {
  const ticket = seq % 3 === 0 ? `<Ticket>t-${seq}</Ticket>` : '';
  const role = service === 'LivingWages' ? '' : seq % 2 === 0 ? '<Role>PARTNER</Role>' : '<Role>BENEFICIARY</Role>';
  const period =
    service === 'LivingWages'
      ? '<Period><Dates><From>2025-01-01</From><To>2025-06-30</To></Dates></Period>'
      : seq % 2 === 0
        ? '<Period><Months><From>2025-01</From><To>2025-06</To></Months></Period>'
        : '<Period><Year>2025</Year></Period>';
  if (compact) return `    <Request seq="${seq}">${ticket}<Ssin>${ssinFor(seq)}</Ssin>${role}${period}</Request>`;
  // pretty: always LINES_PER_REQUEST lines
  return [`    <Request seq="${seq}">`, `      ${ticket}<Ssin>${ssinFor(seq)}</Ssin>`, `      ${role}`, `      ${period}`, '    </Request>'].join('\n');
}

export function generateRequest(o: GenOptions): string {
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    o.rootOpen ?? '<BatchRequest xmlns="urn:ldm-batch:v1">',
    (o.header ?? HEADER).replace('LivingWagesWithAmount', o.service ?? 'LivingWagesWithAmount'),
    '  <Requests>',
  ];
  for (let seq = 1; seq <= o.count; seq++) {
    const xml = requestXml(seq, o.compact, o.service);
    parts.push(o.request?.(seq, xml) ?? xml);
  }
  parts.push('  </Requests>', `  <Trailer><RecordCount>${o.recordCount ?? o.count}</RecordCount></Trailer>`, o.rootClose ?? '</BatchRequest>', '');
  return parts.join('\n');
}

export function writeRequest(path: string, o: GenOptions): string {
  writeFileSync(path, generateRequest(o));
  return path;
}
