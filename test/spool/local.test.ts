// LocalSpool against the shared transport contract.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSpool } from '../../src/spool/local.js';
import { describeTransportContract } from './contract.js';

describeTransportContract('LocalSpool', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'ldm-local-spool-'));
  return {
    rootDir,
    make: () => new LocalSpool(rootDir),
    cleanup: () => rm(rootDir, { recursive: true, force: true }),
  };
});

describe('LocalSpool: a spool folder replaced by a link (issue 13)', () => {
  it('is refused (SPOOL_UNSAFE) before anything is listed, read or written through it (before: followed)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ldm-local-folder-link-'));
    try {
      const elsewhere = join(root, 'elsewhere');
      await mkdir(elsewhere);
      await writeFile(join(elsewhere, 'secret.xml'), 'another client');
      const t = new LocalSpool(join(root, 'spool'));
      await t.ensureFolders('c');
      await rm(join(root, 'spool', 'c', 'out'), { recursive: true });
      await symlink(elsewhere, join(root, 'spool', 'c', 'out'));
      await rm(join(root, 'spool', 'c', 'in'), { recursive: true });
      await symlink(elsewhere, join(root, 'spool', 'c', 'in'));
      const src = join(root, 'resp.xml');
      await writeFile(src, 'signed response');
      await expect(t.publish(src, 'c', 'out', 'R.response.xml')).rejects.toMatchObject({ code: 'SPOOL_UNSAFE' });
      await expect(t.list('c', 'in')).rejects.toMatchObject({ code: 'SPOOL_UNSAFE' });
      await expect(t.fetch('c', 'in', 'secret.xml', join(root, 'work'))).rejects.toMatchObject({ code: 'SPOOL_UNSAFE' });
      await expect(t.ensureFolders('c')).rejects.toMatchObject({ code: 'SPOOL_UNSAFE' });
      expect(await readdir(elsewhere)).toEqual(['secret.xml']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('LocalSpool: temporary names (issue 13)', () => {
  it('are unguessable without the spool key, the same for every attempt at a target (a crash leftover is removed), and whatever is planted there is unlinked, never followed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ldm-local-temp-'));
    try {
      const spool = join(root, 'spool');
      const t = new LocalSpool(spool);
      await t.ensureFolders('c');
      const src = join(root, 'resp.xml');
      await writeFile(src, 'signed response');
      expect(await t.publish(src, 'c', 'out', 'A.response.xml')).toBe('published');
      const key = await readFile(join(spool, '.ldm-batch-temp-key'));
      expect(key.length).toBe(32);
      expect((await lstat(join(spool, '.ldm-batch-temp-key'))).mode & 0o777).toBe(0o600);
      const tmpOf = (name: string): string => `.${name}.${createHmac('sha256', key).update(`c/out/${name}`).digest('hex').slice(0, 24)}.tmp`;
      // a crash leftover (half a response) and a planted link, at the very names the next publishes use
      const victim = join(root, 'victim.txt');
      await writeFile(victim, 'untouched');
      await writeFile(join(spool, 'c', 'out', tmpOf('B.response.xml')), 'half a respo');
      await symlink(victim, join(spool, 'c', 'out', tmpOf('C.response.xml')));
      expect(await t.publish(src, 'c', 'out', 'B.response.xml')).toBe('published');
      expect(await t.publish(src, 'c', 'out', 'C.response.xml')).toBe('published');
      expect(await readFile(victim, 'utf8')).toBe('untouched');
      expect((await readdir(join(spool, 'c', 'out'))).sort()).toEqual(['A.response.xml', 'B.response.xml', 'C.response.xml']);
      expect(await readFile(join(spool, 'c', 'out', 'C.response.xml'), 'utf8')).toBe('signed response');
      // a second transport on the same root (another instance) uses the same key
      await writeFile(join(spool, 'c', 'out', tmpOf('D.response.xml')), 'leftover of the other instance');
      expect(await new LocalSpool(spool).publish(src, 'c', 'out', 'D.response.xml')).toBe('published');
      expect((await readdir(join(spool, 'c', 'out'))).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
