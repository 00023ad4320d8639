/**
 * The library as a new user gets it (two stacks: the queue, and a producer Lambda that imports it
 * with fromJobQueueAttributes; cdk-nag on the whole app; type-checked with NodeNext and with
 * classic CommonJS resolution): `npm pack` (prepack builds dist/), the tarball installed into
 * a fresh CDK app in a temporary folder with its own package.json, lock file and job registry
 * (importing `sqs-jobs/runtime/jobs`), zod from a plain `npm install zod` (the registry's newest
 * 4.x), type-checked with the app's own `tsc --noEmit`, deployed to LocalStack with cdklocal. A
 * PermanentJobError thrown by the user's handler must dead-letter at once, and a job that fails
 * once must succeed on its second attempt: the behaviour our own example stack has.
 *
 * KEEP_PACKED_APP=1 leaves the app folder and the stack in place for a look afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../lambdas/client';
import { defineJob, defineRegistry } from '../../lambdas/registry';
import { DLQ_ATTR } from '../../lambdas/shared/contract';
import { deployExampleStack } from '../../scripts/local/deploy';
import { ROOT } from '../../scripts/local/localstack';
import { envelopeId, peekMessages, spawnConsole, waitFor } from './helpers';

const STACK = 'SqsJobsPackedApp';
/** The app's second stack, named after the first (bin/app.ts in APP_TS). */
const PRODUCER_STACK = `${STACK}-Producer`;
const KEEP = process.env.KEEP_PACKED_APP === '1';
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The versions this repository builds with, so the app's CDK matches our CDK CLI (cdklocal). */
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const pinned = (name: string): string => `${name}@${rootPackage.devDependencies[name]}`;

/** The producer side, mirroring the app's registry (same types and schemas). */
const mirror = defineRegistry([
  defineJob({ type: 'charge-card', schema: z.object({ card: z.string() }), handler: async () => undefined }),
  defineJob({ type: 'flaky-sync', schema: z.object({ n: z.number() }), handler: async () => undefined }),
  defineJob({
    type: 'tenant-sync',
    schema: z.object({ tenant: z.string(), sleepMs: z.number() }),
    tenant: (payload) => payload.tenant,
    handler: async () => undefined,
  }),
]);

/** The app's tsconfig: what `cdk init app --language typescript` writes, minus the test runner. */
function tsconfig(module: 'NodeNext' | 'commonjs'): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        // NodeNext resolves the package's `exports`; classic CommonJS (`moduleResolution: node`)
        // does not, and finds `sqs-jobs/runtime/jobs` through `typesVersions`.
        module,
        moduleResolution: module === 'NodeNext' ? 'NodeNext' : 'node',
        lib: ['es2022'],
        strict: true,
        noImplicitReturns: true,
        skipLibCheck: true,
        noEmit: true,
        esModuleInterop: true,
        types: ['node'],
      },
      exclude: ['node_modules', 'cdk.out', 'cjs'],
    },
    null,
    2,
  );
}

/**
 * The user's app: the queue in one stack, a producer Lambda in a second stack that imports the
 * queue with `JobQueue.fromJobQueueAttributes` and `configureProducer`, and cdk-nag's
 * AwsSolutions and Serverless packs on the whole app (an unacknowledged finding stops synthesis).
 * The app acknowledges its own producer's findings; the library must need none from it.
 */
