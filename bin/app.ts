#!/usr/bin/env node
/**
 * CDK app: the example job queue stack, checked by cdk-nag's AwsSolutions and Serverless packs
 * (any unacknowledged finding stops synthesis).
 *
 * Context: `-c stackName=...` (default SqsJobsExample), `-c destroyLedger=true` for throwaway stacks (ledger and queues deleted with the stack),
 * `-c monitoringProfile=lean` for the lean monitoring profile (default full).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_STACK_NAME } from '../lambdas/shared/defaults';
import { ExampleJobsStack } from './example-stack';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
new ExampleJobsStack(app, app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME, {
  destroyLedgerOnDelete: String(app.node.tryGetContext('destroyLedger')) === 'true',
  // Checked by JobQueue (a value other than full or lean fails synthesis, naming the prop).
  monitoringProfile: app.node.tryGetContext('monitoringProfile'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
