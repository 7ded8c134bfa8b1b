// Issue 13 on an SFTP spool (the real OpenSSH server lets a client make links with `ln -s`
// over SFTP): links, FIFOs and folders in in/ are quarantined to error/ with a journal row,
// never read; links planted in out/ and archive/ are neither followed nor replaced.
// Before issue 13, links in in/ were skipped without a trace, forever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, run, type Instance } from '../helpers/instance.js';
import { sftpClientAvailable, sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';
import { inFolder, scenarioInstance, sftpConfig } from '../daemon/harness.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import * as S from '../pipeline/scenario.js';

const available = sshdAvailable() && sftpClientAvailable();
const why = available ? '' : ' — SKIPPED: /usr/sbin/sshd, ssh-keygen or the OpenSSH sftp client is not installed';

describe.skipIf(!available)(`issue-13 attacks on an SFTP spool${why}`, () => {
  let srv: Sshd;
  let inst: Instance;
  let config: string;
  let root: string;
  const fin = (f: 'in' | 'out' | 'archive' | 'error'): string => inFolder(root, 'fin', f);
  const runOnce = async (): Promise<{ code: number; files: { file: string; outcome: string }[]; stderr: string }> => {
    const r = await run(process.execPath, [BIN, 'run-once', '--as-of', S.AS_OF, '--json', '--config', config], { cwd: inst.dir });
    return { code: r.code, files: r.stdout ? (JSON.parse(r.stdout).files as { file: string; outcome: string }[]) : [], stderr: r.stderr };
  };

  beforeAll(async () => {
    srv = await startSshd();
    inst = await scenarioInstance();
    ({ config, root } = await sftpConfig(inst, srv, { name: 'attacks' }));
    for (const f of ['in', 'out', 'archive', 'error'] as const) await mkdir(fin(f), { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await srv?.cleanup();
    await inst?.cleanup();
  });

  it('links, a FIFO and a folder in in/ go to error/ with a journal row; links in out/ are not followed; the real file is answered', async () => {
    const victim = join(inst.dir, 'victim.txt');
    await writeFile(victim, 'untouched');
    const outside = join(inst.dir, 'outside.xml');
    await writeRequestFile(outside, S.header({ fileId: 'FIN-S-OUT' }), S.lines.slice(0, 1));
    await symlink(outside, join(fin('in'), 'L1.xml'));
    execFileSync('mkfifo', [join(fin('in'), 'F1.xml')]);
    await mkdir(join(fin('in'), 'D1.xml'));
    await symlink(victim, join(fin('out'), 'R1.response.xml'));
    await writeRequestFile(join(fin('in'), 'R1.xml'), S.header({ fileId: 'FIN-S-R1' }), S.lines.slice(0, 2));
    const r = await runOnce();
    expect(r.files.map((f) => [f.file, f.outcome]).sort(), r.stderr).toEqual([
      ['D1.xml', 'FAILED'],
      ['F1.xml', 'FAILED'],
      ['L1.xml', 'FAILED'],
      ['R1.xml', 'ANSWERED'],
    ]);
    expect(await readdir(fin('in'))).toEqual([]);
    expect(existsSync(join(fin('out'), 'L1.response.xml'))).toBe(false);
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect((await lstat(join(fin('out'), 'R1.response.xml'))).isSymbolicLink()).toBe(true);
    const list = JSON.parse((await run(process.execPath, [BIN, 'batches', 'list', '--json', '--config', config], { cwd: inst.dir })).stdout) as { fileName: string; errorCode: string | null; archiveName: string | null }[];
    for (const n of ['L1.xml', 'F1.xml', 'D1.xml']) {
      const row = list.find((b) => b.fileName === n);
      expect(row, n).toMatchObject({ errorCode: 'NOT_A_FILE' });
      expect(row?.archiveName, n).toMatch(/^error\//);
    }
    const moved = list.find((b) => b.fileName === 'L1.xml')?.archiveName as string;
    expect((await lstat(join(root, 'fin', moved))).isSymbolicLink()).toBe(true); // the link itself, not its target
  });
});
