#!/usr/bin/env node
/**
 * CDK app of the end-to-end comparison (bench/e2e.ts deploys it with cdklocal): one stack holding
 * our JobQueue and the consumer a careful user would wire by hand, side by side. Not checked by
 * cdk-nag: it is a benchmark rig on LocalStack.
 *
 * Context: `-c stackName=...` (default SqsJobsE2e).
 */
import { App } from 'aws-cdk-lib';
import { HandWiredComparisonStack } from './stack';

const app = new App();
new HandWiredComparisonStack(app, app.node.tryGetContext('stackName') ?? 'SqsJobsE2e', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
