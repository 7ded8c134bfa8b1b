/** The claim time: an instant (UTC, seconds) and the reference date in the instance's time zone. */
export type Clock = (timezone: string) => { date: string; instant: string };

export function dateInZone(d: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/**
 * The wall clock, or the fixed instant in LDM_BATCH_CLOCK (ISO, e.g. 2026-02-15T03:00:00Z) —
 * for reproducible runs: tests compare crashed and uncrashed runs byte for byte with it.
 */
export const clockNow: Clock = (timezone) => {
  const fixed = process.env.LDM_BATCH_CLOCK;
  const d = fixed ? new Date(fixed) : new Date();
  if (Number.isNaN(d.getTime())) throw new Error(`LDM_BATCH_CLOCK is not an ISO instant: ${fixed}`);
  return { date: dateInZone(d, timezone), instant: d.toISOString().replace(/\.\d{3}Z$/, 'Z') };
};
