import { LdmError } from '../errors.js';

let stdoutGone = false;

/**
 * When the reader of stdout or stderr goes away (`batches list | head -1`), writing fails with
 * EPIPE: the output is dropped from then on, without a trace, and the command finishes its work
 * (a `demo | head` still builds the whole demo; a `run-once | head` does not stop mid-file).
 */
export function quietOnClosedOutput(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (stdoutGone) return;
    stdoutGone = true;
    if (err.code === 'EPIPE') return; // the reader has gone: nothing to report
    // Output that could not be written (a full disk under `> file`) must not look like success.
    process.stderr.write(`ldm-batch: the output could not be written: ${err.message} [OUTPUT_FAILED]\n`);
    process.exitCode = 1;
  });
  process.stderr.on('error', () => undefined);
}

// Command output: human text on stdout, or one JSON document with --json (for scripts).
export function printJson(value: unknown): void {
  if (!stdoutGone) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function print(line = ''): void {
  if (!stdoutGone) process.stdout.write(line + '\n');
}

/** Progress for long work: a rewritten line on a terminal, plain lines otherwise (logs, CI). */
export function progressReporter(label: string, every = 10_000): (n: number, done?: boolean) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (n, done = false) => {
    if (!done && n - last < every) return;
    if (done && last === 0) return; // a short run: no progress was shown, no need to close it
    last = n;
    if (tty) process.stderr.write(`\r${label}: ${n.toLocaleString('en')}${done ? '\n' : ''}`);
    else process.stderr.write(`${label}: ${n}${done ? ' (done)' : ''}\n`);
  };
}

export function isoDate(s: string | undefined, what: string): string | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s + 'T00:00:00Z')) || new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) !== s) {
    throw new LdmError('USAGE', `${what} must be a date YYYY-MM-DD, got "${s}"`, { exitCode: 2 });
  }
  return s;
}
