// Entry of the response file's worker (see fileOutput.ts): hashes and writes the chunks the
// answering thread hands over, in order, and says how far it got.
import { createHash } from 'node:crypto';
import { fsyncSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter } from './fileOutput.js';

const port = parentPort;
if (port === null) throw new Error('fileOutputWorker runs as a worker thread');
// The file was created by the calling thread (fileOutput.ts), which also closes it once this thread
// has ended: this thread only writes to it (a descriptor closed by another thread than the one that
// opened it makes Node print a warning).
const hash = createHash('sha256');
const fileHash = createHash('sha256');
const fd = (workerData as { fd: number }).fd;

const post = (m: FromWriter, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

function writeAll(chunk: Buffer): void {
  let done = 0;
  while (done < chunk.length) {
    const n = writeSync(fd, chunk, done, chunk.length - done);
    // A zero-byte write with no error cannot make progress; say so instead of looping.
    if (n === 0) throw Object.assign(new Error(`write made no progress after ${done} of ${chunk.length} bytes`), { code: 'EIO' });
    done += n;
  }
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
        if (m.fsync) fsyncSync(fd);
        post({ kind: 'ended', value: fileHash.digest('hex') });
        port.close(); // this thread ends; the calling thread then closes the file
        return;
      case 'abort':
        port.close();
        return;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    post({ kind: 'failed', message: e.message, code: e.code });
    port.close();
  }
});

