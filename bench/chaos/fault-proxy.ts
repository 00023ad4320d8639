/**
 * A fault-injecting HTTP proxy for chaos runs.
 *
 * It sits between AWS SDK v3 clients (`endpoint: proxy.url`) and an upstream such as LocalStack,
 * forwards requests untouched and, for a configurable share of them, answers with the faults real
 * AWS produces: DynamoDB and SQS throttling, SQS 500s, slow responses and dropped connections,
 * including the nasty one where the upstream applied the write but the client never heard back.
 * Injected errors are encoded exactly as the services encode them, so the SDK classifies them as
 * throttling/transient and retries them the way it would in production.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seeded } from '../lib/stats';

export type FaultKind =
  | 'dynamodbThrottle'
  | 'sqsServerError'
  | 'sqsThrottle'
  | 'latency'
  | 'resetBeforeForward'
  | 'resetAfterForward';

/** Probability (0..1) per request of each fault. */
export interface FaultRates {
  dynamodbThrottle: number;
  sqsServerError: number;
  sqsThrottle: number;
  latency: number;
  resetBeforeForward: number;
  resetAfterForward: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  dynamodbThrottle: 0.05,
  sqsServerError: 0.02,
  sqsThrottle: 0.02,
  latency: 0.1,
  resetBeforeForward: 0.01,
  resetAfterForward: 0.01,
};

/** Every rate 0: a plain pass-through proxy. */
export const NO_FAULTS: Readonly<FaultRates> = {
  dynamodbThrottle: 0,
  sqsServerError: 0,
  sqsThrottle: 0,
  latency: 0,
  resetBeforeForward: 0,
  resetAfterForward: 0,
};

export type ProxiedService = 'dynamodb' | 'sqs' | 'scheduler' | 'other';

export interface FaultProxyOptions {
  /** Base URL of the upstream, e.g. http://127.0.0.1:4566. */
  upstream: string;
  /** Port on 127.0.0.1 to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Overrides of DEFAULT_FAULT_RATES. */
  rates?: Partial<FaultRates>;
  /** Range of the injected delay; default 20..250 ms. */
  latencyMs?: { min: number; max: number };
  /** Source of randomness, so a test can decide exactly which request is faulted. */
  random?: () => number;
  /**
   * Seeds one random stream per service and fault kind (ignored when `random` is given): the n-th
   * SQS request gets the same sqsThrottle draw whatever the interleaving with other services, so
   * a run of a given size meets the same number of each fault.
   */
  seed?: number;
  /** Services the reset and latency faults apply to; default all. */
  services?: ProxiedService[];
}

export interface FaultStats {
  requests: number;
  byService: Record<string, number>;
  injected: Record<FaultKind, number>;
  injectedByService: Record<string, Partial<Record<FaultKind, number>>>;
  /** Requests answered 502 because the upstream could not be reached. */
  upstreamErrors: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  stats(): FaultStats;
  setRates(rates: Partial<FaultRates>): void;
  close(): Promise<void>;
}

const FAULT_KINDS: readonly FaultKind[] = [
  'dynamodbThrottle',
  'sqsServerError',
  'sqsThrottle',
  'latency',
  'resetBeforeForward',
  'resetAfterForward',
];

const ALL_SERVICES: readonly ProxiedService[] = ['dynamodb', 'sqs', 'scheduler', 'other'];

function kebab(kind: FaultKind): string {
  return kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function checkRate(flag: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new RangeError(`--${flag} must be a number between 0 and 1 (got ${JSON.stringify(value)})`);
  }
  return n;
}

/**
 * Reads fault rates from parsed CLI flags. Keys may be the camelCase fault kind
 * (`dynamodbThrottle`) or its kebab-case flag (`dynamodb-throttle`); other keys are ignored so the
 * caller can pass its whole argument object.
 */
export function parseFaultRates(args: Record<string, string | undefined>): Partial<FaultRates> {
  const rates: Partial<FaultRates> = {};
  for (const kind of FAULT_KINDS) {
    for (const flag of [kind, kebab(kind)]) {
      const value = args[flag];
      if (value !== undefined) rates[kind] = checkRate(flag, value);
    }
  }
  return rates;
}

interface Target {
  service: ProxiedService;
  operation?: string;
  /** The request used the AWS query protocol (form body), so errors must be XML. */
  query: boolean;
}

/** The service named in a SigV4 credential scope: Credential=AK/date/region/<service>/aws4_request. */
function credentialScopeService(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/)?.[1];
}

function detectTarget(req: http.IncomingMessage, body: Buffer): Target {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [prefix, operation] = target.split('.', 2);
    if (prefix === 'DynamoDB_20120810') return { service: 'dynamodb', operation, query: false };
    // SDK v3 SQS speaks AWS JSON 1.0 with this target prefix.
    if (prefix === 'AmazonSQS') return { service: 'sqs', operation, query: false };
  }
  const scope = credentialScopeService(req.headers.authorization);
  const form = body.toString('utf8');
  const action = /(?:^|&)Action=([^&]+)/.exec(form)?.[1];
  // Older SDKs (and the CLI) send SQS as a form-encoded query to the queue URL.
  const sqsLikePath =
    /^\/\d{12}\/[^/?]+/.test(req.url ?? '') || /^(sqs|queue)\./.test(req.headers.host ?? '');
  if (action && (scope === 'sqs' || sqsLikePath)) return { service: 'sqs', operation: action, query: true };
  if (scope === 'dynamodb' || scope === 'sqs' || scope === 'scheduler') {
    return { service: scope, query: false };
  }
  return { service: 'other', query: false };
}

interface InjectedError {
  status: number;
  type: string;
  /** awsQueryCompatible services (SQS) read the error code from this header first. */
  queryError?: string;
  message: string;
}

