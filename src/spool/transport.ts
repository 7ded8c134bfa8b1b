import { randomBytes } from 'node:crypto';
// The spool transport: the few file operations the pipeline needs, the same for a local folder
// and an SFTP server (Camel's GenericFileOperations). The claim/commit lifecycle sits above it.

export type SpoolFolder = 'in' | 'out' | 'archive' | 'error';
export const SPOOL_FOLDERS: readonly SpoolFolder[] = ['in', 'out', 'archive', 'error'];

export interface SpoolEntry {
  name: string;
  size: number;
  mtimeMs: number;
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
  close(): Promise<void>;
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
  if (name.length === 0 || name.length > 255 || /[/\0]/.test(name) || name === '.' || name === '..') {
    throw new Error(`unsafe spool name ${JSON.stringify(name)}`);
  }
}

/** Names the pipeline answers: no control characters, no backslash, not hidden, at most 200 characters. */
export function isProcessableName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length <= 200 && !name.startsWith('.') && !/[\x00-\x1f\x7f\\]/.test(name);
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
