/**
 * vitest globalSetup for the `ledger` project: a real DynamoDB engine (DynamoDB Local, Java,
 * fetched from Maven Central by scripts/dynamodb-local.sh) on a free 127.0.0.1 port.
 *
 * How tests find it — read it in this order:
 *   1. `inject('dynamodbEndpoint')` from 'vitest'   (always set; the canonical way)
 *   2. `process.env.DYNAMODB_ENDPOINT`              (also set: vitest workers inherit the env
 *                                                    of the main process at spawn time, which
 *                                                    happens after globalSetup; verified with
 *                                                    vitest 4.1 forks and threads pools)
 * Region/credentials: DynamoDB Local runs with -sharedDb, so any region and any non-empty
 * credentials see the same tables; this setup also defaults AWS_REGION=us-east-1 and
 * test credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) if unset.
 *
 * Reuse: if DYNAMODB_ENDPOINT is already set and answers a ListTables, it is used as is and
 * nothing is started or stopped. Otherwise DynamoDB Local is installed if needed (first run
 * ~30-60 s with a cold Maven cache), started in memory, and stopped on teardown.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = resolve(ROOT, 'scripts', 'dynamodb-local.sh');

export async function dynamodbAnswers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'X-Amz-Target': 'DynamoDB_20120810.ListTables',
        'Content-Type': 'application/x-amz-json-1.0',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(2000),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

async function script(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, ...args], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    if (stderr) process.stderr.write(stderr);
    return stdout.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `scripts/dynamodb-local.sh ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`,
    );
  }
}

function setDefaults(): void {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  setDefaults();
  const existing = process.env.DYNAMODB_ENDPOINT;
  if (existing && (await dynamodbAnswers(existing))) {
    console.log(`[dynamodb-local] reusing DYNAMODB_ENDPOINT=${existing}`);
    project.provide('dynamodbEndpoint', existing);
    return async () => {};
  }
  if (existing)
    console.log(`[dynamodb-local] DYNAMODB_ENDPOINT=${existing} does not answer; starting our own`);

  await script('install');
  let port = 0;
  let endpoint = '';
  // a free port can be taken between probing and binding: retry a few times
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      const out = await script('start', String(port));
      endpoint = out.split('\n').pop() ?? `http://127.0.0.1:${port}`;
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      console.warn(`[dynamodb-local] start on port ${port} failed, retrying: ${(err as Error).message}`);
    }
  }
  process.env.DYNAMODB_ENDPOINT = endpoint;
  project.provide('dynamodbEndpoint', endpoint);
  return async () => {
    await script('stop', String(port));
    if (existing === undefined) delete process.env.DYNAMODB_ENDPOINT;
    else process.env.DYNAMODB_ENDPOINT = existing;
  };
}
