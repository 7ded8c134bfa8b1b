// The local-folder spool: <root>/<clientId>/{in,out,archive,error}.
//
// A client can write its own folders, so every name in them may be a trap: a symbolic link to
// the journal, a FIFO that blocks a reader, a folder. Nothing here follows a link: listing uses
// lstat, reads open with O_NOFOLLOW and check for a regular file, temporary files are created
// exclusively (O_EXCL | O_NOFOLLOW) under unguessable names, and publishing is link(2), which
// never follows or replaces its target.
import { writeAll } from '../files/writeAll.js';
import { constants, createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LdmError } from '../errors.js';
import { SPOOL_FOLDERS, assertSafeClientId, assertSafeName, decodeRawName, encodeRawName, type SpoolEntry, type SpoolFolder, type SpoolTransport } from './transport.js';
import { assertSafeSpoolRoot } from './root.js';
import { dataFileMode, dirMode } from '../files/modes.js';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY, O_NONBLOCK } = constants;

export class LocalSpool implements SpoolTransport {
  readonly description: string;
  private tempKey: Promise<Buffer> | undefined;

  constructor(readonly root: string) {
    assertSafeSpoolRoot(root);
    this.description = `local:${root}`;
  }

  private path(clientId: string, folder: SpoolFolder, name?: string): string | Buffer {
    assertSafeClientId(clientId);
    const dir = join(this.root, clientId, folder);
    if (name === undefined) return dir;
    assertSafeName(name);
    const raw = decodeRawName(name);
    return raw === undefined ? join(dir, name) : Buffer.concat([Buffer.from(`${dir}/`), raw]);
  }

  async ensureFolders(clientId: string): Promise<void> {
    assertSafeClientId(clientId);
    for (const f of SPOOL_FOLDERS) {
      await mkdir(this.path(clientId, f) as string, { recursive: true, mode: dirMode() });
      await this.realFolder(clientId, f);
    }
  }

