// Schema validation of a request file in the background (for the pipeline, which answers the
// file meanwhile and publishes the answer only if the file is valid).
import { Worker } from 'node:worker_threads';
import type { RequestFileCheck } from './validate.js';

/** A validation started in the background: its result, and a way to stop it early. */
export interface RunningValidation {
  readonly result: Promise<RequestFileCheck>;
  /** Milliseconds the validation took (set once `result` resolved). */
  readonly elapsedMs: () => number | undefined;
  /** The validating thread's nice value, once it answered; undefined when it ran on this thread. */
  readonly nice: () => number | undefined;
  stop(): void;
}

/** Files from this size on are validated in a worker thread (below it, a worker costs more than it saves). */
export const WORKER_MIN_BYTES = 4 << 20;

/**
 * Starts validating a request file without waiting for it: in a worker thread for a big file
 * (libxml2 then runs on another core while the caller reads and answers the file), else here.
 * The file must have passed the guard (requestPass.ts); the result is then validateRequestFile's. When the module runs from TypeScript sources
 * (the test runner), a worker cannot load it and the validation runs here too.
 */
export function startRequestValidation(path: string, size: number): RunningValidation {
  let elapsed: number | undefined;
  const workerUrl = new URL('./validateWorkerMain.js', import.meta.url);
  if (size < WORKER_MIN_BYTES || !import.meta.url.endsWith('.js')) {
    const t0 = performance.now();
    // libxml2 is loaded only where it runs (it costs tens of MB of wasm memory per thread)
    const result = import('./validate.js')
      .then((v) => v.checkGuardedRequestFile(path))
      .finally(() => {
        elapsed = performance.now() - t0;
      });
    return { result, elapsedMs: () => elapsed, nice: () => undefined, stop: () => undefined };
  }
  // A small young generation: the worker allocates little JS memory (libxml2's is wasm memory).
  const worker = new Worker(workerUrl, { workerData: { path }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  let nice: number | undefined;
  const result = new Promise<RequestFileCheck>((resolve, reject) => {
    worker.once('message', (m: { result?: RequestFileCheck; ms?: number; nice?: number; error?: string }) => {
      elapsed = m.ms;
      nice = m.nice;
      if (m.result) resolve(m.result);
      else reject(new Error(`validation failed: ${m.error ?? 'no result'}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the validation worker stopped (exit code ${code}) before it answered`)));
  });
  // Once answered, the worker is not needed any more (its wasm memory goes with it).
  result.then(() => worker.terminate(), () => worker.terminate()).catch(() => undefined);
  return { result, elapsedMs: () => elapsed, nice: () => nice, stop: () => void worker.terminate().catch(() => undefined) };
}