const APP_TS = `import * as path from 'node:path';
import { App, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { JobQueue, type JobLaneAttributes } from 'sqs-jobs';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const name: string = app.node.tryGetContext('stackName') ?? 'PackedApp';

const queueStack = new Stack(app, name, { env });
const jobs = new JobQueue(queueStack, 'Jobs', {
  registryEntry: path.join(__dirname, '..', 'src', 'jobs.ts'),
  lanes: [{ name: 'default', maxAttempts: 3 }],
  consumerTimeout: Duration.seconds(10),
  backoff: { base: Duration.seconds(1), cap: Duration.seconds(10) },
  removalPolicy: RemovalPolicy.DESTROY,
  ledgerRemovalPolicy: RemovalPolicy.DESTROY,
});

// A producer in another stack: it sees the queue only through its attributes.
const producerStack = new Stack(app, \`\${name}-Producer\`, { env });
const lanes: Record<string, JobLaneAttributes> = {};
for (const laneName of jobs.laneNames) {
  const lane = jobs.lane(laneName);
  lanes[laneName] = {
    queueArn: lane.queue.queueArn,
    queueUrl: lane.queue.queueUrl,
    deadLetterQueueArn: lane.deadLetterQueue.queueArn,
    fifo: lane.fifo,
    maxAttempts: lane.maxAttempts,
  };
}
const imported = JobQueue.fromJobQueueAttributes(producerStack, 'Jobs', {
  ledgerTableArn: jobs.ledgerTable.tableArn,
  lanes,
  scheduleGroupName: jobs.scheduleGroup.scheduleGroupName,
  schedulerRoleArn: jobs.schedulerRole.roleArn,
  scheduleDeadLetterQueueArn: jobs.scheduleDeadLetterQueue.queueArn,
});
const logGroup = new logs.LogGroup(producerStack, 'ProducerLogs', {
  retention: logs.RetentionDays.ONE_WEEK,
  removalPolicy: RemovalPolicy.DESTROY,
});
// An explicit role: only this log group, no managed policy (AwsSolutions-IAM4).
const role = new iam.Role(producerStack, 'ProducerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
logGroup.grantWrite(role);
const producer = new NodejsFunction(producerStack, 'Producer', {
  entry: path.join(__dirname, '..', 'src', 'producer.ts'),
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(10),
  role,
  logGroup,
  bundling: { forceDockerBundling: false, externalModules: ['@aws-sdk/*'] },
});
imported.configureProducer(producer);
new CfnOutput(producerStack, 'ProducerFunctionName', { value: producer.functionName });
// One-time schedules are created at run time, so CreateSchedule is granted on the group's
// schedules: the one wildcard of the grant, acknowledged on this app's own policy.
const group = producerStack.resolve(imported.scheduleGroup.scheduleGroupName);
Validations.of(role).acknowledge({
  id: \`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:\${producerStack.region}:\${producerStack.account}:schedule/\${group}/*]\`,
  reason: 'Producers create one-time schedules (delays over 15 minutes) in the job queue schedule group.',
});
Validations.of(producer).acknowledge(
  { id: 'Serverless-LambdaDLQ', reason: 'The app invokes its producer synchronously.' },
  { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'The app invokes its producer synchronously.' },
  { id: 'Serverless-LambdaTracing', reason: 'The app does not trace its producer.' },
);

// \`-c nagProbe=true\`: a stack with a finding nobody acknowledged, to show the packs run.
if (String(app.node.tryGetContext('nagProbe')) === 'true') {
  new sqs.Queue(new Stack(app, 'NagProbe', { env }), 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
}
`;

const JOBS_TS = `import { z } from 'zod';
import { defineJob, defineRegistry, PermanentJobError } from 'sqs-jobs/runtime/jobs';

export const chargeCard = defineJob({
  type: 'charge-card',
  schema: z.object({ card: z.string() }),
  handler: async (payload) => {
    throw new PermanentJobError(\`card \${payload.card} declined\`);
  },
});

export const flakySync = defineJob({
  type: 'flaky-sync',
  schema: z.object({ n: z.number() }),
  handler: async (payload, ctx) => {
    if (ctx.attempt === 1) throw new Error('downstream 503');
    return { n: payload.n, attempt: ctx.attempt };
  },
});

/** Job control in the user's app: one run at a time per tenant, cancellable within a second. */
export const tenantSync = defineJob({
  type: 'tenant-sync',
  schema: z.object({ tenant: z.string(), sleepMs: z.number().int().max(5000) }),
  tenant: (payload) => payload.tenant,
  concurrency: { limit: 1, key: (payload) => payload.tenant },
  heartbeatSeconds: 1,
  handler: async (payload, ctx) => {
    const startedAt = Date.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, payload.sleepMs);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return { tenant: ctx.tenant, startedAt, finishedAt: Date.now() };
  },
});

export const registry = defineRegistry([chargeCard, flakySync, tenantSync]);
`;

