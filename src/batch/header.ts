// The request Header as read from a file, checked for shape, shared by the streaming reader
// (saxes) and the envelope check (byte scanner) so that both read the same values.
import { SERVICES, type Environment, type RequestHeader, type ServiceName } from '../interfaces.js';

export const HEADER_FIELDS = ['fileId', 'senderCbe', 'service', 'legalContext', 'environment', 'createdAt'] as const;
export type HeaderField = (typeof HEADER_FIELDS)[number];
export type RawHeader = Partial<Record<HeaderField, string>>;

const FILE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const CBE = /^[0-9]{10}$/;
const ENVIRONMENTS: readonly Environment[] = ['PROD', 'ACPT', 'TEST'];
// xs:dateTime, after white-space collapsing (the schema checks the details).
const DATE_TIME = /^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/** The FileId as written, when it has the schema's shape (a response may then name it). */
export function readableFileId(raw: string | undefined): string | undefined {
  return raw !== undefined && FILE_ID.test(raw) ? raw : undefined;
}

/** The header when every field is present and well-shaped; undefined otherwise. */
export function toHeader(raw: RawHeader): RequestHeader | undefined {
  const fileId = readableFileId(raw.fileId);
  const { senderCbe, service, legalContext, environment } = raw;
  const createdAt = raw.createdAt?.trim(); // xs:dateTime collapses white space
  if (fileId === undefined || senderCbe === undefined || !CBE.test(senderCbe)) return undefined;
  if (!isService(service) || !isEnvironment(environment)) return undefined;
  // schema: 1–128 characters (code points), no leading or trailing white space
  if (legalContext === undefined || legalContext === '' || [...legalContext].length > 128 || legalContext.trim() !== legalContext) return undefined;
  if (createdAt === undefined || !DATE_TIME.test(createdAt)) return undefined;
  return { fileId, senderCbe, service, legalContext, environment, createdAt };
}

function isService(s: string | undefined): s is ServiceName {
  return (SERVICES as readonly (string | undefined)[]).includes(s);
}

function isEnvironment(s: string | undefined): s is Environment {
  return (ENVIRONMENTS as readonly (string | undefined)[]).includes(s);
}
