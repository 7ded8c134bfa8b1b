// A short write is not an error to write(2); writeAll must go on until every byte is written.
// The real fault (a disk that fills mid-write) is caused on a tmpfs in test/pipeline/faults.test.ts;
// here a handle that writes at most 3 bytes a call shows the loop itself.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileHandle } from 'node:fs/promises';
import { writeAll, writeAllFd } from '../../src/files/writeAll.js';

function shortWriter(limit: number, failAfter = Infinity): { fh: FileHandle; out: number[] } {
  const out: number[] = [];
  const fh = {
    async write(buf: Buffer, offset: number, length: number) {
      if (out.length >= failAfter) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      const n = Math.min(limit, length);
      for (let i = 0; i < n; i++) out.push(buf[offset + i]);
      return { bytesWritten: n, buffer: buf };
    },
  } as unknown as FileHandle;
  return { fh, out };
}

describe('writeAll', () => {
  it.each([1, 3, 7, 100])('writes every byte when each call writes at most %i', async (limit) => {
    const { fh, out } = shortWriter(limit);
    const buf = Buffer.from('0123456789abcdefghij');
    await writeAll(fh, buf, 2, 15);
    expect(Buffer.from(out).toString()).toBe('23456789abcdefg');
  });

  it('throws the error that stopped it (ENOSPC after a short write)', async () => {
    const { fh, out } = shortWriter(4, 8);
    await expect(writeAll(fh, Buffer.alloc(20))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(out.length).toBe(8);
  });

  it('refuses to loop on a write that makes no progress', async () => {
    const { fh } = shortWriter(0);
    await expect(writeAll(fh, Buffer.alloc(5))).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('writeAllFd', () => {
  it('writes the given part of the buffer through a descriptor, after what was written before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldm-writeall-'));
    const fd = openSync(join(dir, 'f'), 'w');
    try {
      await writeAllFd(fd, Buffer.from('head:'));
      await writeAllFd(fd, Buffer.from('0123456789abcdefghij'), 2, 15);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('head:23456789abcdefg');
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!existsSync('/dev/full'))('throws the error that stopped it (ENOSPC from /dev/full)', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      await expect(writeAllFd(fd, Buffer.alloc(5))).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      closeSync(fd);
    }
  });
});
