/** The chaos proxy against a tiny fake upstream, driven by real SDK v3 clients. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FaultProxy,
  type FaultRates,
  NO_FAULTS,
  parseFaultRates,
  startFaultProxy,
} from '../../../bench/chaos/fault-proxy';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

// A fake AWS: answers GetItem and ListQueues like the real services, anything else with an echo.
let seen: Seen[] = [];
let upstream: http.Server;
let upstreamUrl: string;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const target = req.headers['x-amz-target'];
      let payload: string;
      let contentType = 'application/x-amz-json-1.0';
      if (target === 'DynamoDB_20120810.GetItem') {
        payload = JSON.stringify({ Item: { id: { S: 'job-1' }, state: { S: 'done' } } });
      } else if (target === 'AmazonSQS.ListQueues') {
        payload = JSON.stringify({ QueueUrls: ['http://127.0.0.1/000000000000/high'] });
      } else {
        contentType = 'text/plain';
        payload = `echo ${req.method} ${req.url} ${body}`;
      }
      res.writeHead(201, {
        'content-type': contentType,
        'x-amzn-requestid': 'upstream-req-1',
        'x-fake': 'yes',
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

let proxy: FaultProxy | undefined;
const clients: { destroy(): void }[] = [];

beforeEach(() => {
  seen = [];
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await proxy?.close();
  proxy = undefined;
});

async function start(
  rates: Partial<FaultRates>,
  extra: { random?: () => number; services?: []; seed?: number } = {},
) {
  proxy = await startFaultProxy({
    upstream: upstreamUrl,
    rates: { ...NO_FAULTS, ...rates },
    latencyMs: { min: 1, max: 3 },
    ...extra,
  });
  return proxy;
}

const clientConfig = (p: FaultProxy, maxAttempts = 1) => ({
  endpoint: p.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  maxAttempts,
});

function dynamo(p: FaultProxy, maxAttempts = 1): DynamoDBClient {
  const c = new DynamoDBClient(clientConfig(p, maxAttempts));
  clients.push(c);
  return c;
}

function sqs(p: FaultProxy, maxAttempts = 1): SQSClient {
  const c = new SQSClient(clientConfig(p, maxAttempts));
  clients.push(c);
  return c;
}

const getItem = () => new GetItemCommand({ TableName: 'ledger', Key: { id: { S: 'job-1' } } });

/** What an SDK v3 call rejects with: a service exception, or a Node socket error with a code. */
type Failure = Error & {
  code?: string;
  cause?: Error;
  $metadata: { httpStatusCode?: number; requestId?: string };
};

async function caught(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (e) {
    return e as Failure;
  }
  throw new Error('expected the call to fail');
}

describe('fault proxy: pass-through', () => {
  it('forwards SDK calls with headers untouched and returns the upstream response unchanged', async () => {
    // Arrange
    const p = await start({});

    // Act
    const out = await dynamo(p).send(getItem());

    // Assess
    expect(out.Item).toEqual({ id: { S: 'job-1' }, state: { S: 'done' } });
    expect(out.$metadata.httpStatusCode).toBe(201);
    expect(out.$metadata.requestId).toBe('upstream-req-1');
    expect(seen).toHaveLength(1);
    expect(seen[0].headers.host).toBe(`127.0.0.1:${p.port}`);
    expect(seen[0].headers.authorization).toMatch(
      /Credential=AKIDTEST\/\d{8}\/us-east-1\/dynamodb\/aws4_request/,
    );
    expect(JSON.parse(seen[0].body)).toEqual({ TableName: 'ledger', Key: { id: { S: 'job-1' } } });
    expect(p.stats()).toMatchObject({ requests: 1, byService: { dynamodb: 1 }, injected: NO_FAULTS });
  });

  it('keeps method, path, query, body, status and headers byte for byte', async () => {
    // Arrange
    const p = await start({});

    // Act
    const res = await fetch(`${p.url}/some/path?a=1&b=two`, { method: 'PUT', body: 'hello' });

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.get('x-fake')).toBe('yes');
    expect(await res.text()).toBe('echo PUT /some/path?a=1&b=two hello');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/some/path?a=1&b=two', body: 'hello' });
    expect(p.stats().byService).toEqual({ other: 1 });
  });

  it('answers 502 when the upstream is unreachable', async () => {
    // Arrange: a port that was free a moment ago
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    proxy = await startFaultProxy({ upstream: `http://127.0.0.1:${deadPort}`, rates: NO_FAULTS });

    // Act
    const error = await caught(dynamo(proxy).send(getItem()));

    // Assess
    expect(error.$metadata.httpStatusCode).toBe(502);
    expect(isTransientError(error)).toBe(true);
    expect(proxy.stats().upstreamErrors).toBe(1);
  });
});

