import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Finds PostgreSQL (or starts a private one) and redis-server once, before any test file.
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Hang guards only, never a measure of speed: tests wait for events and poll with ceilings
    // of their own, and a loaded 2-core machine may take many times as long as a quiet one to
    // start the servers, children and compilers they need.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // `npm run test:coverage` (or `npm test -- --coverage`): what the test processes ran of src/
    // and mock/. Gateways and simulators the tests start as child processes are not measured,
    // so a part tested only through a child (the CLI) reads lower than it is tested.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'mock/**/*.ts'],
      exclude: ['src/generated/**', 'src/client/dist/**'],
      // CI prints the totals; a local run also leaves a browsable report in coverage/.
      reporter: process.env.CI ? ['text-summary'] : ['text-summary', 'html'],
    },
  },
});
