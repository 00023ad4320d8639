#!/usr/bin/env node
/**
 * CDK app of the chaos run (bench/chaos/run.ts deploys it with cdklocal). Not checked by cdk-nag:
 * it is a test rig on LocalStack, and its JobQueue is the library's, which the example app checks.
 *
 * Context: `-c stackName=...` (default SqsJobsChaos). Environment: CHAOS_PROXY_URL (the fault
 * proxy) and CHAOS_DIRECT_ENDPOINT (LocalStack), both required.
 */
import { App } from 'aws-cdk-lib';
import { ChaosStack } from './stack';

const proxyUrl = process.env.CHAOS_PROXY_URL;
const directEndpoint = process.env.CHAOS_DIRECT_ENDPOINT;
if (!proxyUrl || !directEndpoint) {
  throw new Error('CHAOS_PROXY_URL and CHAOS_DIRECT_ENDPOINT must be set (bench/chaos/run.ts sets them)');
}
const app = new App();
new ChaosStack(app, app.node.tryGetContext('stackName') ?? 'SqsJobsChaos', {
  proxyUrl,
  directEndpoint,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