describe('fault proxy: injected service errors', () => {
  it('dynamodbThrottle: throttling errors the SDK classifies as throttling, upstream untouched', async () => {
    // Arrange
    const p = await start({ dynamodbThrottle: 1 });
    const client = dynamo(p);

    // Act: two calls, one of each DynamoDB throttling code
    const first = await caught(client.send(getItem()));
    const second = await caught(client.send(getItem()));

    // Assess
    expect([first.name, second.name]).toEqual([
      'ProvisionedThroughputExceededException',
      'ThrottlingException',
    ]);
    for (const error of [first, second]) {
      expect(isThrottlingError(error)).toBe(true);
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(seen).toHaveLength(0);
    const stats = p.stats();
    expect(stats.injected.dynamodbThrottle).toBe(2);
    expect(stats.injectedByService).toEqual({ dynamodb: { dynamodbThrottle: 2 } });
  });

  it('sqsServerError: a 500 InternalError the SDK treats as transient', async () => {
    // Arrange
    const p = await start({ sqsServerError: 1 });

    // Act
    const error = await caught(sqs(p).send(new ListQueuesCommand({})));

    // Assess
    expect(error.name).toBe('InternalError');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(isTransientError(error)).toBe(true);
    expect(seen).toHaveLength(0);
    expect(p.stats().injectedByService).toEqual({ sqs: { sqsServerError: 1 } });
  });

  it('sqsThrottle: RequestThrottled, classified as throttling', async () => {
    // Arrange
    const p = await start({ sqsThrottle: 1 });

    // Act
    const error = await caught(sqs(p).send(new ListQueuesCommand({})));

    // Assess
    expect(error.name).toBe('RequestThrottled');
    expect(isThrottlingError(error)).toBe(true);
    expect(seen).toHaveLength(0);
    expect(p.stats().injected.sqsThrottle).toBe(1);
  });

  it('service errors only hit their own service', async () => {
    // Arrange
    const p = await start({ dynamodbThrottle: 1 });

    // Act
    const out = await sqs(p).send(new ListQueuesCommand({}));

    // Assess
    expect(out.QueueUrls).toEqual(['http://127.0.0.1/000000000000/high']);
    expect(p.stats().byService).toEqual({ sqs: 1 });
  });
});

describe('fault proxy: connection faults and latency', () => {
  it('resetBeforeForward: the SDK sees a network error and the upstream never sees the request', async () => {
    // Arrange
    const p = await start({ resetBeforeForward: 1 });

    // Act
    const error = await caught(dynamo(p).send(getItem()));

    // Assess
    expect(error.code).toBe('ECONNRESET');
    expect(error.$metadata.httpStatusCode).toBeUndefined();
    expect(isTransientError(error)).toBe(true);
    expect(seen).toHaveLength(0);
    expect(p.stats().injected.resetBeforeForward).toBe(1);
  });

  it('resetAfterForward: the upstream applies the request but the SDK sees a network error', async () => {
    // Arrange
    const p = await start({ resetAfterForward: 1 });

    // Act
    const error = await caught(sqs(p).send(new ListQueuesCommand({})));

    // Assess
    expect(error.code).toBe('ECONNRESET');
    expect(error.$metadata.httpStatusCode).toBeUndefined();
    expect(isTransientError(error)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0].headers['x-amz-target']).toBe('AmazonSQS.ListQueues');
    expect(p.stats().injectedByService).toEqual({ sqs: { resetAfterForward: 1 } });
  });

  it('latency: the call is delayed but succeeds', async () => {
    // Arrange
    const p = await start({ latency: 1 });

    // Act
    const out = await dynamo(p).send(getItem());

    // Assess
    expect(out.Item?.id).toEqual({ S: 'job-1' });
    expect(p.stats().injected.latency).toBe(1);
  });

  it('reset and latency faults spare services not listed and LocalStack internals', async () => {
    // Arrange
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      rates: { ...NO_FAULTS, resetBeforeForward: 1, latency: 1 },
      services: ['dynamodb'],
    });
    const scheduler = 'AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/scheduler/aws4_request, Signature=x';

    // Act
    const schedulerRes = await fetch(`${proxy.url}/schedules/s1`, { headers: { authorization: scheduler } });
    const health = await fetch(`${proxy.url}/_localstack/health`);
    const ddbError = await caught(dynamo(proxy).send(getItem()));

    // Assess
    expect(schedulerRes.status).toBe(201);
    expect(health.status).toBe(201);
    expect(isTransientError(ddbError)).toBe(true);
    const stats = proxy.stats();
    expect(stats.byService).toEqual({ scheduler: 1, other: 1, dynamodb: 1 });
    expect(stats.injectedByService).toEqual({ dynamodb: { resetBeforeForward: 1 } });
  });

  it('detects form-encoded (query protocol) SQS calls and answers them in XML', async () => {
    // Arrange
    const p = await start({ sqsThrottle: 1 });
    const auth = 'AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/sqs/aws4_request, Signature=x';

    // Act
    const res = await fetch(`${p.url}/000000000000/high`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=SendMessage&MessageBody=hi&Version=2012-11-05',
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-query-error')).toBe('RequestThrottled;Sender');
    expect(await res.text()).toContain('<Code>RequestThrottled</Code>');
    expect(p.stats().byService).toEqual({ sqs: 1 });
  });
});

