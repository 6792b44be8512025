import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Handlers keep module-wide caches (keys, tokens); isolate each file.
    isolate: true,
    pool: 'forks',
    // Logs are asserted on through test/support/log-capture.ts, not printed.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'silent' },
  },
});
