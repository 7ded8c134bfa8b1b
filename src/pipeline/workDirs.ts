// Work folders are named b<batch>-<pid>-<random> (reprocess: reprocess-<pid>-<random>). A
// process killed with SIGKILL cannot remove its own; whoever polls next removes those whose
// process is gone. The pid is only meaningful on this host, and the work folder is local.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../errors.js';

const OWNED = /^(?:b\d+|reprocess)-(\d+)-[0-9a-f]+$/;

export function workDirName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Removes the work folders of processes that no longer run; returns their names. */
export async function removeDeadWorkDirs(workDir: string, log: Logger): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      await rm(join(workDir, name), { recursive: true, force: true });
      removed.push(name);
    } catch (err) {
      log.warn('work.cleanup_failed', { folder: name, error: errorMessage(err) });
    }
  }
  if (removed.length > 0) log.info('work.cleaned', { folders: removed.length, note: 'work folders of processes that died' });
  return removed;
}
