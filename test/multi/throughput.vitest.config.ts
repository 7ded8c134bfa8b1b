// Config for the throughput measurement alone (scripts/throughput.mjs): not part of `npm test`,
// whose files run side by side and would skew the figures.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/multi/throughput.measure.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
