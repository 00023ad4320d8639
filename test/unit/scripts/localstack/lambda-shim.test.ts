/**
 * The host-mode Lambda shim against a stand-in for LocalStack's executor endpoint. LocalStack
 * sends the next invoke as soon as it has a result, which can be before the shim's POST of that
 * result has resolved; the shim must take that invoke (never HTTP 409), or the event source
 * mapping loses a receive and the job an attempt without its handler running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SHIM = path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'localstack', 'lambda-shim.mjs');

interface Harness {
  readonly taskRoot: string;
  readonly results: Map<string, { kind: string; body: string }>;
  /** Result POSTs received per invocation id (retries included). */
  readonly resultPosts: Map<string, number>;
  readonly invokeStatuses: number[];
  readonly logs: string[];
  invoke(id: string, payload: unknown): Promise<number>;
  waitFor(predicate: () => boolean, what: string): Promise<void>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the shim on `handlerSource` with an endpoint that answers a result POST only after
 * `onResult` (which may send the next invoke first, as LocalStack can) has run.
 */
async function startShim(
  handlerSource: string,
  /** Runs before the endpoint answers a result POST; returns the status to answer (default 202). */
  onResult: (h: Harness, id: string) => Promise<number | undefined> = async () => undefined,
): Promise<Harness> {
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'shim-test-'));
  fs.writeFileSync(path.join(taskRoot, 'index.js'), handlerSource);
  const shimPort = await freePort();
  const results = new Map<string, { kind: string; body: string }>();
  const resultPosts = new Map<string, number>();
  const invokeStatuses: number[] = [];
  const logs: string[] = [];
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const harness: Harness = {
    taskRoot,
    results,
    resultPosts,
    invokeStatuses,
    logs,
    async invoke(id, payload) {
      const res = await fetch(`http://127.0.0.1:${shimPort}/invoke`, {
        method: 'POST',
        body: JSON.stringify({
          'invoke-id': id,
          'invoked-function-arn': 'arn:aws:lambda:us-east-1:000000000000:function:f',
          payload: JSON.stringify(payload),
          'trace-id': '',
        }),
      });
      invokeStatuses.push(res.status);
      return res.status;
    },
    async waitFor(predicate, what) {
      const until = Date.now() + 20_000;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; logs:\n${logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  const endpoint: Server = createServer(async (req, res) => {
    const text = await body(req);
    const url = req.url ?? '';
    if (url.endsWith('/ready')) ready();
    const m = /\/invocations\/([^/]+)\/(response|error)$/.exec(url);
    if (m) {
      resultPosts.set(m[1], (resultPosts.get(m[1]) ?? 0) + 1);
      results.set(m[1], { kind: m[2], body: text });
      res.writeHead((await onResult(harness, m[1])) ?? 202).end();
      return;
    }
    res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const { port } = endpoint.address() as AddressInfo;
  const child: ChildProcess = spawn(process.execPath, [SHIM], {
    cwd: taskRoot,
    env: {
      PATH: process.env.PATH,
      _HANDLER: 'index.handler',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '10',
      LOCALSTACK_RUNTIME_ENDPOINT: `http://127.0.0.1:${port}/_localstack_lambda/x`,
      LOCALSTACK_RUNTIME_ID: 'x',
      LAMBDA_HOST_SHIM_PORT: String(shimPort),
      LAMBDA_TASK_ROOT: taskRoot,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => logs.push(...d.toString('utf8').trimEnd().split('\n')));
  child.stderr?.on('data', (d: Buffer) => logs.push(...d.toString('utf8').trimEnd().split('\n')));
  cleanups.push(() => {
    child.kill('SIGKILL');
    endpoint.close();
    fs.rmSync(taskRoot, { recursive: true, force: true });
  });
  await Promise.race([
    readyPromise,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`shim not ready:\n${logs.join('\n')}`)), 20_000),
    ),
  ]);
  return harness;
}

describe('lambda-shim', () => {
  it('takes the next invoke that arrives before its result POST has resolved', async () => {
    // Prepare: the endpoint sends invoke n+1 before it answers the result POST of invoke n
    const count = 5;
    const shim = await startShim('exports.handler = async (event) => ({ echo: event.n });', async (h, id) => {
      const n = Number(id.slice(4));
      if (n + 1 < count) await h.invoke(`inv-${n + 1}`, { n: n + 1 });
      return undefined;
    });

    // Act
    await shim.invoke('inv-0', { n: 0 });
    await shim.waitFor(
      () => shim.results.size === count || shim.invokeStatuses.some((status) => status !== 202),
      `${count} results`,
    );

    // Assess
    expect(shim.invokeStatuses).toEqual(Array(count).fill(202));
    for (let n = 0; n < count; n++) {
      expect(shim.results.get(`inv-${n}`)).toEqual({ kind: 'response', body: JSON.stringify({ echo: n }) });
    }
  });

  it('queues an invoke that finds one running and runs it after the first, in order', async () => {
    // Prepare: a handler that holds until the test creates a flag file
    const shim = await startShim(
      [
        "const fs = require('node:fs');",
        'exports.handler = async (event) => {',
        '  while (event.holdFor && !fs.existsSync(event.holdFor)) await new Promise((r) => setTimeout(r, 5));',
        '  return { n: event.n, at: Date.now() };',
        '};',
      ].join('\n'),
    );
    const flag = path.join(shim.taskRoot, 'release');

    // Act: the second invoke arrives while the first is running
    expect(await shim.invoke('a', { n: 1, holdFor: flag })).toBe(202);
    await shim.waitFor(() => shim.logs.some((l) => l.startsWith('START RequestId: a')), 'a to start');
    expect(await shim.invoke('b', { n: 2 })).toBe(202);
    const bStartedEarly = shim.logs.some((l) => l.startsWith('START RequestId: b'));
    fs.writeFileSync(flag, '');
    await shim.waitFor(() => shim.results.size === 2, 'both results');

    // Assess: both ran, the queued one only after the first had finished
    expect(bStartedEarly).toBe(false);
    const a = JSON.parse(shim.results.get('a')?.body ?? '{}');
    const b = JSON.parse(shim.results.get('b')?.body ?? '{}');
    expect([a.n, b.n]).toEqual([1, 2]);
    expect(b.at).toBeGreaterThanOrEqual(a.at);
  });

  it('posts a result again when LocalStack answers it with a server error', async () => {
    // Prepare: the first result POST fails with 503
    const shim = await startShim('exports.handler = async () => ({ ok: true });', async (h, id) =>
      h.resultPosts.get(id) === 1 ? 503 : undefined,
    );

    // Act
    await shim.invoke('retry-me', {});
    await shim.waitFor(() => (shim.resultPosts.get('retry-me') ?? 0) >= 2, 'the result posted again');

    // Assess
    expect(shim.resultPosts.get('retry-me')).toBe(2);
    expect(shim.results.get('retry-me')).toEqual({ kind: 'response', body: '{"ok":true}' });
  });

  it('reports the init duration once, on the first invocation', async () => {
    // Prepare
    const shim = await startShim('exports.handler = async () => 1;');

    // Act
    await shim.invoke('first', {});
    await shim.invoke('second', {});
    await shim.waitFor(
      () => shim.logs.filter((l) => l.startsWith('REPORT')).length === 2,
      'two REPORT lines',
    );

    // Assess
    const reports = shim.logs.filter((l) => l.startsWith('REPORT'));
    expect(reports[0]).toMatch(/RequestId: first\tDuration: \d+ ms\tInit Duration: \d+ ms$/);
    expect(reports[1]).toMatch(/RequestId: second\tDuration: \d+ ms$/);
  });
});
