/**
 * Regroups a stream of batches (the reader yields one per read chunk) into arrays of at most
 * `size`, so lookups run per chunk, not per line, and no await is paid per line.
 */
export async function* chunked<T>(batches: AsyncIterable<readonly T[]>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const batch of batches) {
    for (const item of batch) {
      chunk.push(item);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}
