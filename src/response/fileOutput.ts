// A response file written and hashed by a worker thread (ResponseOutput, writer.ts). The answering
// thread encodes the lines and hands each 1 MiB chunk over without a copy (its buffer is
// transferred); the worker hashes it twice (the signed content, the whole file) and writes it.
// For a big response that is ~0.8 s of CPU per million lines off the critical thread, on a core
// that has room (README "Benchmark").
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ResponseOutput } from './writer.js';

export type ToWriter =
  | { kind: 'write'; buffer: ArrayBuffer; length: number; signed: boolean }
  | { kind: 'digest'; tail: string }
  | { kind: 'end' }
  | { kind: 'abort' };

export type FromWriter =
  | { kind: 'written'; length: number; buffer: ArrayBuffer }
  | { kind: 'digest'; value: string }
  | { kind: 'ended'; value: string }
  | { kind: 'failed'; message: string; code?: string };

/** Bytes handed over but not yet written, above which the writer waits (memory stays flat). */
const MAX_PENDING = 4 << 20;

/** Whether the worker can be loaded: from TypeScript sources (the test runner) it cannot. */
export function fileOutputAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}

/**
 * Creates (or truncates) `path` with the flags and mode `createWriteStream(path)` uses, here and
 * now — so the file exists when this returns, and whoever removes it after a stop signal finds it
 * (a worker's own open would come tens of milliseconds later) — and returns its output.
 */
export function openFileOutput(path: string): ResponseOutput {
  return new FileOutput(openSync(path, 'w'));
}

class FileOutput implements ResponseOutput {
  /** Each chunk is a message to the worker (~20 µs each: 64 KiB chunks cost 0.2 s per million lines). */
  readonly chunkSize = 1 << 20;
  private readonly worker: Worker;
  private failure: Error | undefined;
  /** The whole file's SHA-256, once the worker has written everything (`end` answers once the file is closed). */
  private fileSha256: string | undefined;
  private pending = 0;
  private wake: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Buffers the worker has written and handed back (a transferred buffer would otherwise wait for the worker's GC). */
  private readonly free: ArrayBuffer[] = [];
  private answer: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly fd: number) {
    try {
      this.worker = new Worker(new URL('./fileOutputWorker.js', import.meta.url), { workerData: { fd }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.worker.on('message', (m: FromWriter) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(err));
    // The worker ends after `end`, `abort` or a failure (or dies): only then is the file closed,
    // here, where it was opened — once no write of the worker can still be under way.
    this.worker.on('exit', (code) => {
      let closeError: Error | undefined;
      try {
        closeSync(this.fd);
      } catch (err) {
        closeError = err as Error;
      }
      if (this.fileSha256 === undefined) this.fail(new Error(`the response file's worker stopped (exit code ${code}) before the file was complete`));
      else if (closeError) this.fail(closeError);
      else this.reply(this.fileSha256);
    });
  }

  write(chunk: Buffer, signed: boolean): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const { buffer, byteOffset, length } = chunk;
    if (byteOffset !== 0 || !(buffer instanceof ArrayBuffer)) throw new Error('a response chunk must start its own buffer');
    this.pending += length;
    this.post({ kind: 'write', buffer, length, signed }, [buffer]);
    if (this.pending <= MAX_PENDING) return undefined;
    return new Promise((resolve, reject) => {
      this.wake = { resolve, reject };
    });
  }

  reuse(size: number): Buffer | undefined {
    const b = this.free.pop();
    return b !== undefined && b.byteLength === size ? Buffer.from(b) : undefined;
  }

  signedDigest(tail: string): Promise<string> {
    return this.ask({ kind: 'digest', tail });
  }

  end(): Promise<string> {
    return this.ask({ kind: 'end' });
  }

  abort(): void {
    if (!this.failure) this.post({ kind: 'abort' });
    this.failure ??= new Error('the response was abandoned');
  }

  private ask(m: ToWriter): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.answer = { resolve, reject };
      this.post(m);
    });
  }

  private post(m: ToWriter, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromWriter): void {
    switch (m.kind) {
      case 'written':
        this.pending -= m.length;
        if (this.free.length < 64) this.free.push(m.buffer);
        if (this.wake && this.pending <= MAX_PENDING / 2) {
          const w = this.wake;
          this.wake = undefined;
          w.resolve();
        }
        return;
      case 'ended':
        this.fileSha256 = m.value;
        return;
      case 'digest':
        this.reply(m.value);
        return;
      case 'failed':
        this.fail(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        return;
    }
  }

  private reply(value: string): void {
    const a = this.answer;
    this.answer = undefined;
    a?.resolve(value);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const { wake, answer } = this;
    this.wake = undefined;
    this.answer = undefined;
    wake?.reject(this.failure);
    answer?.reject(this.failure);
  }
}
