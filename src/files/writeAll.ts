// write(2) may write fewer bytes than asked without an error (a disk that fills up mid-write does
// exactly that, and only the next call says ENOSPC). FileHandle.write passes that on: a caller that
// ignores bytesWritten publishes a truncated file. Every write of data we deliver goes through here.
import { write, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

const writeFd = promisify(write);

/** Writes all of `buf[offset, offset + length)`, or throws the error that stopped it. */
export async function writeAll(fh: FileHandle, buf: Buffer, offset = 0, length = buf.length - offset): Promise<void> {
  await writeAllWith((at, n) => fh.write(buf, at, n), offset, length);
}

/** writeAll for a descriptor (a file created synchronously: the request's private copy, batch/requestPass.ts). */
export async function writeAllFd(fd: number, buf: Buffer, offset = 0, length = buf.length - offset): Promise<void> {
  await writeAllWith((at, n) => writeFd(fd, buf, at, n), offset, length);
}

async function writeAllWith(writeSome: (offset: number, length: number) => Promise<{ bytesWritten: number }>, offset: number, length: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await writeSome(offset + done, length - done);
    // A zero-byte write with no error cannot make progress; say so instead of looping.
    if (bytesWritten === 0) throw Object.assign(new Error(`write made no progress after ${done} of ${length} bytes`), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** writeAll for a descriptor written synchronously at `position` (the read model's files, the response file's worker). */
export function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.byteLength) {
    // Pieces of at most 16 MiB: one write(2) of more may be cut short anyway.
    const n = writeSync(fd, data, done, Math.min(data.byteLength - done, 1 << 24), position + done);
    if (n === 0) throw Object.assign(new Error(`write made no progress after ${done} of ${data.byteLength} bytes`), { code: 'EIO' });
    done += n;
  }
}
