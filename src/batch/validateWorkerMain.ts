// Entry of the validation worker (see startRequestValidation in validateInBackground.ts): validates
// one file the guard has accepted, with libxml2 off the main thread, checks its envelope (RecordCount,
// seq rules: a pass the main thread need not make) on the same scan, and posts the result.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { checkGuardedRequestFile } from './validate.js';

/**
 * This thread's nice value. On 2 cores the main thread (resolving, writing, signing: the critical
 * path), this worker, the audit's SQLite thread and V8's GC helpers all want the CPU; the validation
 * is needed only when the response is published, so it takes what the answer leaves. Median of five
 * alternating million-line runs: 9.23 s at the same priority, 8.98 s at +10, 8.85 s at +19 (README
 * "Benchmark"). Linux applies it to this thread only.
 */
const VALIDATION_NICE = 10;

try {
  // Only on Linux, where it is per thread (elsewhere it would slow the whole process down); only
  // ever raised: a process started at a higher nice value keeps it (lowering it needs privileges).
  if (process.platform === 'linux' && getPriority(0) < VALIDATION_NICE) setPriority(0, VALIDATION_NICE);
} catch {
  // A system that refuses it (a sandbox) validates at the usual priority: slower, not wrong.
}
const { path } = workerData as { path: string };
const t0 = performance.now();
// 256 KiB reads (instead of 1 MiB): the slicer keeps its pieces until a slice is cut anyway.
checkGuardedRequestFile(path, { readChunk: 1 << 18 }).then(
  (result) => parentPort?.postMessage({ result, ms: performance.now() - t0, nice: getPriority(0) }),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
