// Reads a file in chunks into one reused buffer: no allocation per chunk, so a pass over a big
// file leaves no trail of dead buffers for the garbage collector to find (with a read stream,
// hundreds of MB of them can pile up before a collection, which shows as a peak in RSS).
import { open } from 'node:fs/promises';

/**
 * The file's bytes in order. Each chunk is a view of the same buffer: it is only valid until
 * the next one is requested (copy what must be kept). Stopping early closes the file.
 */
export async function* readChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
