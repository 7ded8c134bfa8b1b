// `ldm-batch check`: one line per check, exit 0 only when every check passes (a warning passes).
import { allPassed, runChecks, type CheckStatus } from '../../check/checks.js';
import { print, printJson } from '../output.js';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: 'skip' };

export async function runCheck(o: { json?: boolean; config?: string }): Promise<void> {
  const results = await runChecks(o.config);
  const ok = allPassed(results);
  if (o.json) {
    printJson({ ok, checks: results });
  } else {
    const width = Math.max(...results.map((r) => r.name.length));
    for (const r of results) print(`${MARK[r.status]}  ${r.name.padEnd(width)}  ${r.detail}${r.code && r.status !== 'ok' ? ` [${r.code}]` : ''}`);
    print(ok ? 'all checks passed: the daemon may be enabled' : `${results.filter((r) => r.status === 'fail').length} check(s) failed`);
  }
  // A config that does not load is a config error (2), like everywhere else; other failures are 1.
  if (!ok) process.exitCode = results[0].status === 'fail' ? 2 : 1;
}
