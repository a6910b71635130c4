import { defineConfig } from 'vitest/config';

// Two projects selected by name: `unit` needs no services; `integration` talks to real Kafka,
// a real schema registry and real ClickHouse, resolved once by the global setup.
export default defineConfig({
  test: {
    reporters: ['default', './test-support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', '.driftline/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', '.driftline/**'],
          globalSetup: ['./test-support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Integration files share one broker and one ClickHouse; run them one at a time so
          // a 2-core machine is not swamped, while each file still uses fresh topics/tables.
          fileParallelism: false,
        },
      },
    ],
  },
});
