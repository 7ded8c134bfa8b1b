// Schema validation of a request file in the background (for the pipeline, which answers the
// file meanwhile and publishes the answer only if the file is valid).
//
// Two engines, one verdict: libxml2's streaming validator (streamValidate.ts, a child process)
// says "valid" for the common case at the cost of `xmllint --stream`; every other outcome goes
// to libxml2-wasm (validate.ts), which decides and names the errors, as it always did.
import { Worker } from 'node:worker_threads';
import { streamTimeoutMs, streamValidate, type StreamVerdict } from './streamValidate.js';
import { schemaPath } from './schemaFiles.js';
import type { ValidationResult } from './validate.js';

/** Which validator gave the result. */
export type ValidationEngine = 'libxml2-stream' | 'libxml2-wasm';

/** A validation started in the background: its result, and a way to stop it early. */
export interface RunningValidation {
  readonly result: Promise<ValidationResult>;
  /** Milliseconds the validation took (set once `result` resolved). */
  readonly elapsedMs: () => number | undefined;
  /** The validator that decided (set once `result` resolved). */
  readonly engine: () => ValidationEngine | undefined;
  /** Why the streaming validator could not give the verdict (missing, crashed…), when it could not. */
  readonly unavailable: () => string | undefined;
  /** The wasm validation thread's nice value, once it answered; undefined when it did not run in one. */
  readonly nice: () => number | undefined;
  stop(): void;
}

/** Files from this size on are validated by libxml2-wasm in a worker thread (below it, a worker costs more than it saves). */
export const WORKER_MIN_BYTES = 4 << 20;

/**
 * The validation's nice value (its thread, or its process). On 2 cores the main thread (resolving,
 * writing, signing: the critical path), the validation, the audit's SQLite thread and V8's GC
 * helpers all want the CPU; the validation is needed only when the response is published, so it
 * takes what the answer leaves. Median of five alternating million-line runs (wasm validator):
 * 9.23 s at the same priority, 8.98 s at +10, 8.85 s at +19 (README "Benchmark").
 */
export const VALIDATION_NICE = 10;

/**
 * Starts validating a request file without waiting for it: libxml2's streaming validator in a
 * child process, and libxml2-wasm when that one does not say valid (in a worker thread for a big
 * file, else here). The file must have passed the guard (requestPass.ts).
 */
export function startRequestValidation(path: string, size: number, env: NodeJS.ProcessEnv = process.env, streamTimeout = streamTimeoutMs(size)): RunningValidation {
  const t0 = performance.now();
  let elapsed: number | undefined;
  let engine: ValidationEngine | undefined;
  let unavailable: string | undefined;
  let wasm: RunningWasm | undefined;
  let stopped = false;
  const stream = streamValidate(path, schemaPath('request'), VALIDATION_NICE, env, streamTimeout);
  const result = stream.result
    .then((v: StreamVerdict): Promise<ValidationResult> | ValidationResult => {
      if (v.verdict === 'valid') {
        engine = 'libxml2-stream';
        return { ok: true };
      }
      if (v.verdict === 'unavailable') unavailable = v.detail;
      if (stopped) throw new Error('the validation was stopped');
      engine = 'libxml2-wasm';
      wasm = startWasmValidation(path, size);
      return wasm.result;
    })
    .finally(() => {
      elapsed = performance.now() - t0;
    });
  result.catch(() => undefined); // stopped: nobody waits any more
  return {
    result,
    elapsedMs: () => elapsed,
    engine: () => engine,
    unavailable: () => unavailable,
    nice: () => wasm?.nice(),
    stop: () => {
      stopped = true;
      stream.stop();
      wasm?.stop();
    },
  };
}

interface RunningWasm {
  readonly result: Promise<ValidationResult>;
  readonly nice: () => number | undefined;
  stop(): void;
}

/**
 * libxml2-wasm on a file the guard accepted. When the module runs from TypeScript sources (the
 * test runner), a worker cannot load it and the validation runs here too.
 */
export function startWasmValidation(path: string, size: number): RunningWasm {
  if (size < WORKER_MIN_BYTES || !import.meta.url.endsWith('.js')) {
    // libxml2 is loaded only where it runs (it costs tens of MB of wasm memory per thread)
    const result = import('./validate.js').then((v) => v.validateGuardedRequestFile(path));
    return { result, nice: () => undefined, stop: () => undefined };
  }
  const workerUrl = new URL('./validateWorkerMain.js', import.meta.url);
  // A small young generation: the worker allocates little JS memory (libxml2's is wasm memory).
  const worker = new Worker(workerUrl, { workerData: { path, nice: VALIDATION_NICE }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  let nice: number | undefined;
  const result = new Promise<ValidationResult>((resolve, reject) => {
    worker.once('message', (m: { result?: ValidationResult; nice?: number; error?: string }) => {
      nice = m.nice;
      if (m.result) resolve(m.result);
      else reject(new Error(`validation failed: ${m.error ?? 'no result'}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the validation worker stopped (exit code ${code}) before it answered`)));
  });
  // Once answered, the worker is not needed any more (its wasm memory goes with it).
  result.then(() => worker.terminate(), () => worker.terminate()).catch(() => undefined);
  return { result, nice: () => nice, stop: () => void worker.terminate().catch(() => undefined) };
}
