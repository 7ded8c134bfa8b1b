// The local-folder spool: <root>/<clientId>/{in,out,archive,error}.
import { copyFile, link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SPOOL_FOLDERS, assertSafeName, type SpoolEntry, type SpoolFolder, type SpoolTransport } from './transport.js';

export class LocalSpool implements SpoolTransport {
  readonly description: string;

  constructor(readonly root: string) {
    this.description = `local:${root}`;
  }

  private path(clientId: string, folder: SpoolFolder, name?: string): string {
    assertSafeName(clientId);
    if (name !== undefined) assertSafeName(name);
    return name === undefined ? join(this.root, clientId, folder) : join(this.root, clientId, folder, name);
  }

  async ensureFolders(clientId: string): Promise<void> {
    for (const f of SPOOL_FOLDERS) await mkdir(this.path(clientId, f), { recursive: true });
  }

  async list(clientId: string, folder: SpoolFolder): Promise<SpoolEntry[]> {
    const dir = this.path(clientId, folder);
    const out: SpoolEntry[] = [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const name of names.sort()) {
      try {
        const s = await stat(join(dir, name));
        if (s.isFile()) out.push({ name, size: s.size, mtimeMs: s.mtimeMs });
      } catch {
        // vanished between readdir and stat: taken by someone else
      }
    }
    return out;
  }

  async renameNoClobber(clientId: string, from: { folder: SpoolFolder; name: string }, to: { folder: SpoolFolder; name: string }): Promise<boolean> {
    const src = this.path(clientId, from.folder, from.name);
    const dst = this.path(clientId, to.folder, to.name);
    // link() fails with EEXIST instead of replacing, which rename() would do silently.
    try {
      await link(src, dst);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') return false;
      throw err;
    }
    try {
      await unlink(src);
    } catch (err) {
      // Another process unlinked the source after we linked it: both hold the same inode, and
      // only the first to unlink owns the claim.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await unlink(dst).catch(() => undefined);
        return false;
      }
      throw err;
    }
    return true;
  }

  async fetch(clientId: string, folder: SpoolFolder, name: string): Promise<string> {
    return this.path(clientId, folder, name);
  }

  async publish(localPath: string, clientId: string, folder: SpoolFolder, name: string): Promise<'published' | 'exists'> {
    const dst = this.path(clientId, folder, name);
    if (localPath === dst) return 'published';
    // One fixed temp name per target: a publish cut short by a crash is overwritten and removed
    // by the re-run (only the batch's holder ever publishes this name).
    const tmp = this.path(clientId, folder, `.${name}.tmp`);
    await copyFile(localPath, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync(); // the bytes are on disk before the name appears
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, dst);
      return 'published';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async exists(clientId: string, folder: SpoolFolder, name: string): Promise<boolean> {
    try {
      await stat(this.path(clientId, folder, name));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {}
}