describe('fault proxy: retries and control', () => {
  it('a fault on the first attempt only is absorbed by the SDK retry', async () => {
    // Arrange: draws per DynamoDB request are resetBeforeForward, dynamodbThrottle, latency,
    // resetAfterForward; 0 makes the first request's throttle draw fire, 0.99 nothing after.
    let draws = 0;
    const p = await start({ dynamodbThrottle: 0.5 }, { random: () => (draws++ < 2 ? 0 : 0.99) });

    // Act
    const out = await dynamo(p, 3).send(getItem());

    // Assess
    expect(out.Item?.id).toEqual({ S: 'job-1' });
    expect(out.$metadata.attempts).toBe(2);
    expect(seen).toHaveLength(1);
    expect(p.stats()).toMatchObject({ requests: 2, injected: { dynamodbThrottle: 1 } });
  });

  it('setRates turns faults on and off for later requests', async () => {
    // Arrange
    const p = await start({});
    const client = dynamo(p);
    await client.send(getItem());

    // Act
    p.setRates({ dynamodbThrottle: 1 });
    const error = await caught(client.send(getItem()));
    p.setRates({ dynamodbThrottle: 0 });
    await client.send(getItem());

    // Assess
    expect(isThrottlingError(error)).toBe(true);
    expect(p.stats()).toMatchObject({ requests: 3, injected: { dynamodbThrottle: 1 } });
    expect(() => p.setRates({ latency: 2 })).toThrow(/--latency must be a number between 0 and 1 \(got 2\)/);
  });
});

describe('fault proxy: seeded streams', () => {
  /** Which of 40 SQS calls failed, with `dynamoBetween` DynamoDB calls before each. */
  async function sqsFailures(seed: number, dynamoBetween: number): Promise<number[]> {
    const p = await start({ sqsServerError: 0.2, sqsThrottle: 0.2, dynamodbThrottle: 0.5 }, { seed });
    const queue = sqs(p);
    const table = dynamo(p);
    const failed: number[] = [];
    for (let i = 0; i < 40; i++) {
      for (let d = 0; d < dynamoBetween; d++) await table.send(getItem()).catch(() => undefined);
      const ok = await queue.send(new ListQueuesCommand({})).then(
        () => true,
        () => false,
      );
      if (!ok) failed.push(i);
    }
    await p.close();
    proxy = undefined;
    return failed;
  }

  it('gives the n-th request of a service the same draws whatever other services do in between', async () => {
    // Act
    const alone = await sqsFailures(11, 0);
    const interleaved = await sqsFailures(11, 3);
    const otherSeed = await sqsFailures(12, 0);

    // Assess: about a third of 40 fail, the same ones with or without DynamoDB traffic
    expect(alone.length).toBeGreaterThan(0);
    expect(interleaved).toEqual(alone);
    expect(otherSeed).not.toEqual(alone);
  });
});

describe('parseFaultRates', () => {
  it('reads camelCase and kebab-case flags and ignores unrelated ones', () => {
    expect(
      parseFaultRates({
        'dynamodb-throttle': '0.2',
        sqsThrottle: '0',
        latency: '1',
        jobs: '500',
        other: undefined,
      }),
    ).toEqual({ dynamodbThrottle: 0.2, sqsThrottle: 0, latency: 1 });
  });

  it.each([
    ['dynamodb-throttle', '1.5'],
    ['latency', '-0.1'],
    ['reset-after-forward', 'abc'],
    ['sqsServerError', ''],
  ])('rejects --%s %j, naming the flag, the range and the value', (flag, value) => {
    expect(() => parseFaultRates({ [flag]: value })).toThrow(
      `--${flag} must be a number between 0 and 1 (got ${JSON.stringify(value)})`,
    );
  });
});
