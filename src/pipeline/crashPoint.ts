// Fail points for the crash tests: with LDM_BATCH_CRASH_AT=<point> the process kills itself
// (SIGKILL, no cleanup) when it reaches that point, exactly like a power cut there.
const target = process.env.LDM_BATCH_CRASH_AT;

export function crashPoint(name: string): void {
  if (target !== undefined && target === name) process.kill(process.pid, 'SIGKILL');
}
