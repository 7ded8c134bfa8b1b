// Entry of the libxml2-wasm validation worker (see startWasmValidation in validateInBackground.ts):
// validates one file the guard has accepted, off the main thread, and posts the result.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { validateGuardedRequestFile } from './validate.js';

const { path, nice } = workerData as { path: string; nice: number };
try {
  // Only on Linux, where it is per thread (elsewhere it would slow the whole process down); only
  // ever raised: a process started at a higher nice value keeps it (lowering it needs privileges).
  if (process.platform === 'linux' && getPriority(0) < nice) setPriority(0, nice);
} catch {
  // A system that refuses it (a sandbox) validates at the usual priority: slower, not wrong.
}
// 256 KiB reads (instead of 1 MiB): the slicer keeps its pieces until a slice is cut anyway.
validateGuardedRequestFile(path, { readChunk: 1 << 18 }).then(
  (result) => parentPort?.postMessage({ result, nice: getPriority(0) }),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
