// Where the XSD files are, for every validator (libxml2-wasm in validate.ts, the streaming one in
// streamValidate.ts); a module of its own so that naming a schema does not load the wasm.
import { fileURLToPath } from 'node:url';

export type SchemaKind = 'request' | 'response' | 'notification';

export const SCHEMA_FILES: Record<SchemaKind, string> = {
  request: 'ldm-batch-request.xsd',
  response: 'ldm-batch-response.xsd',
  notification: 'ldm-batch-notification.xsd',
};

/** The element whose children are the records, per kind of file. */
export const CONTAINERS: Record<SchemaKind, string> = {
  request: 'Requests',
  response: 'Responses',
  notification: 'Notifications',
};

/**
 * The schemas folder of the package. This module is two levels below the package root both
 * as compiled (dist/batch/schemaFiles.js) and as source run by vitest (src/batch/schemaFiles.ts).
 */
export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export function schemaPath(kind: SchemaKind): string {
  return `${SCHEMA_DIR}${SCHEMA_FILES[kind]}`;
}
