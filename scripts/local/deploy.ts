/**
 * Deploys the example stack to LocalStack with cdklocal: bootstrap when the CDKToolkit stack is
 * missing, then `cdk deploy` (idempotent: an unchanged stack is a quick no-op).
 *
 * LocalStack's endpoint is used for every service, S3 included: an IP-address endpoint makes the
 * SDK use path-style bucket URLs, so no `*.localhost.localstack.cloud` DNS name is needed offline.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { LOCAL_STATE_FILE, localStackRecordText } from '../../cli/local-state';
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import { ACCOUNT, localstackEnv, REGION, ROOT } from './localstack';

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  log: (line: string) => void,
  cwd = ROOT,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (line.trim() && !line.includes('nodedir')) log(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${tail}`)),
    );
  });
}

/** The stack as DescribeStacks on `endpoint` returns it (status, outputs); throws when there is none. */
export async function describeStack(endpoint: string, stackName: string): Promise<Stack> {
  const cfn = new CloudFormationClient({ endpoint, region: process.env.AWS_REGION ?? REGION });
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (!stack) throw new Error(`DescribeStacks returned no stack ${stackName}`);
  return stack;
}

/** The stack's status, '' when it has none, or undefined when it cannot be described (not deployed). */
async function stackStatus(endpoint: string, stackName: string): Promise<string | undefined> {
  try {
    return (await describeStack(endpoint, stackName)).StackStatus ?? '';
  } catch {
    return undefined;
  }
}

const isFailed = (status: string) => status.endsWith('_FAILED') || status === 'ROLLBACK_COMPLETE';

export interface DeployOptions {
  readonly endpoint: string;
  readonly stackName?: string;
  /**
   * Directory of the CDK app to deploy (its cdk.json names the app); the app gets
   * `-c stackName=<stackName>` like the example.
   * @default - this repository (the example stack)
   */
  readonly appDir?: string;
  /** Progress lines (default: console.log with a prefix). */
  readonly log?: (line: string) => void;
  /**
   * Every stack of the app to deploy, for an app with more than one (a producer stack next to
   * the queue's); they share `stackName`'s cloud assembly folder.
   * @default - [stackName]
   */
  readonly stacks?: readonly string[];
}

/** Bootstraps (once) and deploys the example stack, or the app in `appDir`; resolves when CloudFormation is done. */
export async function deployExampleStack(options: DeployOptions): Promise<void> {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const appDir = options.appDir ?? ROOT;
  const log = options.log ?? ((line: string) => console.log(`[deploy] ${line}`));
  const env = localstackEnv(options.endpoint);
  const cdklocal = path.join(ROOT, 'node_modules', '.bin', 'cdklocal');
  const toolkit = await stackStatus(options.endpoint, 'CDKToolkit');
  if (toolkit === undefined || isFailed(toolkit) || toolkit === 'DELETE_COMPLETE') {
    log(`bootstrapping aws://${ACCOUNT}/${env.AWS_REGION} on ${options.endpoint}`);
    // Outside the project, so bootstrap does not synthesize the app (and lock cdk.out) for nothing.
    const outside = path.join(ROOT, '.local');
    mkdirSync(outside, { recursive: true });
    await run(cdklocal, ['bootstrap', `aws://${ACCOUNT}/${env.AWS_REGION}`], env, log, outside);
  }
  // A stack left failed by an interrupted run cannot be updated: delete it first.
  const status = await stackStatus(options.endpoint, stackName);
  if (status !== undefined && isFailed(status)) {
    log(`stack ${stackName} is ${status}; deleting it before deploying again`);
    await run(
      cdklocal,
      [
        'destroy',
        stackName,
        '--force',
        '-c',
        `stackName=${stackName}`,
        '--output',
        path.join(ROOT, '.local', 'cdk.out', stackName),
      ],
      env,
      log,
      appDir,
    ).catch((error: Error) =>
      // As before: a failed delete does not stop the deploy (which then says what is wrong).
      log(`deleting ${stackName} failed (${error.message.split('\n')[0]}); deploying anyway`),
    );
  }
  log(`deploying ${stackName} with cdklocal (first deploy takes a few minutes)`);
  await run(
    cdklocal,
    [
      'deploy',
      ...(options.stacks ?? [stackName]),
      '-c',
      `stackName=${stackName}`,
      '-c',
      'destroyLedger=true',
      '--require-approval',
      'never',
      '--progress',
      'events',
      // One cloud assembly per stack name: concurrent deploys (tests, bench, demo) do not share a lock.
      '--output',
      path.join(ROOT, '.local', 'cdk.out', stackName),
    ],
    env,
    log,
    appDir,
  );
}

/**
 * Records the stack `npm start` deployed in `<root>/.local/local-stack.json`, where the CLI and the
 * console find it from a new shell. Only this script's own run records: tests and the benchmark
 * deploy other stack names through deployExampleStack and leave the record alone.
 */
export function recordLocalStack(
  root: string,
  deployed: { readonly endpoint: string; readonly region: string; readonly stackName: string },
  now: Date = new Date(),
): string {
  const file = path.join(root, LOCAL_STATE_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, localStackRecordText(deployed, now));
  return file;
}

// `tsx scripts/local/deploy.ts`: deploy to the LocalStack named by AWS_ENDPOINT_URL.
if (require.main === module) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    console.error(
      '[deploy] AWS_ENDPOINT_URL is not set: start LocalStack first (bash scripts/localstack/up.sh)',
    );
    process.exit(2);
  }
  const stackName = process.env.SQS_JOBS_STACK || DEFAULT_STACK_NAME;
  deployExampleStack({ endpoint, stackName })
    .then(() => {
      const region = process.env.AWS_REGION || REGION;
      const file = recordLocalStack(ROOT, { endpoint, region, stackName });
      console.log(
        `[deploy] recorded ${stackName} at ${endpoint} in ${path.relative(ROOT, file)} for the CLI`,
      );
    })
    .catch((error: Error) => {
      console.error(`[deploy] failed: ${error.message}`);
      process.exit(1);
    });
}