/** The producer Lambda: enqueues with the config `configureProducer` put in its environment. */
const PRODUCER_TS = `import { JobClient } from 'sqs-jobs/runtime';
import { registry } from './jobs';

const client = JobClient.fromEnvironment({ registry });

export const handler = async (event: { n: number }) => {
  const { jobId } = await client.enqueue('flaky-sync', { n: event.n });
  return { jobId };
};
`;

const APP_FILES: Record<string, string> = {
  'cdk.json': JSON.stringify({ app: 'npx tsx bin/app.ts' }, null, 2),
  'tsconfig.json': tsconfig('NodeNext'),
  'bin/app.ts': APP_TS,
  'src/jobs.ts': JOBS_TS,
  'src/producer.ts': PRODUCER_TS,
  // The same app type-checked with classic CommonJS resolution (node_modules from the folder above).
  'cjs/tsconfig.json': tsconfig('commonjs'),
  'cjs/bin/app.ts': APP_TS,
  'cjs/src/jobs.ts': JOBS_TS,
  'cjs/src/producer.ts': PRODUCER_TS,
};

interface RunResult {
  readonly code: number | null;
  /** stdout and stderr as they came (tail). */
  readonly output: string;
  readonly stdout: string;
}

/**
 * The environment of a user's shell: without the npm_* variables of the `npm test` / `npx` that
 * started vitest (npm_config_local_prefix names this repository), so the app's npm is on its own.
 */
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

