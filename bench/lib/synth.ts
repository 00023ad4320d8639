/** Synthesizes the example stack in-process (bundling its consumers with local esbuild) and returns its template. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ExampleJobsStack, type ExampleJobsStackProps } from '../../bin/example-stack';
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import type { CfnTemplate } from '../cost-model';
import { WORK_DIR } from './paths';

export function synthExampleTemplate(
  outdir = path.join(WORK_DIR, 'cdk.out'),
  props: ExampleJobsStackProps = {},
): CfnTemplate {
  fs.mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir });
  const stack = new ExampleJobsStack(app, DEFAULT_STACK_NAME, props);
  const assembly = app.synth();
  return assembly.getStackByName(stack.stackName).template as CfnTemplate;
}
