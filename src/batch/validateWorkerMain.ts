// Entry of the validation worker (see startRequestValidation in validate.ts): validates one file
// the guard has accepted, with libxml2 off the main thread, and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { validateGuardedRequestFile } from './validate.js';

const { path } = workerData as { path: string };
const t0 = performance.now();
// 256 KiB reads (instead of 1 MiB): the slicer keeps its pieces until a slice is cut anyway.
validateGuardedRequestFile(path, { readChunk: 1 << 18 }).then(
  (result) => parentPort?.postMessage({ result, ms: performance.now() - t0 }),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
