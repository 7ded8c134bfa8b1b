// Entry of the response file's worker (see fileOutput.ts): hashes and writes the chunks the
// answering thread hands over, in order, and says how far it got.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter } from './fileOutput.js';

const port = parentPort;
if (port === null) throw new Error('fileOutputWorker runs as a worker thread');
const { path } = workerData as { path: string };
const hash = createHash('sha256');
const fileHash = createHash('sha256');
let fd: number | undefined;

const post = (m: FromWriter, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

function writeAll(chunk: Buffer): void {
  let done = 0;
  while (done < chunk.length) {
    const n = writeSync(fd as number, chunk, done, chunk.length - done);
    // A zero-byte write with no error cannot make progress; say so instead of looping.
    if (n === 0) throw Object.assign(new Error(`write made no progress after ${done} of ${chunk.length} bytes`), { code: 'EIO' });
    done += n;
  }
}

function close(): void {
  if (fd === undefined) return;
  const f = fd;
  fd = undefined;
  closeSync(f);
}

port.on('message', (m: ToWriter) => {
  try {
    switch (m.kind) {
      case 'write': {
        const chunk = Buffer.from(m.buffer, 0, m.length);
        if (m.signed) hash.update(chunk);
        fileHash.update(chunk);
        writeAll(chunk);
        // the buffer goes back for the next chunk
        post({ kind: 'written', length: m.length, buffer: m.buffer }, [m.buffer]);
        return;
      }
      case 'digest':
        hash.update(m.tail, 'utf8');
        post({ kind: 'digest', value: hash.digest('base64') });
        return;
      case 'end':
        // As an fs.WriteStream ends: the data is in the file, the descriptor closed.
        if (m.fsync) fsyncSync(fd as number);
        close();
        post({ kind: 'ended', value: fileHash.digest('hex') });
        port.close();
        return;
      case 'abort':
        close();
        port.close();
        return;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    try {
      close();
    } catch {
      // the first error is the one to report
    }
    post({ kind: 'failed', message: e.message, code: e.code });
    port.close();
  }
});

try {
  fd = openSync(path, 'w');
  post({ kind: 'opened' });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  post({ kind: 'failed', message: e.message, code: e.code });
  port.close();
}
