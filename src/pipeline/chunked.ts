/**
 * Regroups a stream of batches (the reader yields one per read chunk) into arrays of at most
 * `size`, so lookups run per chunk, not per line, and no await is paid per line.
 */
export async function* chunked<T>(batches: AsyncIterable<readonly T[]>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const batch of batches) {
    // an index loop: for-of made an iterator result object per item in this generator
    for (let i = 0; i < batch.length; i++) {
      chunk.push(batch[i]);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}
