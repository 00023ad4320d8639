/** Shared fixtures for construct tests: stacks that skip Lambda bundling unless asked. */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { JobQueue, type JobQueueProps } from '../../../lib';

export const REGISTRY = path.join(__dirname, '..', '..', '..', 'bin', 'jobs.ts');

/** A stack whose NodejsFunctions are not bundled (the asset hash is a placeholder): fast. */
export function unbundledStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** A one-lane JobQueue in an unbundled stack, with the given props on top. */
export function oneLaneQueue(props: Partial<JobQueueProps> = {}): { stack: Stack; queue: JobQueue } {
  const stack = unbundledStack();
  const queue = new JobQueue(stack, 'Jobs', { registryEntry: REGISTRY, lanes: [{ name: 'only' }], ...props });
  return { stack, queue };
}
