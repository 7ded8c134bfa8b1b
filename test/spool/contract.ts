// The SpoolTransport contract, one table of tests run against every transport (local.test.ts,
// sftp.test.ts). The transport's root is a local folder in both cases (the SFTP server serves
// it), so the tests seed and check files directly on disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoolFolder, SpoolTransport } from '../../src/spool/transport.js';

export interface ContractFixture {
  /** The folder on this machine that is the transport's spool root. */
  rootDir: string;
  /** A new transport instance on that root (a second one acts as a competing poller). */
  make(): SpoolTransport;
  cleanup?(): Promise<void>;
}

let seq = 0;
/** A fresh client folder per test, so tests never see each other's files. */
const newClient = (): string => `client${++seq}-${process.pid}`;

export function describeTransportContract(label: string, setup: () => Promise<ContractFixture>): void {
  describe(`SpoolTransport contract: ${label}`, () => {
    let fx: ContractFixture;
    let t: SpoolTransport;
    let work: string;
    const p = (clientId: string, folder: SpoolFolder, name?: string): string => (name ? join(fx.rootDir, clientId, folder, name) : join(fx.rootDir, clientId, folder));
    const seed = async (clientId: string, folder: SpoolFolder, name: string, content: string | Buffer): Promise<void> => {
      await mkdir(p(clientId, folder), { recursive: true });
      await writeFile(p(clientId, folder, name), content);
    };
    const names = async (clientId: string, folder: SpoolFolder): Promise<string[]> => (await readdir(p(clientId, folder))).sort();

    beforeAll(async () => {
      fx = await setup();
      t = fx.make();
      work = await mkdtemp(join(tmpdir(), 'ldm-spool-work-'));
    });
    afterAll(async () => {
      await t?.close();
      await fx?.cleanup?.();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('ensureFolders creates in/, out/, archive/ and error/ and can run again', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await t.ensureFolders(c);
      expect((await readdir(join(fx.rootDir, c))).sort()).toEqual(['archive', 'error', 'in', 'out']);
    });

    it('rootExists and missingFolders look without creating anything (ldm-batch check)', async () => {
      const c = newClient();
      expect(await t.rootExists()).toBe(true);
      expect(await t.missingFolders(c)).toEqual(['in', 'out', 'archive', 'error']);
      await mkdir(p(c, 'in'), { recursive: true });
      await mkdir(p(c, 'archive'), { recursive: true });
      await writeFile(p(c, 'error'), 'a file, not a folder');
      await mkdir(join(work, `elsewhere-${c}`), { recursive: true });
      await symlink(join(work, `elsewhere-${c}`), p(c, 'archive').replace(/archive$/, 'out'));
      // A link to a folder is not the folder (the spool never follows links).
      expect(await t.missingFolders(c)).toEqual(['out', 'error']);
    });

    it('list: the entries of a folder, sorted, with size and mtime; a folder is listed as one (kind), never entered; a missing folder is empty', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await seed(c, 'in', 'b.xml', 'bbbb');
      await seed(c, 'in', 'a.xml', 'a');
      await seed(c, 'in', 'c.xml.part', '');
      await mkdir(p(c, 'in', 'sub.xml'));
      const when = new Date('2026-01-15T03:00:07Z');
      await utimes(p(c, 'in', 'a.xml'), when, when);
      const all = await t.list(c, 'in');
      expect(all.map((e) => [e.name, e.kind])).toEqual([['a.xml', undefined], ['b.xml', undefined], ['c.xml.part', undefined], ['sub.xml', 'directory']]);
      const list = all.filter((e) => e.kind === undefined);
      expect(list.map((e) => e.size)).toEqual([1, 4, 0]);
      expect(list[0].mtimeMs).toBe(when.getTime());
      const bStat = await stat(p(c, 'in', 'b.xml'));
      expect(Math.abs(list[1].mtimeMs - bStat.mtimeMs)).toBeLessThan(1000); // SFTP has whole seconds
      expect(await t.list(newClient(), 'in')).toEqual([]);
    });

    it('list: a symbolic link is listed as a link (lstat), never followed; a FIFO as a FIFO', async () => {
      const c = newClient();
      await seed(c, 'in', 'real.xml', 'x');
      await symlink(p(c, 'in', 'real.xml'), p(c, 'in', 'link.xml'));
      await symlink('/etc/passwd', p(c, 'in', 'passwd.xml'));
      execFileSync('mkfifo', [p(c, 'in', 'pipe.xml')]);
      const listed = (await t.list(c, 'in')).map((e) => [e.name, e.kind]);
      expect(listed).toEqual([['link.xml', 'link'], ['passwd.xml', 'link'], ['pipe.xml', 'fifo'], ['real.xml', undefined]]);
    });

    it('fetch never reads through a link or from a FIFO (SPOOL_NOT_FILE)', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await seed(c, 'in', 'real.xml', 'x');
      await symlink('/etc/passwd', p(c, 'in', 'R.xml.ldm-processing'));
      execFileSync('mkfifo', [p(c, 'in', 'F.xml.ldm-processing')]);
      await expect(t.fetch(c, 'in', 'R.xml.ldm-processing', join(work, c))).rejects.toMatchObject({ code: 'SPOOL_NOT_FILE' });
      // a FIFO would block a reader forever; it is refused without being read
      await expect(t.fetch(c, 'in', 'F.xml.ldm-processing', join(work, c))).rejects.toMatchObject({ code: 'SPOOL_NOT_FILE' });
    });

    it('publish never writes through a link planted at the final name or at the old temporary name', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      const victim = join(work, `${c}-victim.txt`);
      await writeFile(victim, 'the journal, say');
      await symlink(victim, p(c, 'out', 'A.response.xml'));
      await symlink(victim, p(c, 'out', '.B.response.xml.tmp')); // the name the old publish used
      const src = join(work, `${c}-resp.xml`);
      await writeFile(src, 'signed response');
      expect(await t.publish(src, c, 'out', 'A.response.xml')).toBe('exists');
      expect(await t.publish(src, c, 'out', 'B.response.xml')).toBe('published');
      expect(await readFile(victim, 'utf8')).toBe('the journal, say');
      expect((await lstat(p(c, 'out', 'B.response.xml'))).isFile()).toBe(true);
      expect(await readFile(p(c, 'out', 'B.response.xml'), 'utf8')).toBe('signed response');
      expect(await t.exists(c, 'out', 'A.response.xml')).toBe(true); // a dangling or planted link counts as taken
    });

    it('renameNoClobber moves a link itself, never its target', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      const victim = join(work, `${c}-target.txt`);
      await writeFile(victim, 'elsewhere');
      await symlink(victim, p(c, 'in', 'L.xml'));
      expect(await t.renameNoClobber(c, { folder: 'in', name: 'L.xml' }, { folder: 'error', name: 'L.1.xml' })).toBe(true);
      expect((await lstat(p(c, 'error', 'L.1.xml'))).isSymbolicLink()).toBe(true);
      expect(await readFile(victim, 'utf8')).toBe('elsewhere');
      expect((await lstat(victim)).isFile()).toBe(true);
    });

    it('renameNoClobber moves a file within and across folders', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await seed(c, 'in', 'R.xml', 'request');
      expect(await t.renameNoClobber(c, { folder: 'in', name: 'R.xml' }, { folder: 'in', name: 'R.xml.ldm-processing' })).toBe(true);
      expect(await names(c, 'in')).toEqual(['R.xml.ldm-processing']);
      expect(await t.renameNoClobber(c, { folder: 'in', name: 'R.xml.ldm-processing' }, { folder: 'archive', name: 'R.xml' })).toBe(true);
      expect(await names(c, 'in')).toEqual([]);
      expect(await readFile(p(c, 'archive', 'R.xml'), 'utf8')).toBe('request');
    });

    it('renameNoClobber never replaces: false when the target exists, both files untouched', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await seed(c, 'in', 'R.xml', 'new');
      await seed(c, 'archive', 'R.xml', 'old');
      expect(await t.renameNoClobber(c, { folder: 'in', name: 'R.xml' }, { folder: 'archive', name: 'R.xml' })).toBe(false);
      expect(await readFile(p(c, 'in', 'R.xml'), 'utf8')).toBe('new');
      expect(await readFile(p(c, 'archive', 'R.xml'), 'utf8')).toBe('old');
    });

    it('renameNoClobber: false when the source is gone', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      expect(await t.renameNoClobber(c, { folder: 'in', name: 'gone.xml' }, { folder: 'in', name: 'gone.xml.ldm-processing' })).toBe(false);
    });

    it('two pollers claiming the same file: exactly one wins', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      const other = fx.make();
      try {
        for (let i = 0; i < 5; i++) {
          await seed(c, 'in', `R${i}.xml`, `r${i}`);
          const claim = (tr: SpoolTransport): Promise<boolean> => tr.renameNoClobber(c, { folder: 'in', name: `R${i}.xml` }, { folder: 'in', name: `R${i}.xml.ldm-processing` });
          const results = await Promise.all([claim(t), claim(other)]);
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await readFile(p(c, 'in', `R${i}.xml.ldm-processing`), 'utf8')).toBe(`r${i}`);
        }
      } finally {
        await other.close();
      }
    });

    it('fetch makes the file readable at a local path', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      const body = Buffer.from('<BatchRequest/>\n'.repeat(1000));
      await seed(c, 'in', 'R.xml.ldm-processing', body);
      const local = await t.fetch(c, 'in', 'R.xml.ldm-processing', join(work, c));
      expect((await readFile(local)).equals(body)).toBe(true);
    });

    it('publish: the file appears under its name, no temporary file is left; a second publish reports exists and replaces nothing', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      const src = join(work, `${c}-first.xml`);
      await writeFile(src, 'first response');
      expect(await t.publish(src, c, 'out', 'R.response.xml')).toBe('published');
      expect(await readFile(p(c, 'out', 'R.response.xml'), 'utf8')).toBe('first response');
      const again = join(work, `${c}-second.xml`);
      await writeFile(again, 'second response');
      expect(await t.publish(again, c, 'out', 'R.response.xml')).toBe('exists');
      expect(await readFile(p(c, 'out', 'R.response.xml'), 'utf8')).toBe('first response');
      expect(await names(c, 'out')).toEqual(['R.response.xml']);
    });

    it('publish of a missing local file fails and leaves nothing behind', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await expect(t.publish(join(work, 'no-such-file.xml'), c, 'out', 'X.response.xml')).rejects.toThrow();
      expect(await names(c, 'out')).toEqual([]);
    });

    it('exists', async () => {
      const c = newClient();
      await t.ensureFolders(c);
      await seed(c, 'out', 'R.response.xml', 'x');
      expect(await t.exists(c, 'out', 'R.response.xml')).toBe(true);
      expect(await t.exists(c, 'out', 'S.response.xml')).toBe(false);
      expect(await t.exists(newClient(), 'out', 'S.response.xml')).toBe(false);
    });

    it('refuses client ids and names that could leave the spool', async () => {
      await expect(t.list('..', 'in')).rejects.toThrow(/cannot name a spool folder/);
      await expect(t.list('a/b', 'in')).rejects.toThrow(/cannot name a spool folder/);
      await expect(t.fetch('c', 'in', '../../etc/passwd', work)).rejects.toThrow(/unsafe/);
      await expect(t.renameNoClobber('c', { folder: 'in', name: 'a.xml' }, { folder: 'in', name: '../a.xml' })).rejects.toThrow(/unsafe/);
    });

    it('close is idempotent and a later operation still works', async () => {
      const tr = fx.make();
      const c = newClient();
      await tr.ensureFolders(c);
      await tr.close();
      await tr.close();
      expect(await tr.list(c, 'in')).toEqual([]);
      await tr.close();
    });
  });
}
