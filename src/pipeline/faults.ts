// Which faults are worth another attempt. A transient fault is the processor's, not the file's,
// and may pass: spool I/O (a read-only or full disk, an I/O error), the database busy, locked or
// down, the SFTP server unreachable. Anything else is a fault no retry will change. Pure: it
// reads only the error's code, name and message.
import { LdmError } from '../errors.js';

export type FaultKind = 'spool-io' | 'disk-full' | 'database' | 'network' | 'spool-down';

export interface Fault {
  /** Recorded in the journal and used as a metrics label: an errno, a driver code, or an LdmError code. */
  code: string;
  /** Undefined: not transient. */
  transient?: FaultKind;
}

const SPOOL_IO = new Set(['EROFS', 'EIO', 'EACCES', 'EPERM', 'EBUSY', 'EAGAIN', 'EMFILE', 'ENFILE', 'ESTALE', 'EDEADLK']);
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ENOTCONN', 'EPIPE', 'EAI_AGAIN']);
const DATABASE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_PROTOCOL', 'SQLITE_CANTOPEN', 'DB_UNREACHABLE', 'DB_BUSY']);
/** PostgreSQL SQLSTATE classes and codes: connection (08), resources (53: disk full, out of memory, too many connections), shutdown (57P0x), concurrency (40001, 40P01, 55P03). */
const PG_TRANSIENT = /^(08...|53...|57P0[1-4]|40001|40P01|55P03|58030)$/;
const SPOOL_DOWN = new Set(['SFTP_UNREACHABLE', 'SFTP_CONNECT']);
/** SFTP status FX_FAILURE (4), FX_NO_CONNECTION (6), FX_CONNECTION_LOST (7): the server's generic failure (a full disk there) or the link. */
const SFTP_STATUS = new Set([4, 6, 7]);

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

export function classifyFault(err: unknown): Fault {
  const code = codeOf(err);
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof LdmError) {
    if (SPOOL_DOWN.has(err.code)) return { code: err.code, transient: 'spool-down' };
    if (DATABASE.has(err.code)) return { code: err.code, transient: 'database' };
    // A wrapped cause decides (e.g. a spool error around an errno).
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) {
      const inner = classifyFault(cause);
      if (inner.transient) return inner;
    }
    return { code: err.code };
  }
  if (typeof code === 'string') {
    if (DISK_FULL.has(code)) return { code, transient: 'disk-full' };
    if (SPOOL_IO.has(code)) return { code, transient: 'spool-io' };
    if (NETWORK.has(code)) return { code, transient: 'network' };
    if (DATABASE.has(code)) return { code, transient: 'database' };
    if (PG_TRANSIENT.test(code)) return { code: `PG_${code}`, transient: code.startsWith('53100') ? 'disk-full' : 'database' };
  }
  if (typeof code === 'number' && SFTP_STATUS.has(code)) return { code: `SFTP_STATUS_${code}`, transient: 'spool-down' };
  // knex: no pooled connection within acquireConnectionTimeout (the database is down or saturated).
  if (name === 'KnexTimeoutError') return { code: 'DB_TIMEOUT', transient: 'database' };
  // node-postgres: the server went away mid-query (no code on these).
  if (/Connection terminated|connection.*(closed|ended)|terminating connection/i.test(message)) return { code: 'DB_CONNECTION_LOST', transient: 'database' };
  return { code: typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'INTERNAL' };
}
