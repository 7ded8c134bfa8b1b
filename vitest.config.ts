import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two files at a time on the 2-core CI machine (vitest's default there is one): most files spend
    // their time waiting on child processes, sshd, leases and the databases. Tests must not depend
    // on the machine's load, so this is also a standing check of that.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
