/**
 * The library as a new user gets it: `npm pack` (prepack builds dist/), the tarball installed into
 * a fresh CDK app in a temporary folder with its own package.json, lock file and job registry
 * (importing `sqs-jobs/runtime/jobs`), zod from a plain `npm install zod` (the registry's newest
 * 4.x), type-checked with the app's own `tsc --noEmit`, deployed to LocalStack with cdklocal. A
 * PermanentJobError thrown by the user's handler must dead-letter at once, and a job that fails
 * once must succeed on its second attempt: the behaviour our own example stack has.
 *
 * KEEP_PACKED_APP=1 leaves the app folder and the stack in place for a look afterwards.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../lambdas/client';
import { defineJob, defineRegistry } from '../../lambdas/registry';
import { DLQ_ATTR } from '../../lambdas/shared/contract';
import { deployExampleStack } from '../../scripts/local/deploy';
import { ROOT } from '../../scripts/local/localstack';
import { envelopeId, peekMessages, waitFor } from './helpers';

const STACK = 'SqsJobsPackedApp';
const KEEP = process.env.KEEP_PACKED_APP === '1';
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The versions this repository builds with, so the app's CDK matches our CDK CLI (cdklocal). */
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const pinned = (name: string): string => `${name}@${rootPackage.devDependencies[name]}`;

/** The producer side, mirroring the app's registry (same types and schemas). */
const mirror = defineRegistry([
  defineJob({ type: 'charge-card', schema: z.object({ card: z.string() }), handler: async () => undefined }),
  defineJob({ type: 'flaky-sync', schema: z.object({ n: z.number() }), handler: async () => undefined }),
]);

const APP_FILES: Record<string, string> = {
  'cdk.json': JSON.stringify({ app: 'npx tsx bin/app.ts' }, null, 2),
  // What `cdk init app --language typescript` writes, minus the test runner.
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['es2022'],
        strict: true,
        noImplicitReturns: true,
        skipLibCheck: true,
        noEmit: true,
        isolatedModules: true,
        types: ['node'],
      },
      exclude: ['node_modules', 'cdk.out'],
    },
    null,
    2,
  ),
  'bin/app.ts': `import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { JobQueue } from 'sqs-jobs';

const app = new App();
const stack = new Stack(app, app.node.tryGetContext('stackName') ?? 'PackedApp', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
new JobQueue(stack, 'Jobs', {
  registryEntry: path.join(__dirname, '..', 'src', 'jobs.ts'),
  lanes: [{ name: 'default', maxAttempts: 3 }],
  consumerTimeout: Duration.seconds(10),
  backoff: { base: Duration.seconds(1), cap: Duration.seconds(10) },
  removalPolicy: RemovalPolicy.DESTROY,
  ledgerRemovalPolicy: RemovalPolicy.DESTROY,
});
`,
  'src/jobs.ts': `import { z } from 'zod';
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

export const registry = defineRegistry([chargeCard, flakySync]);
`,
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
  let client: JobClient<typeof mirror>;
  const sqs = new SQSClient({});
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

    // 4. deploy with the shared LocalStack deploy helper
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: the LocalStack globalSetup must run first');
    const deployStarted = Date.now();
    await deployExampleStack({
      endpoint,
      stackName: STACK,
      appDir,
      log: (line) => console.log(`[packed-app deploy] ${line}`),
    });
    console.log(`[packed-app] deployed in ${Math.round((Date.now() - deployStarted) / 1000)} s`);
    client = await JobClient.fromStack(STACK, { registry: mirror });
  });

  afterAll(async () => {
    if (KEEP || !appDir) return;
    fs.rmSync(appDir, { recursive: true, force: true });
    // Stop the app's pollers so they do not load the shared LocalStack after this file.
    await cfn.send(new DeleteStackCommand({ StackName: STACK })).catch(() => undefined);
    await waitFor(
      `stack ${STACK} to be deleted`,
      async () => {
        try {
          const out = await cfn.send(new DescribeStacksCommand({ StackName: STACK }));
          const status = out.Stacks?.[0]?.StackStatus;
          return status === undefined || status === 'DELETE_COMPLETE' ? true : undefined;
        } catch {
          return true; // gone
        }
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
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

  it("type-checks with the app's own tsc --noEmit", () => {
    expect(tscResult.code, `tsc --noEmit (${tscSeconds} s):\n${tscResult.output}`).toBe(0);
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
      expect(code.split('"PermanentJobError"').length - 1, file).toBe(1);
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
