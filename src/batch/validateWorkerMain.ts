// Entry of the validation worker (see startRequestValidation in validate.ts): validates one file
// the guard has accepted, with libxml2 off the main thread, then scans its envelope (RecordCount,
// seq rules: a pass the main thread need not make), and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { checkGuardedRequestFile } from './validate.js';

const { path } = workerData as { path: string };
const t0 = performance.now();
// 256 KiB reads (instead of 1 MiB): the slicer keeps its pieces until a slice is cut anyway.
checkGuardedRequestFile(path, { readChunk: 1 << 18 }).then(
  (result) => parentPort?.postMessage({ result, ms: performance.now() - t0 }),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
