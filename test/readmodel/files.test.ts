// Leftovers in the read-model folder: a build's part file or an open model's repertory copy
// (unlinked at once, left only by a crash in between) of a process that is gone are removed;
// those of a live process are not.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneReadModels } from '../../src/readmodel/files.js';

const dir = mkdtempSync(join(tmpdir(), 'ldm-rm-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('read-model folder', () => {
  it('removes the temporary files of processes that are gone, and only those', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number; // exited: its pid names no process now
    const names = ['v1.ldmrm', `v1.ldmrm.${gone}.part`, `v1.ldmrm.rep-${gone}-0a1b2c`, `v1.ldmrm.${process.pid}.part`, `v1.ldmrm.rep-${process.pid}-0a1b2c`, 'v1.ldmrm.rep-x-0a1b2c'];
    for (const n of names) writeFileSync(join(dir, n), '');
    pruneReadModels(dir, new Set([1]));
    expect(readdirSync(dir).sort()).toEqual(['v1.ldmrm', `v1.ldmrm.${process.pid}.part`, `v1.ldmrm.rep-${process.pid}-0a1b2c`, 'v1.ldmrm.rep-x-0a1b2c'].sort());
  });
});
