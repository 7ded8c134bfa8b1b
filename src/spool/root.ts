// The local spool root is checked at start: client folders are created under it, so a root of
// `/`, a system folder or a path with `..` would scatter folders where they do not belong.
import { isAbsolute, normalize } from 'node:path';
import { LdmError } from '../errors.js';

const SYSTEM_FOLDERS = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var', '/home', '/tmp', '/opt', '/srv', '/mnt', '/media'];

/**
 * Undefined when `root` may be a spool root, else why not. `written` is the value as the config
 * gave it (before it was resolved against the config's folder, which removes any `..`).
 * Pure, for table tests.
 */
export function spoolRootProblem(root: string, written: string = root): string | undefined {
  if (written.trim() === '' || root.trim() === '') return 'it is empty';
  if (written.split(/[\\/]/).includes('..') || root.split(/[\\/]/).includes('..')) return 'it contains ".."';
  if (!isAbsolute(root)) return 'it is not an absolute path';
  const n = normalize(root).replace(/\/+$/, '') || '/';
  if (n === '/') return 'it is the file-system root';
  // A system folder itself is refused; a folder below one (/srv/ldm/spool, /var/spool/ldm) is fine.
  if (SYSTEM_FOLDERS.includes(n) || n === '/var/spool' || n === '/var/lib') return `it is the system folder ${n}`;
  return undefined;
}

export function assertSafeSpoolRoot(root: string, written: string = root): void {
  const problem = spoolRootProblem(root, written);
  if (problem !== undefined) {
    throw new LdmError('CONFIG', `spool.root ${JSON.stringify(root)} cannot be a spool root: ${problem}; set spool.root to a folder of its own (e.g. /srv/ldm-batch/spool)`, { exitCode: 2 });
  }
}