function sendInjectedError(res: http.ServerResponse, target: Target, error: InjectedError): void {
  const requestId = randomUUID();
  const headers: http.OutgoingHttpHeaders = { 'x-amzn-requestid': requestId };
  if (error.queryError) headers['x-amzn-query-error'] = error.queryError;
  let body: string;
  if (target.query) {
    // The query protocol parses XML; Code is the short name, Type Sender/Receiver.
    const [code, type] = (error.queryError ?? '').split(';');
    headers['content-type'] = 'text/xml';
    body =
      `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${error.message}</Message>` +
      `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  } else {
    headers['content-type'] = 'application/x-amz-json-1.0';
    body = JSON.stringify({ __type: error.type, message: error.message });
  }
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(error.status, headers);
  res.end(body);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const random = options.random ?? Math.random;
  const latency = options.latencyMs ?? { min: 20, max: 250 };
  const faultedServices = new Set<string>(options.services ?? ALL_SERVICES);
  const rates: FaultRates = { ...DEFAULT_FAULT_RATES };
  const setRates = (next: Partial<FaultRates>): void => {
    for (const kind of FAULT_KINDS) {
      if (next[kind] !== undefined) rates[kind] = checkRate(kebab(kind), next[kind]);
    }
  };
  setRates(options.rates ?? {});

  // Our own agent, so close() can drop its pooled upstream sockets instead of waiting them out.
  const agent = new http.Agent({ keepAlive: true });
  const stats: FaultStats = {
    requests: 0,
    byService: {},
    injected: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    injectedByService: {},
    upstreamErrors: 0,
  };
  let ddbThrottles = 0;

  const count = (service: string, kind: FaultKind): void => {
    stats.injected[kind] += 1;
    const perService = stats.injectedByService[service] ?? {};
    perService[kind] = (perService[kind] ?? 0) + 1;
    stats.injectedByService[service] = perService;
  };
  // Draws are taken in a fixed order, one per applicable fault, so a seeded `random` picks
  // exactly which request gets which fault.
  const streams = new Map<string, () => number>();
  const stream = (service: string, kind: string): (() => number) => {
    if (options.random || options.seed === undefined) return random;
    const name = `${service}:${kind}`;
    let next = streams.get(name);
    if (!next) {
      next = seeded(hashSeed(options.seed, name));
      streams.set(name, next);
    }
    return next;
  };
  const draw = (service: string, kind: FaultKind): boolean => stream(service, kind)() < rates[kind];

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
    onResponse: (upRes: http.IncomingMessage) => void,
    onError: (err: Error) => void,
  ): void => {
    const headers = { ...req.headers };
    // The body is already read, so waiting for the upstream's 100 Continue would only stall.
    delete headers.expect;
    const upReq = http.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers, // Host and Authorization untouched: LocalStack routes on them.
      agent,
    });
    upReq.on('response', onResponse);
    upReq.on('error', onError);
    upReq.end(body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const target = detectTarget(req, body);
    const { service } = target;
    stats.requests += 1;
    stats.byService[service] = (stats.byService[service] ?? 0) + 1;

    // LocalStack's own endpoints (health, init hooks) are plumbing, not AWS calls.
    const path = req.url ?? '/';
    const faultable = !path.startsWith('/_localstack') && !path.startsWith('/_aws');
    const generic = faultable && faultedServices.has(service);

    if (generic && draw(service, 'resetBeforeForward')) {
      count(service, 'resetBeforeForward');
      req.socket.destroy();
      return;
    }
    if (faultable && service === 'dynamodb' && draw(service, 'dynamodbThrottle')) {
      count(service, 'dynamodbThrottle');
      // DynamoDB throttles with both codes (table/index vs. control plane or on-demand limits);
      // alternating exercises both paths in the SDK and the caller.
      const type =
        ddbThrottles++ % 2 === 0 ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
      sendInjectedError(res, target, {
        status: 400,
        type: `com.amazonaws.dynamodb.v20120810#${type}`,
        message: `Injected by fault-proxy: ${type} on ${target.operation}`,
      });
      return;
    }
    if (faultable && service === 'sqs') {
      if (draw(service, 'sqsServerError')) {
        count(service, 'sqsServerError');
        sendInjectedError(res, target, {
          status: 500,
          type: 'com.amazonaws.sqs#InternalError',
          queryError: 'InternalError;Receiver',
          message: `Injected by fault-proxy: InternalError on ${target.operation}`,
        });
        return;
      }
      if (draw(service, 'sqsThrottle')) {
        count(service, 'sqsThrottle');
        sendInjectedError(res, target, {
          status: 400,
          type: 'com.amazonaws.sqs#RequestThrottled',
          queryError: 'RequestThrottled;Sender',
          message: `Injected by fault-proxy: RequestThrottled on ${target.operation}`,
        });
        return;
      }
    }
    if (generic && draw(service, 'latency')) {
      count(service, 'latency');
      const ms = latency.min + stream(service, 'latencyMs')() * (latency.max - latency.min);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    const resetAfter = generic && draw(service, 'resetAfterForward');

    forward(
      req,
      body,
      (upRes) => {
        if (resetAfter) {
          // Let the upstream finish applying the request, then hang up on the client.
          upRes.resume();
          upRes.on('end', () => {
            count(service, 'resetAfterForward');
            req.socket.destroy();
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
      (err) => {
        stats.upstreamErrors += 1;
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const payload = JSON.stringify({
          message: `fault-proxy: upstream ${options.upstream}: ${err.message}`,
        });
        res.writeHead(502, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        });
        res.end(payload);
      },
    );
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => structuredClone(stats),
    setRates,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

/** A stream's seed from the run's seed and the stream's name (FNV-1a). */
function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
