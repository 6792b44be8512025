import { defineConfig } from 'vitest/config';

/**
 * The slow suites: whole-process and whole-deployment checks (heap growth, several instances
 * on one table, vendor failures with real time-outs, rate budgets and tenant shares held over
 * real seconds, the table going down, every route through its function in property runs, the
 * hostile short form, the packaged template, a copy of the repository, `npm start`, the
 * benchmark's smoke run). `npm test` leaves them out to stay a one-minute loop; `npm run
 * test:slow` runs them, and `.ci/run` runs both, so CI still covers every file. `npm test` runs
 * the fast project on two workers (`--maxWorkers=2`: vitest's default on 2 cores is one); the
 * slow project keeps one, as its suites measure time and load.
 */
const SLOW = [
  'test/functions/token-memory-heap.test.ts',
  'test/functions/multi-instance.test.ts',
  'test/functions/vendor-failures.test.ts',
  'test/functions/token-table-down.test.ts',
  'test/functions/rate-shares.test.ts',
  'test/functions/accounts-rate.test.ts',
  'test/functions/secrets.property.test.ts',
  'test/functions/request-schema.property.test.ts',
  'test/functions/master-key-rotation.test.ts',
  'test/lib/state/rate-budget.test.ts',
  'test/hostile/**/*.test.ts',
  'test/deploy/**/*.test.ts',
  'test/registry/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/agent/main.test.ts',
  'test/bench/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Handlers keep module-wide caches (keys, tokens); isolate each file.
    isolate: true,
    pool: 'forks',
    // Logs are asserted on through test/support/log-capture.ts, not printed.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'silent' },
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
