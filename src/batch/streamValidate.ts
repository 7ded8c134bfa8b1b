// The verdict on a request file from libxml2's own streaming validator: the xmlTextReader with
// the XSD, as `xmllint --stream --schema` runs it, in a child process on the second core.
//
// Why: the pipeline's validation through libxml2-wasm builds a DOM per slice and costs about
// twice the CPU of the streaming reader (3.6 s against 1.7 s per million lines, README
// "Benchmark"); on two saturated cores that CPU is taken from the answer. libxml2-wasm does not
// export the reader, so the native libxml2 of the system runs it, through its own tool.
//
// Only "valid" is taken from it. Anything else — the file fails, the tool is missing or crashes,
// the schema does not compile there — sends the file to the libxml2-wasm validator, which
// decides and gives the exact error list as before. So a file is refused exactly as before, and
// accepted by this path only when native libxml2 accepts it (test/batch/streamValidate.test.ts
// checks the two engines agree on valid and broken files of every kind).
import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { setPriority } from 'node:os';

/** Path of the xmllint binary, or `off` to validate with libxml2-wasm alone. */
export const XMLLINT_ENV = 'LDM_BATCH_XMLLINT';
export const DEFAULT_XMLLINT = '/usr/bin/xmllint';

/** What happens without the streaming validator (check, log and CLI say the same). */
export const WITHOUT_STREAM_VALIDATOR = 'requests are validated by libxml2-wasm alone (as strict; about twice the CPU on big batches)';
/** What brings a missing one back. */
export const STREAM_VALIDATOR_HINT = `install libxml2-utils or set ${XMLLINT_ENV}`;

/**
 * What the streaming validator said; only `valid` is a verdict the pipeline uses as it is. An
 * `unavailable` detail says why and, where the operator can act, what to do: the remedy for a
 * missing binary is not the one for a validator that hung.
 */
export type StreamVerdict =
  | { verdict: 'valid' }
  | { verdict: 'invalid'; detail: string }
  | { verdict: 'unavailable'; detail: string };

export interface StreamValidation {
  readonly result: Promise<StreamVerdict>;
  /** Kills the child (the answer was given up). */
  stop(): void;
}

/**
 * The xmllint to run: LDM_BATCH_XMLLINT when set (an absolute path; `off` for none), else
 * /usr/bin/xmllint. Never looked up on PATH: the validator of personal data is not chosen by
 * whoever sets the daemon's PATH.
 */
export function xmllintBinary(env: NodeJS.ProcessEnv = process.env): { path: string } | { off: string } {
  const set = env[XMLLINT_ENV];
  if (set === undefined || set === '') return { path: DEFAULT_XMLLINT };
  if (set === 'off') return { off: `${XMLLINT_ENV}=off` };
  if (!isAbsolute(set)) return { off: `${XMLLINT_ENV} must be an absolute path (got a relative one)` };
  return { path: set };
}

/**
 * How long the child may run on a file of `bytes` before it is killed and libxml2-wasm decides: a
 * minute, plus 2 s per MB (it reads ~70 MB/s; this allows ~0.5 MB/s, a machine far busier than any
 * seen). Without a limit, a validator that never ended would hold its batch until the daemon stops:
 * its lease stays renewed, so no other instance would take it over.
 */
export function streamTimeoutMs(bytes: number): number {
  return 60_000 + Math.ceil(bytes / 1_000_000) * 2_000;
}

/** Stderr kept for the log (the first lines name the first faults). */
const DETAIL_BYTES = 2048;

/**
 * Runs `xmllint --stream --noout --nonet --schema <schema> <file>` at the given nice value (Linux).
 * Exit code 0 alone means valid: in stream mode the tool prints "validates" even for a document
 * it then fails to parse, and exits 1.
 */
export function streamValidate(file: string, schema: string, nice: number, env: NodeJS.ProcessEnv = process.env, timeoutMs = streamTimeoutMs(0)): StreamValidation {
  const bin = xmllintBinary(env);
  if ('off' in bin) return { result: Promise.resolve({ verdict: 'unavailable', detail: bin.off }), stop: () => undefined };
  // Absolute paths: a relative one starting with '-' would read as an option.
  const child = spawn(bin.path, ['--stream', '--noout', '--nonet', '--schema', resolve(schema), resolve(file)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {},
  });
  let stopped = false;
  let timedOut = false;
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // The verdict still comes from 'close', once the killed child is reaped.
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  timer.unref();
  if (process.platform === 'linux' && child.pid !== undefined) {
    try {
      setPriority(child.pid, nice);
    } catch {
      // refused (a sandbox): the child runs at the caller's priority, slower for the answer, not wrong
    }
  }
  let detail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (detail.length < DETAIL_BYTES) detail += s.slice(0, DETAIL_BYTES - detail.length);
  });
  const result = new Promise<StreamVerdict>((done) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      done({ verdict: 'unavailable', detail: `${bin.path}: ${err.message}; ${STREAM_VALIDATOR_HINT}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        done({
          verdict: 'unavailable',
          detail: `${bin.path} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped; if the machine was not overloaded, run \`ldm-batch check\` and test ${bin.path} on the file by hand`,
        });
      }
      else if (code === 0) done({ verdict: 'valid' });
      else if (code !== null) done({ verdict: 'invalid', detail: detail.trim() });
      else done({ verdict: 'unavailable', detail: stopped ? 'stopped' : `${bin.path} ended by ${signal ?? 'a signal'}` });
    });
  });
  return {
    result,
    stop: () => {
      stopped = true;
      kill();
    },
  };
}
