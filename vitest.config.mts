import { defineConfig } from 'vitest/config';

// Three projects, so `npm run test:unit` stays fast and emulator-free:
// - unit:   pure logic, CDK template assertions, SDK-mocked error paths
// - ledger: runtime code against a real DynamoDB engine (DynamoDB Local, started by globalSetup)
// - integ:  the deployed stack on LocalStack
// The AWS SDK's Node 22 notice (see scripts/node-env.sh) would print once per worker and once more
// for the global setups, which run here in the main process; set before either starts, so they
// inherit it, also when vitest runs without scripts/test.sh.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: ['test/unit/**/*.ddb.test.ts'],
          testTimeout: 60_000,
          // Synthesizing a stack bundles its consumers with esbuild: seconds on a busy machine.
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'ledger',
          include: ['test/unit/**/*.ddb.test.ts'],
          globalSetup: ['test/support/dynamodb-local.global-setup.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integ',
          include: ['test/integ/**/*.test.ts'],
          globalSetup: ['test/support/localstack.global-setup.ts', 'test/support/deploy.global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
