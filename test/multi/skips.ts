// Says why a multi-instance suite does not run here, in the test output itself (the default
// reporter folds skipped suites into a count and would hide their titles).
import { PG_SKIP_REASON } from '../helpers/postgres.js';

export const NO_SSHD = '/usr/sbin/sshd or ssh-keygen is not installed (scripts/test-setup.sh installs openssh-server when run as root)';

/** The reason a suite needing these cannot run ('' when it can); printed once per suite when not ''. */
export function skipReason(suite: string, needs: { postgres?: boolean; sshd?: boolean }, have: { postgres: boolean; sshd: boolean }): string {
  const why = needs.postgres && !have.postgres ? PG_SKIP_REASON : needs.sshd && !have.sshd ? NO_SSHD : '';
  if (why !== '') console.warn(`[multi] SKIPPED "${suite}": ${why}`);
  return why;
}
