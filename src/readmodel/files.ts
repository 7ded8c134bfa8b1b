// Where read models live: one file per store version, `v<version>.ldmrm`, in the instance's
// data/readmodel folder (created 0700; the files hold personal data and are created 0600).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^v(\d+)\.ldmrm$/;

export function readModelFile(dir: string, version: number): string {
  return join(dir, `v${version}.ldmrm`);
}

/** The versions present in `dir`, ascending. */
export function readModelVersions(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => NAME.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Removes the files of versions that are neither the newest nor in `keep` (versions that
 * unfinished batches recorded at claim), and temporary files a crashed build or open left behind.
 */
export function pruneReadModels(dir: string, keep: ReadonlySet<number>): number[] {
  const versions = readModelVersions(dir);
  const newest = versions[versions.length - 1];
  const removed: number[] = [];
  for (const v of versions) {
    if (v === newest || keep.has(v)) continue;
    rmSync(readModelFile(dir, v), { force: true });
    removed.push(v);
  }
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    /* no folder */
  }
  for (const n of names) {
    // A build's part file, or the repertory copy of an open model (unlinked at once; left only by a
    // crash in between), of a process that is gone.
    const m = /^v\d+\.ldmrm(?:\.(\d+)\.part|\.rep-(\d+)-[0-9a-f]+)$/.exec(n);
    if (m && !processAlive(Number(m[1] ?? m[2]))) rmSync(join(dir, n), { force: true });
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
