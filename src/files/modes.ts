// File modes for personal data at rest. Every file the process creates holds, or may hold,
// personal data (responses, archive copies, error files, work files, the database), so the
// process runs under a umask that keeps them private: 0600, or 0640 when the operator lets a
// group read them (config `fileMode: "0640"`, e.g. for a backup or a local-spool client group).
import { chmodSync, existsSync } from 'node:fs';

export type FileMode = 0o600 | 0o640;

let mode: FileMode = 0o600;

/** The mode of a new file holding personal data. */
export function dataFileMode(): FileMode {
  return mode;
}

/** The mode of a new folder: like its files, plus search (x) for whoever may read them. */
export function dirMode(): number {
  return mode === 0o640 ? 0o750 : 0o700;
}

/** Parses the config's `fileMode` ("0600" default, or "0640"). */
export function parseFileMode(v: unknown): FileMode | undefined {
  if (v === undefined) return 0o600;
  if (v === '0600' || v === '600' || v === 0o600) return 0o600;
  if (v === '0640' || v === '640' || v === 0o640) return 0o640;
  return undefined;
}

/**
 * Sets the file mode for the rest of the process and the umask that enforces it for files made
 * by libraries too (SQLite, streams): 077, or 027 with 0640.
 */
export function applyFileMode(m: FileMode): void {
  mode = m;
  process.umask(m === 0o640 ? 0o027 : 0o077);
}

/** Narrows an existing file (an SQLite database made by an older version, say) to the mode; never widens it. */
export function restrictFile(path: string): void {
  if (process.platform === 'win32' || !existsSync(path)) return;
  chmodSync(path, mode);
}
