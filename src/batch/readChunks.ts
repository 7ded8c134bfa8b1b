// Reads a file in chunks into one reused buffer: no allocation per chunk, so a pass over a big
// file leaves no trail of dead buffers for the garbage collector to find (with a read stream,
// hundreds of MB of them can pile up before a collection, which shows as a peak in RSS).
//
// The reads are synchronous on purpose. The files read here are our own (the private copy of a
// request, taken by batch/requestPass.ts), just written, so a 256 KiB read is a copy from the page
// cache: tens of microseconds. An asynchronous read goes through libuv's thread pool, and with
// both cores busy (the resolver here, validation in its worker) waking that thread and coming back
// cost the main thread about a second of idle time per million lines (CPU profile, README
// "Benchmark").
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The file's bytes in order. Each chunk is a view of the same buffer: it is only valid until
 * the next one is requested (copy what must be kept). Stopping early closes the file.
 */
export async function* readChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, size, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
}
