// Entry of the response file's worker (see fileOutput.ts): hashes and writes the chunks the
// answering thread hands over, in order, and says how far it got.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { writeAllSync } from '../files/writeAll.js';
import type { FromWriter, ToWriter } from './fileOutput.js';

const port = parentPort;
if (port === null) throw new Error('fileOutputWorker runs as a worker thread');
// The file was created by the calling thread (fileOutput.ts), which also closes it once this thread
// has ended: this thread only writes to it (a descriptor closed by another thread than the one that
// opened it makes Node print a warning).
const hash = createHash('sha256');
const fileHash = createHash('sha256');
const fd = (workerData as { fd: number }).fd;
/** Where the next chunk goes: the file was created empty, and is written in order. */
let position = 0;

const post = (m: FromWriter, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

port.on('message', (m: ToWriter) => {
  try {
    switch (m.kind) {
      case 'write': {
        const chunk = Buffer.from(m.buffer, 0, m.length);
        if (m.signed) hash.update(chunk);
        fileHash.update(chunk);
        writeAllSync(fd, chunk, position);
        position += chunk.length;
        // the buffer goes back for the next chunk
        post({ kind: 'written', length: m.length, buffer: m.buffer }, [m.buffer]);
        return;
      }
      case 'digest':
        hash.update(m.tail, 'utf8');
        post({ kind: 'digest', value: hash.digest('base64') });
        return;
      case 'end':
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

