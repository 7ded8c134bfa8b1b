// Opt-in stage timings (LDM_BATCH_TIMINGS=1): `process --json` then reports where the time of
// one file went. Off by default; when off, every call here is a cheap no-op.
//
// Stages run overlapped (validation in a worker, lookups in SQLite's thread), so the figures
// are busy times of each part, not slices of the wall time: they may add up to more than it.

const ENABLED = /^(1|true|yes)$/i.test(process.env.LDM_BATCH_TIMINGS ?? '');

let current: Record<string, number> | undefined;

/** Whether timings are being collected for the file in hand (check before calling performance.now()). */
export function timing(): boolean {
  return current !== undefined;
}

/** Starts collecting for one file (when enabled). */
export function startTimings(): void {
  current = ENABLED ? {} : undefined;
}

/** Adds `ms` to a stage. */
export function addTiming(stage: string, ms: number): void {
  if (current !== undefined) current[stage] = (current[stage] ?? 0) + ms;
}

/** Sets a stage (for figures measured elsewhere, e.g. in the validation worker). */
export function setTiming(stage: string, ms: number): void {
  if (current !== undefined) current[stage] = ms;
}

/** Stops collecting and returns the stages in milliseconds (undefined when not enabled). */
export function takeTimings(): Record<string, number> | undefined {
  const t = current;
  current = undefined;
  if (t === undefined) return undefined;
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]));
}
