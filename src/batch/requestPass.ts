// The one read of a request file that the pipeline makes of the bytes it was handed:
// in a single streaming pass, the SHA-256 of the file and the guard (DTD, UTF-8, run limits; see
// guard.ts) — and the bytes are written, as they are read, into a private copy that only this
// process can write. Schema validation and the envelope scan (RecordCount, seq rules; both on the
// second core), the Header read and the line reader then read that copy, so the hash, the checks
// and the answer all see the same bytes, even when the file they came from (in a client's spool
// folder, or linked from it) changes meanwhile. The envelope scan left this pass for the worker:
// on the main thread it cost about 2 s per million lines, before the first line was answered.
//
// Why the line reader is not part of this pass: the response's signed Header carries the
// request's SHA-256 (contract §7) before its first answered line, so the digest of the whole
// request must be known before the first byte of the answer is hashed for the signature.
// Answering during this pass would need every parsed line kept until its end.
//
// Memory stays at one read chunk: the scanners keep nothing of a chunk, and the copy is written
// chunk by chunk.
import { createHash } from 'node:crypto';
import { close, constants, openSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dataFileMode } from '../files/modes.js';
import { writeAllFd } from '../files/writeAll.js';
import { READ_CHUNK, RequestGuard, type GuardResult } from './guard.js';

export interface RequestRead {
  /** SHA-256 of every byte read, lowercase hex. */
  sha256: string;
  size: number;
  guard: GuardResult;
  /**
   * The private copy (mode of personal data, created exclusively): every byte of the file when
   * the guard accepted it; when it refused it, the bytes up to the refusal (enough to place it).
   */
  copy: string;
}

/**
 * Reads `path` once into the checks above and into a new file
 * `copy`, which must not exist. The caller removes the copy when done with it. Never throws on
 * content; I/O errors propagate (the copy is then removed).
 */
export async function readRequestOnce(path: string, copy: string): Promise<RequestRead> {
  const src = await open(path, 'r');
  let dst: number | undefined;
  let made = false;
  try {
    // Created synchronously: once this returns the copy exists, so a stop signal's clean-up
    // (which runs between two steps of this thread, never during one) finds it; an open still
    // under way in the thread pool could create it after the clean-up.
    dst = openSync(copy, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, dataFileMode());
    made = true;
    const hash = createHash('sha256');
    const guard = new RequestGuard();
    let guarding = true;
    let size = 0;
    // One reused buffer: the hash and the scanners keep nothing of it, and the copy is written
    // before the next read.
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const chunk = await readFull(src, buf);
      if (chunk.length === 0) break;
      hash.update(chunk);
      size += chunk.length;
      if (guarding) {
        // The copy is written up to the end of the chunk where the guard's verdict fell: the
        // position of a refusal is looked up in it.
        await writeAllFd(dst, chunk);
        guarding = guard.push(chunk);
      }
    }
    const fd = dst;
    dst = undefined; // closed once only: a descriptor number may be reused as soon as it is closed
    await closeFd(fd);
    const sha256 = hash.digest('hex');
    return { sha256, size, guard: await guard.result(copy), copy };
  } catch (err) {
    if (dst !== undefined) await closeFd(dst).catch(() => undefined);
    if (made) await rm(copy, { force: true }).catch(() => undefined);
    throw err;
  } finally {
    await src.close();
  }
}

/** Fills `buf` (fewer bytes only at the end of the file): the guard's verdicts depend on where chunks end. */
async function readFull(fh: Awaited<ReturnType<typeof open>>, buf: Buffer): Promise<Buffer> {
  let n = 0;
  while (n < buf.length) {
    const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}

const closeFd = promisify(close);
