// Fail points for the crash tests: with LDM_BATCH_CRASH_AT=<point> the process kills itself
// (SIGKILL, no cleanup) when it reaches that point, exactly like a power cut there. With
// LDM_BATCH_STOP_AT=<point> it stops itself (SIGSTOP) there once, like a frozen VM or a long
// pause: the test resumes it with SIGCONT when it has let the lease run out and another instance act.
const target = process.env.LDM_BATCH_CRASH_AT;
let stopAt = process.env.LDM_BATCH_STOP_AT;

export function crashPoint(name: string): void {
  if (target !== undefined && target === name) process.kill(process.pid, 'SIGKILL');
  if (stopAt !== undefined && stopAt === name) {
    stopAt = undefined;
    process.kill(process.pid, 'SIGSTOP');
  }
}
