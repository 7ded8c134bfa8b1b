// Structured logs: one JSON object per line on stderr. Every string value passes through
// `redact`, so an SSIN (11 digits) can never reach a log line in full, whoever logs it.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Masks SSIN shapes as `85*******28`: 11 digits in a row, and the printed form 85.07.30-033.28
 * (any of . - / or space between the groups).
 */
export function redact(s: string): string {
  return s
    .replace(/(?<!\d)(\d{2})\d{7}(\d{2})(?!\d)/g, '$1*******$2')
    .replace(/(?<!\d)(\d{2})[.\-/ ]?\d{2}[.\-/ ]?\d{2}[.\-/ ]?\d{3}[.\-/ ]?(\d{2})(?!\d)/g, '$1*******$2');
}

function clean(v: unknown): unknown {
  if (typeof v === 'string') return redact(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1e10 && v < 1e11) return redact(String(v));
  if (v instanceof Error) return { message: redact(v.message), code: clean((v as { code?: unknown }).code) };
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[redact(k)] = clean(x);
    return out;
  }
  return v;
}

export function createLogger(opts: { level?: Level; write?: (line: string) => void; base?: Record<string, unknown> } = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.LDM_BATCH_LOG_LEVEL as Level | undefined) ?? 'info')] ?? ORDER.info;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: Level, event: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    write(JSON.stringify(clean({ time: new Date().toISOString(), level, event, ...base, ...fields })));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** For tests and quiet CLI commands. */
export const silentLogger: Logger = createLogger({ write: () => undefined });