  /**
   * A spool folder replaced by a link would send everything written into it elsewhere: checked
   * before every operation. (Node has no openat(2), so a client that can rename the folders
   * themselves could still race this check: the client's own folder, <root>/<clientId>/, must
   * not be writable by the client — OpenSSH's ChrootDirectory demands the same.)
   */
  private async realFolder(clientId: string, folder: SpoolFolder): Promise<string> {
    const dir = this.path(clientId, folder) as string;
    let s;
    try {
      s = await lstat(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
      throw err;
    }
    if (!s.isDirectory()) {
      throw new LdmError('SPOOL_UNSAFE', `spool folder ${dir} is ${s.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; it is not used (replace it with a real folder)`);
    }
    return dir;
  }

  async list(clientId: string, folder: SpoolFolder): Promise<SpoolEntry[]> {
    const dir = await this.realFolder(clientId, folder);
    const out: SpoolEntry[] = [];
    let names: Buffer[];
    try {
      // Buffers: a name that is not UTF-8 would otherwise come back altered and could not be moved.
      names = await readdir(dir, { encoding: 'buffer' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    const entries: { name: string; raw: Buffer; badEncoding: boolean }[] = names.map((raw) => {
      const utf8 = decodesAsUtf8(raw);
      return { name: utf8 ? raw.toString('utf8') : encodeRawName(raw), raw, badEncoding: !utf8 };
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      try {
        const s = await lstat(Buffer.concat([Buffer.from(`${dir}/`), e.raw]));
        const kind = s.isFile() ? undefined : s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'directory' : s.isFIFO() ? 'fifo' : 'other';
        const entry: SpoolEntry = { name: e.name, size: s.size, mtimeMs: s.mtimeMs };
        if (kind !== undefined) entry.kind = kind;
        if (e.badEncoding) entry.badEncoding = true;
        out.push(entry);
      } catch {
        // vanished between readdir and lstat: taken by someone else
      }
    }
    return out;
  }

  async renameNoClobber(clientId: string, from: { folder: SpoolFolder; name: string }, to: { folder: SpoolFolder; name: string }): Promise<boolean> {
    const src = this.path(clientId, from.folder, from.name);
    const dst = this.path(clientId, to.folder, to.name);
    await this.realFolder(clientId, from.folder);
    await this.realFolder(clientId, to.folder);
    let srcInfo;
    try {
      srcInfo = await lstat(src);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (srcInfo.isDirectory()) return this.moveFolder(src, dst);
    // link() fails with EEXIST instead of replacing, which rename() would do silently; it never
    // follows a link at either name (a symbolic link source is linked as the link itself).
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
    if (to.folder === 'archive' || to.folder === 'error') await narrowMode(dst);
    return true;
  }

  /** Folders cannot be hard-linked; only quarantine moves them, to a generated name nobody can know beforehand. */
  private async moveFolder(src: string | Buffer, dst: string | Buffer): Promise<boolean> {
    try {
      await lstat(dst);
      return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await rename(src, dst);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  /**
   * The file as a private copy in workDir: a hard link when workDir is on the same file system,
   * else a byte copy. The source is opened without following a link and must be a regular
   * file, so a client cannot swap a link to another file in under a name already checked.
   */
  async fetch(clientId: string, folder: SpoolFolder, name: string, workDir: string): Promise<string> {
    const src = this.path(clientId, folder, name);
    await this.realFolder(clientId, folder);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const local = join(workDir, `${folder}-${randomBytes(8).toString('hex')}`);
    let fh;
    try {
      fh = await open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw notAFile(folder, name, 'a symbolic link');
      throw err;
    }
    try {
      const s = await fh.stat();
      if (!s.isFile()) throw notAFile(folder, name, s.isFIFO() ? 'a FIFO' : s.isDirectory() ? 'a folder' : 'not a regular file');
      try {
        await link(src, local);
        const again = await lstat(local);
        if (again.isFile() && again.ino === s.ino && again.dev === s.dev) return local;
        await unlink(local); // swapped between open and link: copy from the descriptor instead
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOENT') throw err;
      }
      const out = await open(local, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, dataFileMode());
      try {
        const buf = Buffer.alloc(1 << 20);
        for (let pos = 0; ; ) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          await writeAll(out, buf, 0, bytesRead);
          pos += bytesRead;
        }
      } finally {
        await out.close();
      }
      return local;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async publish(localPath: string, clientId: string, folder: SpoolFolder, name: string): Promise<'published' | 'exists'> {
    const dst = this.path(clientId, folder, name);
    if (localPath === dst) return 'published';
    await this.realFolder(clientId, folder);
    // The temporary name is unguessable (a keyed hash of the target: no client can plant a link
    // there beforehand) yet the same for every attempt at this target, so the re-run after a
    // crash finds the leftover and removes it. It is created exclusively and never through a
    // link: whatever is found under it (a leftover, or anything planted) is unlinked, never followed.
    const tmp = this.path(clientId, folder, await this.tempName(clientId, folder, name));
    let fh;
    try {
      fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, dataFileMode());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await unlink(tmp);
      fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, dataFileMode());
    }
    let ino: number;
    let dev: number;
    try {
      await fh.chmod(dataFileMode()); // the umask may have narrowed it; never widen beyond it
      for await (const chunk of createReadStream(localPath, { highWaterMark: 1 << 20 })) await writeAll(fh, chunk as Buffer);
      await fh.sync(); // the bytes are on disk before the name appears
      const s = await fh.stat();
      ino = s.ino;
      dev = s.dev;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    try {
      await link(tmp, dst);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    }
    await unlink(tmp).catch(() => undefined);
    // The client can rename in its own folder: if it swapped something else in under the
    // temporary name, the published name is not our file. Take it back down and say so.
    const published = await lstat(dst);
    if (!published.isFile() || published.ino !== ino || published.dev !== dev) {
      await unlink(dst).catch(() => undefined);
      throw new LdmError('SPOOL_UNSAFE', `the temporary file for ${folder}/${name} was replaced by something else before it was published; nothing was published`);
    }
    return 'published';
  }

  /** `.<name>.<24 hex>.tmp`: HMAC-SHA-256 of the target under this spool's temp key. */
  private async tempName(clientId: string, folder: SpoolFolder, name: string): Promise<string> {
    this.tempKey ??= loadTempKey(this.root);
    const mac = createHmac('sha256', await this.tempKey).update(`${clientId}/${folder}/${name}`).digest('hex').slice(0, 24);
    return `.${name}.${mac}.tmp`;
  }

  async exists(clientId: string, folder: SpoolFolder, name: string): Promise<boolean> {
    try {
      await lstat(this.path(clientId, folder, name));
      return true;
    } catch {
      return false;
    }
  }

  async rootExists(): Promise<boolean> {
    return isDir(this.root);
  }

  async missingFolders(clientId: string): Promise<SpoolFolder[]> {
    const missing: SpoolFolder[] = [];
    for (const f of SPOOL_FOLDERS) if (!(await isDir(this.path(clientId, f)))) missing.push(f);
    return missing;
  }

  async close(): Promise<void> {}
}

/**
 * A request kept in archive/ or error/ holds personal data: narrowed to the data file mode when
 * this process owns it (a client's own upload may belong to the client's account: then it stays
 * as the client made it). Through a no-follow descriptor, so a link is never chmod-ed through.
 */
async function narrowMode(path: string | Buffer): Promise<void> {
  let fh;
  try {
    fh = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const s = await fh.stat();
    if (s.isFile() && (s.mode & 0o777 & ~dataFileMode()) !== 0 && (process.getuid === undefined || s.uid === process.getuid())) await fh.chmod(dataFileMode());
  } catch {
    // a link, a folder, or not ours: left as it is
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

const TEMP_KEY_FILE = '.ldm-batch-temp-key';

/**
 * The spool's secret for temporary names, shared by every instance on this spool root: 32 random
 * bytes in <root>/.ldm-batch-temp-key (0600), made once, atomically (written under a random name,
 * then linked), read without following a link.
 */
async function loadTempKey(root: string): Promise<Buffer> {
  const path = join(root, TEMP_KEY_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      try {
        const st = await fh.stat();
        const key = Buffer.alloc(32);
        if (!st.isFile() || st.size !== 32 || (await fh.read(key, 0, 32, 0)).bytesRead !== 32) throw new LdmError('SPOOL_UNSAFE', `${path} is not this spool's 32-byte temp key; remove it and let ldm-batch make a new one`);
        return key;
      } finally {
        await fh.close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new LdmError('SPOOL_UNSAFE', `${path} is a symbolic link; remove it`);
      if (code !== 'ENOENT' || attempt > 0) throw err;
    }
    await mkdir(root, { recursive: true, mode: dirMode() });
    const draft = `${path}.${randomBytes(8).toString('hex')}`;
    const fh = await open(draft, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      await writeAll(fh, randomBytes(32));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(draft, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // another instance made it first: read theirs
    });
    await unlink(draft).catch(() => undefined);
  }
}

function notAFile(folder: SpoolFolder, name: string, what: string): LdmError {
  return new LdmError('SPOOL_NOT_FILE', `${folder}/${JSON.stringify(name)} is ${what}; it is not read`);
}

function decodesAsUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

async function isDir(path: string | Buffer): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
