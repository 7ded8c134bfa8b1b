import { createReadStream } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { LdmError } from '../errors.js';
import { clockNow } from '../pipeline/clock.js';

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

/**
 * Progress for long work: on a terminal, a bar with total, percentage, rate and ETA (cli-progress);
 * otherwise nothing, so the stderr of a service stays pure JSON-lines log. The total is counted
 * from the file itself (`count` scans it once, concurrently; the bar appears when it is known).
 */
export function progressReporter(
  label: string,
  opts: { unit: string; count?: () => Promise<number>; stream?: NodeJS.WriteStream; minTotal?: number } = { unit: 'lines' },
): (n: number, done?: boolean) => void {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY || !opts.count) return () => undefined;
  const started = Date.now();
  let bar: SingleBar | null = null;
  let total: number | null = null;
  let value = 0;
  let finished = false;
  const payload = (): Record<string, string> => {
    const seconds = (Date.now() - started) / 1000;
    return { label, unit: opts.unit, rate: seconds > 0 ? Math.round(value / seconds).toLocaleString('en') : '…' };
  };
  opts
    .count()
    .then((n) => {
      // A short run needs no bar.
      if (finished || n < (opts.minTotal ?? 10_000)) return;
      total = Math.max(n, value, 1);
      bar = new SingleBar(
        {
          stream,
          format: '{label} [{bar}] {percentage}% | {value}/{total} {unit} | {rate} {unit}/s | ETA {eta_formatted}',
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? v.toLocaleString('en') : String(v)),
          hideCursor: false,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      bar.start(total, value, payload());
    })
    .catch(() => undefined); // no total, no bar: progress is a courtesy
  return (n, done = false) => {
    value = n;
    if (!bar || total === null) {
      if (done) finished = true;
      return;
    }
    if (n > total) bar.setTotal((total = n));
    if (done || n % 1000 === 0) bar.update(n, payload());
    if (done) {
      bar.update(n, payload());
      bar.stop();
      finished = true;
    }
  };
}

/** Occurrences of `needle` in a file, streamed (for a progress bar's total). */
export async function countInFile(path: string, needle: string, accept: (next: number) => boolean = () => true): Promise<number> {
  const pattern = Buffer.from(needle);
  let n = 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let at = buf.indexOf(pattern);
    let scanned = 0;
    while (at !== -1 && at + pattern.length < buf.length) {
      if (accept(buf[at + pattern.length])) n++;
      scanned = at + 1;
      at = buf.indexOf(pattern, at + 1);
    }
    // Keep the tail that could hold a match cut by the chunk boundary (or its following byte).
    carry = Buffer.from(buf.subarray(Math.max(scanned, buf.length - pattern.length)));
  }
  // A match at the very end of the file has no following byte.
  if (carry.length >= pattern.length && carry.subarray(carry.length - pattern.length).equals(pattern) && accept(-1)) n++;
  return n;
}

/** `<Request ` / `<Request>` (any prefix), not `<Requests>`: the lines of a request file. */
export function requestLineCount(path: string): Promise<number> {
  const boundary = (c: number): boolean => c === 0x20 || c === 0x3e || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f;
  return Promise.all([countInFile(path, '<Request', boundary), countInFile(path, ':Request', boundary)]).then(([a, b]) => a + b);
}

export function isoDate(s: string | undefined, what: string): string | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s + 'T00:00:00Z')) || new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) !== s) {
    throw new LdmError('USAGE', `${what} must be a date YYYY-MM-DD, got "${s}"`, { exitCode: 2 });
  }
  return s;
}

/**
 * A reference date may not lie after today in the instance's time zone: an answer "as of" a
 * future day would show amounts that are not visible yet as if they were, and the claim date
 * would contradict it.
 */
export function notInFuture(date: string | undefined, timezone: string, what = '--as-of'): string | undefined {
  if (date === undefined) return undefined;
  const today = clockNow(timezone).date;
  if (date > today) throw new LdmError('USAGE', `${what} ${date} is in the future (today is ${today} in ${timezone}); a reference date may not be after today`, { exitCode: 2 });
  return date;
}