/** Runs a command to completion (bounded), keeping the tail of its output for failure messages. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      keep(chunk);
    });
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stdout });
    });
  });
}

async function mustRun(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const started = Date.now();
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.output}`);
  }
  console.log(`[packed-app] ${command} ${args[0]}: ${Math.round((Date.now() - started) / 1000)} s`);
  return result.stdout;
}

describe('the packed library in a fresh CDK app on LocalStack', () => {
  let appDir: string;
  let tscResult: RunResult;
  let tscSeconds: number;
  let cjsTscResult: RunResult;
  let nagProbe: RunResult;
  let producerFunctionName: string;
  let client: JobClient<typeof mirror>;
  const sqs = new SQSClient({});
  const lambdaClient = new LambdaClient({});
  const cfn = new CloudFormationClient({});

  beforeAll(async () => {
    appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-jobs-packed-app-'));
    console.log(`[packed-app] app in ${appDir}`);

    // 1. pack (prepack rebuilds dist/)
    await mustRun('npm', ['pack', '--pack-destination', appDir, ...NPM_FLAGS], ROOT, 300_000);
    const tarballs = fs.readdirSync(appDir).filter((file) => file.endsWith('.tgz'));
    expect(tarballs).toHaveLength(1);
    const tarball = path.join(appDir, tarballs[0]);

    // 2. a fresh app: its own package.json and lock file, the tarball, then zod as a user adds it
    fs.writeFileSync(
      path.join(appDir, 'package.json'),
      JSON.stringify({ name: 'packed-app', version: '0.1.0', private: true }, null, 2),
    );
    for (const [file, text] of Object.entries(APP_FILES)) {
      fs.mkdirSync(path.dirname(path.join(appDir, file)), { recursive: true });
      fs.writeFileSync(path.join(appDir, file), text);
    }
    await mustRun(
      'npm',
      ['install', ...NPM_FLAGS, tarball, pinned('aws-cdk-lib'), pinned('constructs')],
      appDir,
      300_000,
    );
    await mustRun('npm', ['install', ...NPM_FLAGS, 'zod'], appDir, 120_000);
    await mustRun(
      'npm',
      [
        'install',
        '--save-dev',
        ...NPM_FLAGS,
        pinned('esbuild'),
        pinned('cdk-nag'),
        pinned('typescript'),
        pinned('tsx'),
        pinned('@types/node'),
      ],
      appDir,
      300_000,
    );

    // 3. the app's own type check, bounded (it ran out of memory with two zod copies)
    const started = Date.now();
    tscResult = await run(
      process.execPath,
      [path.join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit'],
      appDir,
      // Generous for 2 busy cores (it takes 10-45 s here); with two zod copies it ran out of memory.
      420_000,
    );
    tscSeconds = Math.round((Date.now() - started) / 1000);
    console.log(`[packed-app] tsc --noEmit: exit ${tscResult.code} in ${tscSeconds} s`);
    cjsTscResult = await run(
      process.execPath,
      [path.join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'cjs'],
      appDir,
      420_000,
    );
    console.log(`[packed-app] tsc --noEmit -p cjs (classic CommonJS resolution): exit ${cjsTscResult.code}`);

    // 3b. cdk-nag runs on the user's app: a stack with an unacknowledged finding stops synthesis
    // (only that stack is selected, so nothing is bundled for it)
    nagProbe = await run(
      path.join(ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', 'NagProbe', '-c', 'nagProbe=true', '--quiet', '--output', path.join(appDir, 'cdk.out.probe')],
      appDir,
      300_000,
    );
    console.log(`[packed-app] cdk synth NagProbe: exit ${nagProbe.code}`);

    // 4. deploy with the shared LocalStack deploy helper
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: the LocalStack globalSetup must run first');
    const deployStarted = Date.now();
    await deployExampleStack({
      endpoint,
      stackName: STACK,
      stacks: [STACK, PRODUCER_STACK],
      appDir,
      log: (line) => console.log(`[packed-app deploy] ${line}`),
    });
    console.log(`[packed-app] deployed in ${Math.round((Date.now() - deployStarted) / 1000)} s`);
    client = await JobClient.fromStack(STACK, { registry: mirror });
    const producer = await cfn.send(new DescribeStacksCommand({ StackName: PRODUCER_STACK }));
    producerFunctionName =
      producer.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'ProducerFunctionName')?.OutputValue ?? '';
  });

  afterAll(async () => {
    if (KEEP || !appDir) return;
    fs.rmSync(appDir, { recursive: true, force: true });
    // Stop the app's pollers so they do not load the shared LocalStack after this file. The
    // producer stack imports the queue stack's exports, so it goes first.
    for (const stackName of [PRODUCER_STACK, STACK]) {
      await cfn.send(new DeleteStackCommand({ StackName: stackName })).catch(() => undefined);
      await waitFor(
        `stack ${stackName} to be deleted`,
        async () => {
          try {
            const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
            const status = out.Stacks?.[0]?.StackStatus;
            return status === undefined || status === 'DELETE_COMPLETE' ? true : undefined;
          } catch {
            return true; // gone
          }
        },
        { timeoutMs: 180_000, intervalMs: 1_000 },
      );
    }
  });

  it('installs one zod, the peer the app chose', () => {
    const appZod = JSON.parse(
      fs.readFileSync(path.join(appDir, 'node_modules', 'zod', 'package.json'), 'utf8'),
    );
    expect(appZod.version).toMatch(/^4\./);
    expect(fs.existsSync(path.join(appDir, 'node_modules', 'sqs-jobs', 'node_modules', 'zod'))).toBe(false);
    const packedManifest = JSON.parse(
      fs.readFileSync(path.join(appDir, 'node_modules', 'sqs-jobs', 'package.json'), 'utf8'),
    );
    expect(packedManifest.dependencies?.zod).toBeUndefined();
    expect(packedManifest.peerDependencies?.zod).toBeDefined();
    expect(fs.existsSync(path.join(appDir, 'node_modules', 'sqs-jobs', 'dist', 'lambdas', 'jobs.js'))).toBe(
      true,
    );
  });

  it("type-checks with the app's own tsc --noEmit (NodeNext)", () => {
    expect(tscResult.code, `tsc --noEmit (${tscSeconds} s):\n${tscResult.output}`).toBe(0);
  });

  it('type-checks the same app with classic CommonJS module resolution', () => {
    expect(cjsTscResult.code, `tsc --noEmit -p cjs:\n${cjsTscResult.output}`).toBe(0);
  });

  it("runs cdk-nag on the user's app: the library needs no acknowledgement from it, an unacknowledged finding fails", () => {
    // The queue and producer stacks synthesized under both packs (the deploy above), and the probe
    // stack's unencrypted queue stopped synthesis with the rule named.
    expect(nagProbe.code, nagProbe.output).not.toBe(0);
    expect(nagProbe.output).toMatch(/AwsSolutions-SQS(2|4)/);
    expect(nagProbe.output).not.toMatch(new RegExp(`${STACK}/Jobs`));
  });

  it('enqueues from a producer Lambda in a second stack that imports the queue with fromJobQueueAttributes', async () => {
    // Arrange
    expect(producerFunctionName, 'the producer stack outputs its function name').not.toBe('');

    // Act
    const out = await lambdaClient.send(
      new InvokeCommand({ FunctionName: producerFunctionName, Payload: JSON.stringify({ n: 42 }) }),
    );
    const response = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString() || '{}');

    // Assess
    expect(out.FunctionError, JSON.stringify(response)).toBeUndefined();
    expect(typeof response.jobId).toBe('string');
    const job = await waitFor(
      `job ${response.jobId} (enqueued by the producer stack) to finish`,
      async () => {
        const record = await client.getJob(response.jobId);
        return record?.status === 'SUCCEEDED' || record?.status === 'DEAD' ? record : undefined;
      },
      { timeoutMs: 240_000 },
    );
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts).toBe(2);
  });

  it('bundles one copy of the runtime into the consumer', () => {
    const assembly = path.join(ROOT, '.local', 'cdk.out', STACK);
    const template = JSON.parse(fs.readFileSync(path.join(assembly, `${STACK}.template.json`), 'utf8'));
    const assets = Object.values<{ Type: string; Metadata?: Record<string, string> }>(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
      .map((r) => path.join(assembly, r.Metadata?.['aws:asset:path'] ?? '', 'index.js'))
      .filter((file) => fs.existsSync(file));
    expect(assets.length).toBeGreaterThan(0);
    for (const file of assets) {
      const code = fs.readFileSync(file, 'utf8');
      // One class definition (the constructor names it) and one brand; the entry points' named
      // re-exports mention the name again as getters, which is not a second copy.
      expect(code.split('.name="PermanentJobError"').length - 1, file).toBe(1);
      expect(code.split('Symbol.for("sqs-jobs.error.permanent")').length - 1, file).toBe(1);
    }
  });

  it("dead-letters the user's PermanentJobError at once, with its type on the DLQ message", async () => {
    // Act
    const { jobId } = await client.enqueue('charge-card', { card: `4242-${Date.now()}` });

    // Assess
    const job = await waitFor(
      `job ${jobId} DEAD`,
      async () => {
        const record = await client.getJob(jobId);
        return record?.status === 'DEAD' || record?.status === 'SUCCEEDED' ? record : undefined;
      },
      { timeoutMs: 240_000 },
    );
    expect(job.status).toBe('DEAD');
    expect(job.attempts).toBe(1);
    const message = await waitFor(
      `job ${jobId} in the DLQ`,
      async () => {
        const messages = await peekMessages(sqs, client.config.lanes.default.dlqUrl);
        return messages.find((m) => envelopeId(m) === jobId);
      },
      { timeoutMs: 120_000 },
    );
    expect(message.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('PermanentJobError');
    expect(message.MessageAttributes?.[DLQ_ATTR.attempts]?.StringValue).toBe('1');
  });

  it("runs the user's concurrency-limited job type one at a time per tenant, each on its first attempt", async () => {
    // Act
    const tenant = `t-${Date.now()}`;
    const jobs = await Promise.all(
      [1, 2, 3].map(() => client.enqueue('tenant-sync', { tenant, sleepMs: 800 })),
    );

    // Assess
    const done = await Promise.all(
      jobs.map(({ jobId }) =>
        waitFor(
          `job ${jobId} to finish`,
          async () => {
            const record = await client.getJob(jobId);
            return record?.status === 'SUCCEEDED' || record?.status === 'DEAD' ? record : undefined;
          },
          { timeoutMs: 240_000 },
        ),
      ),
    );
    expect(done.map((d) => [d.status, d.attempts, d.tenant])).toEqual(
      done.map(() => ['SUCCEEDED', 1, tenant]),
    );
    const runs = done
      .map((d) => d.result as { startedAt: number; finishedAt: number })
      .sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < runs.length; i++)
      expect(runs[i].startedAt).toBeGreaterThanOrEqual(runs[i - 1].finishedAt);
  });

  it("cancels a running job of the user's app: its signal aborts within a heartbeat and it ends CANCELLED", async () => {
    // Arrange
    const { jobId } = await client.enqueue('tenant-sync', { tenant: `c-${Date.now()}`, sleepMs: 5000 });
    await waitFor(`job ${jobId} to run`, async () =>
      (await client.getJob(jobId))?.status === 'RUNNING' ? true : undefined,
    );

    // Act
    const asked = await client.cancel(jobId);

    // Assess
    expect(asked.outcome).toBe('cancelling');
    const job = await waitFor(`job ${jobId} to end`, async () => {
      const record = await client.getJob(jobId);
      return record?.status === 'RUNNING' ? undefined : record;
    });
    expect(job).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    expect(Date.parse(job.finishedAt ?? '') - Date.parse(job.startedAt ?? '')).toBeLessThan(5000);
  });

  it("completes a group of the app's jobs and runs its callback once, counted by the packed consumer", async () => {
    // Act
    const tenant = `group-${Date.now()}`;
    const group = await client.enqueueGroup(
      [1, 2].map(() => ({ type: 'tenant-sync' as const, payload: { tenant, sleepMs: 0 } })),
      { onComplete: { type: 'tenant-sync', payload: { tenant, sleepMs: 0 } } },
    );

    // Assess
    const done = await waitFor(
      `group ${group.groupId} COMPLETE`,
      async () => {
        const status = await client.getGroup(group.groupId);
        return status?.state === 'COMPLETE' ? status : undefined;
      },
      { timeoutMs: 240_000 },
    );
    expect(done).toMatchObject({ total: 2, succeeded: 2, pending: 0 });
    const callback = await waitFor(
      'the group callback SUCCEEDED',
      async () => {
        const record = await client.getJob(group.callbacks.onComplete as string);
        return record?.status === 'SUCCEEDED' ? record : undefined;
      },
      { timeoutMs: 240_000 },
    );
    expect(callback.attempts).toBe(1);
  });

  it("serves the console from the app's installed sqs-jobs bin: pages and their scripts, behind the token", async () => {
    // Act: `npx sqs-jobs console` as the user runs it, from the installed package.
    let child: ChildProcess | undefined;
    try {
      const { url } = await spawnConsole(
        path.join(appDir, 'node_modules', '.bin', 'sqs-jobs'),
        ['console', '--port', '0', '--stack', STACK, '--read-only'],
        { cwd: appDir, env: userEnv, started: (started) => (child = started) },
      );
      const overview = await fetch(url);
      const page = await overview.text();
      const base = new URL(url);
      const htmx = await fetch(`${base.origin}/assets/htmx.min.js${base.search}`);
      const uplot = await fetch(`${base.origin}/assets/uPlot.iife.min.js${base.search}`);
      const bare = await fetch(`${base.origin}/`);

      // Assess
      expect(overview.status, page).toBe(200);
      expect(page).toContain('data-lane="default"');
      expect(htmx.status).toBe(200);
      expect(await htmx.text()).toContain('htmx');
      expect(uplot.status).toBe(200);
      expect(bare.status).toBe(403);
    } finally {
      child?.kill('SIGINT');
    }
  });

  it('retries a job that fails once, and it succeeds on the second attempt', async () => {
    // Act
    const { jobId } = await client.enqueue('flaky-sync', { n: 7 });

    // Assess
    const job = await waitFor(
      `job ${jobId} to finish`,
      async () => {
        const record = await client.getJob(jobId);
        return record?.status === 'SUCCEEDED' || record?.status === 'DEAD' ? record : undefined;
      },
      { timeoutMs: 240_000 },
    );
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts).toBe(2);
  });
});
