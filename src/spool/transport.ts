import { randomBytes } from 'node:crypto';
import { LdmError } from '../errors.js';
// The spool transport: the few file operations the pipeline needs, the same for a local folder
// and an SFTP server (Camel's GenericFileOperations). The claim/commit lifecycle sits above it.

export type SpoolFolder = 'in' | 'out' | 'archive' | 'error';
export const SPOOL_FOLDERS: readonly SpoolFolder[] = ['in', 'out', 'archive', 'error'];

export interface SpoolEntry {
  name: string;
  size: number;
  mtimeMs: number;
  /** Set when the entry is not a regular file: never read, only quarantined. */
  kind?: 'link' | 'directory' | 'fifo' | 'other';
  /** The name on disk is not UTF-8; `name` is then its encodeRawName form. */
  badEncoding?: boolean;
}

export interface SpoolTransport {
  /** A short description for logs, e.g. `local:/srv/spool` or `sftp://host:22/spool`. */
  readonly description: string;
  ensureFolders(clientId: string): Promise<void>;
  list(clientId: string, folder: SpoolFolder): Promise<SpoolEntry[]>;
  /** Renames without ever replacing an existing file; resolves false when the source is gone or the target exists. */
  renameNoClobber(clientId: string, from: { folder: SpoolFolder; name: string }, to: { folder: SpoolFolder; name: string }): Promise<boolean>;
  /** Makes the file readable at a local path (the local transport returns it in place; SFTP downloads into workDir). */
  fetch(clientId: string, folder: SpoolFolder, name: string, workDir: string): Promise<string>;
  /** Publishes a local file under `name`: written under a temporary name, then renamed; never replaces an existing file. */
  publish(localPath: string, clientId: string, folder: SpoolFolder, name: string): Promise<'published' | 'exists'>;
  exists(clientId: string, folder: SpoolFolder, name: string): Promise<boolean>;
  /** Whether the spool root is a folder (SFTP: after connecting, so the host key pin and the login are checked too). */
  rootExists(): Promise<boolean>;
  /** The client's folders that do not exist as real folders (for `ldm-batch check`; nothing is created, no link followed). */
  missingFolders(clientId: string): Promise<SpoolFolder[]>;
  close(): Promise<void>;
}

/**
 * Why an entry of in/ is quarantined as soon as it is seen, without ever being read: a link, a
 * folder, a FIFO or another special file under a request name, or a request name that is not
 * UTF-8. Undefined for everything else (ordinary files, and names the pickup ignores anyway).
 */
export function hostileEntryReason(e: SpoolEntry): string | undefined {
  const raw = e.badEncoding ? decodeRawName(e.name) : undefined;
  const looksLikeRequest = raw !== undefined ? raw.subarray(-4).toString('latin1') === '.xml' && raw[0] !== 0x2e : isCandidateRequest(e.name);
  if (!looksLikeRequest) return undefined;
  if (e.kind !== undefined) {
    const what = { link: 'a symbolic link', directory: 'a folder', fifo: 'a FIFO (named pipe)', other: 'a special file (socket or device)' }[e.kind];
    return `it is ${what}, not a regular file; it was not read`;
  }
  if (raw !== undefined) return 'the file name is not valid UTF-8';
  return undefined;
}

/** Names the pickup ignores: uploads in progress, hidden files, our own claims. */
export function isCandidateRequest(name: string): boolean {
  return name.endsWith('.xml') && !name.startsWith('.') && !name.endsWith('.response.xml');
}

/**
 * A single path component: the transport refuses anything that could leave its folder (a
 * separator, NUL, `.` or `..`). Other odd names (control characters…) can still be listed and
 * moved, so the pipeline can quarantine them (see isProcessableName).
 */
export function assertSafeName(name: string): void {
  if (decodeRawName(name) !== undefined) return;
  if (name.length === 0 || Buffer.byteLength(name) > 255 || /[/\0]/.test(name) || name === '.' || name === '..') {
    throw new Error(`unsafe spool name ${JSON.stringify(name)}`);
  }
}

/** Contract §8: a client id names a spool folder, so 1-64 of [A-Za-z0-9._-], not `.` or `..`. */
export function assertSafeClientId(clientId: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId) || clientId === '.' || clientId === '..') {
    throw new LdmError('CLIENT_ID', `client id ${JSON.stringify(clientId)} cannot name a spool folder: it must be 1-64 of A-Z a-z 0-9 . _ - and not "." or ".."`, { exitCode: 2 });
  }
}

const RAW_PREFIX = '/raw-name/';

/**
 * A file name that is not valid UTF-8 travels through the pipeline as `/raw-name/<hex>`: the
 * slash cannot occur in a real name, so it is never confused with one, and the transport turns
 * it back into the exact bytes to move the file to error/.
 */
export function encodeRawName(raw: Buffer): string {
  return `${RAW_PREFIX}${raw.toString('hex')}`;
}

export function decodeRawName(name: string): Buffer | undefined {
  if (!name.startsWith(RAW_PREFIX)) return undefined;
  const hex = name.slice(RAW_PREFIX.length);
  if (hex.length === 0 || hex.length > 510 || !/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined;
  const raw = Buffer.from(hex, 'hex');
  return raw.includes(0x2f) || raw.includes(0) ? undefined : raw;
}

/**
 * The longest request name, in bytes, that can still be claimed: the claim name adds up to 101
 * bytes (`.ldm-processing.` + a 64-character instance id + `.<13 digits>.<6 hex>`) and a file
 * name has at most 255.
 */
export const MAX_REQUEST_NAME_BYTES = 150;

/** Why the pipeline will not answer under this name, or undefined when it will. */
export function unprocessableReason(name: string): string | undefined {
  if (decodeRawName(name) !== undefined) return 'the file name is not valid UTF-8';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'the file name has control characters';
  if (name.includes('\\')) return 'the file name has a backslash';
  if (name.startsWith('.')) return 'the file name is hidden (starts with a dot)';
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_REQUEST_NAME_BYTES) return `the file name is ${bytes} bytes long in UTF-8; at most ${MAX_REQUEST_NAME_BYTES} can be processed`;
  return undefined;
}

/** Names the pipeline answers: see unprocessableReason. */
export function isProcessableName(name: string): boolean {
  return unprocessableReason(name) === undefined;
}

/** A printable stand-in for an unprocessable name (its original is kept, JSON-escaped, in the journal). */
export function sanitizedName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}

/**
 * The claimed name of a request: R.xml.ldm-processing.<instance>.<epoch ms>.<random>. The random
 * part keeps a re-claim by the same instance in the same millisecond from colliding with the old name.
 */
export function claimFileName(name: string, instanceId: string, epochMs: number): string {
  return `${name}.ldm-processing.${instanceId}.${epochMs}.${randomBytes(3).toString('hex')}`;
}

export function parseClaimName(claim: string): { name: string; instanceId: string; epochMs: number } | undefined {
  const m = /^(.+\.xml)\.ldm-processing\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]+$/.exec(claim);
  return m ? { name: m[1], instanceId: m[2], epochMs: Number(m[3]) } : undefined;
}
