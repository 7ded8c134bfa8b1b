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

/** Masks every run of exactly 11 digits (an SSIN shape) as `85*******28`. */
export function redact(s: string): string {
  return s.replace(/(?<!\d)(\d{2})\d{7}(\d{2})(?!\d)/g, '$1*******$2');
}

function clean(v: unknown): unknown {
  if (typeof v === 'string') return redact(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1e10 && v < 1e11) return redact(String(v));
  if (v instanceof Error) return { message: redact(v.message), code: (v as { code?: unknown }).code };
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = clean(x);
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
