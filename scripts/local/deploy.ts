/**
 * Deploys the example stack to LocalStack with cdklocal: bootstrap when the CDKToolkit stack is
 * missing, then `cdk deploy` (idempotent: an unchanged stack is a quick no-op). cdklocal's whole
 * output goes to .local/logs/deploy-<stack>.log; the console gets a summary (deploy-output.ts).
 *
 * LocalStack's endpoint is used for every service, S3 included: an IP-address endpoint makes the
 * SDK use path-style bucket URLs, so no `*.localhost.localstack.cloud` DNS name is needed offline.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { LOCAL_STATE_FILE, localStackRecordText } from '../../cli/local-state';
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import { DeployReporter } from './deploy-output';
import { ACCOUNT, localstackEnv, REGION, ROOT } from './localstack';

/** `file` as a user finds it from where the command runs. */
const shownPath = (file: string) => {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
};

/** Lines of the log shown when a cdklocal command fails. */
const FAILURE_TAIL_LINES = 40;

/** Where one deploy writes cdklocal's full output; the console shows a summary (deploy-output.ts). */
export function deployLogPath(stackName: string): string {
  return path.join(ROOT, '.local', 'logs', `deploy-${stackName}.log`);
}

/**
 * Runs one cdklocal command: every line goes to `logFile`, the lines worth showing to `log`. On
 * failure `log` gets the log's last lines and the error names the log, so nothing is lost.
 * Exported for its unit test.
 */
export function runLogged(
  command: string,
  args: string[],
  env: Record<string, string>,
  log: (line: string) => void,
  logFile: string,
  cwd = ROOT,
): Promise<void> {
  const name = `${path.basename(command)} ${args[0]}`;
  appendFileSync(
    logFile,
    `\n===== ${new Date().toISOString()} ${name} (in ${cwd})\n$ ${command} ${args.join(' ')}\n`,
  );
  const reporter = new DeployReporter({ log });
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (line: string) => {
      appendFileSync(logFile, `${line}\n`);
      if (line.trim()) tail.push(line);
      if (tail.length > FAILURE_TAIL_LINES) tail.shift();
      reporter.line(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8'); // an emoji split between two chunks stays whole
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) take(line);
      });
      stream.on('end', () => {
        if (partial) take(partial);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      log(`${name} exited ${code}; the last ${tail.length} lines of ${shownPath(logFile)}:`);
      for (const line of tail) log(`  ${line}`);
      reject(new Error(`${name} exited ${code} (full output: ${shownPath(logFile)})`));
    });
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
  /**
   * Gets what a user should see: the phases, a progress line about every 10 s, warnings, errors,
   * the outputs and the result; cdklocal's full output goes to `deployLogPath(stackName)`.
   * @default - console.log with a `[deploy]` prefix
   */
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
  const logFile = deployLogPath(stackName);
  const shownLog = shownPath(logFile);
  mkdirSync(path.dirname(logFile), { recursive: true });
  writeFileSync(logFile, `cdklocal output of deploying ${stackName} to ${options.endpoint}\n`);
  const started = Date.now();
  const toolkit = await stackStatus(options.endpoint, 'CDKToolkit');
  if (toolkit === undefined || isFailed(toolkit) || toolkit === 'DELETE_COMPLETE') {
    log(`bootstrapping aws://${ACCOUNT}/${env.AWS_REGION} on ${options.endpoint}`);
    // Outside the project, so bootstrap does not synthesize the app (and lock cdk.out) for nothing.
    const outside = path.join(ROOT, '.local');
    mkdirSync(outside, { recursive: true });
    await runLogged(
      cdklocal,
      ['bootstrap', `aws://${ACCOUNT}/${env.AWS_REGION}`],
      env,
      log,
      logFile,
      outside,
    );
  }
  // A stack left failed by an interrupted run cannot be updated: delete it first.
  const status = await stackStatus(options.endpoint, stackName);
  if (status !== undefined && isFailed(status)) {
    log(`stack ${stackName} is ${status}; deleting it before deploying again`);
    await runLogged(
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
      logFile,
      appDir,
    ).catch((error: Error) =>
      // As before: a failed delete does not stop the deploy (which then says what is wrong).
      log(`deleting ${stackName} failed (${error.message.split('\n')[0]}); deploying anyway`),
    );
  }
  log(`deploying ${stackName} with cdklocal (first deploy takes a few minutes; full output: ${shownLog})`);
  await runLogged(
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
    logFile,
    appDir,
  );
  log(`${stackName} deployed in ${Math.round((Date.now() - started) / 1000)} s`);
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
