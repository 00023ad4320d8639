/**
 * Part 3: end to end on LocalStack, against what a user would otherwise build. One CDK app
 * (bench/handwired, deployed with cdklocal) holds three things side by side, with the same memory,
 * timeout, batch size, maximum concurrency, redrive and no-op job:
 *
 * - `ours`: our JobQueue's lane (SQS event source → our consumer → ledger claim + completion →
 *   delete).
 * - `handWired`: the consumer a careful CDK user wires by hand: SQS + DLQ, a NodejsFunction with an
 *   SqsEventSource reporting batch item failures, Powertools batch + idempotency on DynamoDB.
 * - `floor`: no Lambda at all. As many workers in this process as the functions' maximum
 *   concurrency receive 10 messages at a time from our lane queue (the next receive already in
 *   flight while a batch runs), make the same two ledger writes our consumer makes per job (the
 *   Ledger class's claim and complete, jobs of a batch at once), and delete the batch. What the
 *   event source, the Lambda invoke and the consumer runtime add is what ours spends above it.
 *
 * Throughput: rounds of `jobs` jobs per path, in rotating order. While one path drains, every
 * event source mapping but its own is disabled: disable → send → enable (or start the workers) →
 * clock until its queue is empty, then every job is checked finished (ours and the floor:
 * SUCCEEDED in the ledger; hand-wired: a COMPLETED Powertools idempotency record). The consumer
 * processes' CPU (utime + stime from /proc, the host executor runs each execution environment as a
 * process: scripts/localstack/executor) is read before and after the drain.
 *
 * A round is tainted, reported with its reasons, repeated (up to 3 tries) and never counted when:
 * the LocalStack log shows an executor failure during it (a timed-out or crashed invocation, an
 * invoke not taken, a 5xx), a job ran more than once (ledger attempts > 1), a DLQ got a message,
 * a consumer process exited or a new one started (its CPU would be lost or include an init), or a
 * job was not verified finished.
 *
 * Latency: per path, jobs sent at a fixed rate with the path running; enqueue (the send call) to
 * finish (the `doneAt` the no-op job returns, kept in the ledger's result or the idempotency
 * record), p50 and p99.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  type AttributeValue,
  BatchGetItemCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { JobClient } from '../lambdas/client';
import { Ledger } from '../lambdas/ledger/ledger';
import { readEnvelope } from '../lambdas/shared/envelope';
import { SDK_CLIENT_DEFAULTS } from '../lambdas/shared/sdk-clients';
import { NOOP_TYPE, type NoopResult, noopJob, noopSchema } from './handwired/jobs';
import { benchRegistry } from './handwired/registry';
import { E2E_SETTINGS, HANDWIRED_OUTPUTS } from './handwired/settings';
import { median, percentile, round } from './lib/stats';

export const PATHS = ['ours', 'handWired', 'floor'] as const;
export type PathName = (typeof PATHS)[number];

/** One timed drain of one path. */
export interface PathRound {
  readonly path: PathName;
  /** Round number, from 1. */
  readonly round: number;
  /** Try of this round, from 1 (a tainted round is tried again). */
  readonly attempt: number;
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
  /**
   * CPU ms per job of the path's consumer processes (ours, handWired) or of this process's
   * workers (floor) during the drain; null when it could not be read.
   */
  readonly cpuMsPerJob: number | null;
  /**
   * CPU ms per job of LocalStack itself (its process and helpers such as DynamoDB Local, not the
   * function processes) during the drain; null when it could not be read.
   */
  readonly emulatorCpuMsPerJob?: number | null;
  /** Consumer processes that served the round (ours, handWired). */
  readonly processes?: number;
  /** Why the round does not count; empty when it counts. */
  readonly taint: readonly string[];
}

export interface LatencyFigures {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

export interface PathSummary {
  /** Median jobs/s of the clean rounds; null when none was clean. */
  readonly jobsPerSecond: number | null;
  /** Median CPU ms per job of the clean rounds. */
  readonly cpuMsPerJob: number | null;
  /** Median CPU ms per job LocalStack spent in the clean rounds. */
  readonly emulatorCpuMsPerJob: number | null;
  readonly cleanRounds: number;
  readonly taintedRounds: number;
}

export interface E2eRatios {
  /** ours / handWired jobs/s. */
  readonly throughputVsHandWired: number | null;
  /** ours / handWired CPU ms per job. */
  readonly cpuPerJobVsHandWired: number | null;
  /** ours / floor jobs/s. */
  readonly throughputVsFloor: number | null;
}

export interface E2eSummary {
  readonly paths: Record<PathName, PathSummary>;
  readonly ratios: E2eRatios;
}

export interface E2eResult extends Partial<E2eSummary> {
  readonly measured: boolean;
  readonly reason?: string;
  readonly endpoint?: string;
  readonly stackName?: string;
  readonly lane?: string;
  readonly jobs?: number;
  readonly rounds?: number;
  /** Maximum concurrency of both functions, and the floor's worker count. */
  readonly concurrency?: number;
  readonly perRound?: readonly PathRound[];
  /** Enqueue-to-finish latency per path at `latencyRate` jobs/s. */
  readonly latencyMs?: Partial<Record<PathName, LatencyFigures>>;
  readonly latencyRate?: number;
  readonly deploySeconds?: number;
  /** Wall time of the whole part (deploy included). */
  readonly partSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Pure: taint and summary (unit-tested in test/unit/bench/e2e.test.ts)

/** What was observed around one timed drain. */
export interface RoundObservation {
  readonly jobs: number;
  /** Jobs verified finished (SUCCEEDED in the ledger / COMPLETED idempotency record). */
  readonly finished: number;
  readonly drained: boolean;
  readonly drainTimeoutSeconds?: number;
  /** Longest stretch the queue's depth stood still above zero during the drain, seconds. */
  readonly stillSeconds?: number;
  /** Jobs whose ledger item counts more than one attempt (ours and the floor). */
  readonly retried?: number;
  readonly dlqMessages: number;
  /** Lines of the LocalStack log written during the round that mark an executor failure. */
  readonly executorFailures: readonly string[];
  /** Consumer processes alive at the start but gone at the end. */
  readonly exitedProcesses?: number;
  /** Consumer processes that appeared during the round. */
  readonly newProcesses?: number;
}

/** A drain whose queue depth stands still longer than this has a stalled batch. */
export const STALL_SECONDS = 5;

/** Why a round does not count (empty: it counts). */
export function taintReasons(o: RoundObservation): string[] {
  const reasons: string[] = [];
  if (!o.drained) {
    reasons.push(`the queue did not drain${o.drainTimeoutSeconds ? ` in ${o.drainTimeoutSeconds} s` : ''}`);
  }
  if ((o.stillSeconds ?? 0) > STALL_SECONDS) {
    reasons.push(
      `the queue depth stood still for ${Math.round(o.stillSeconds ?? 0)} s (messages received but not run: a batch waited out its visibility timeout)`,
    );
  }
  if (o.finished < o.jobs) reasons.push(`only ${o.finished}/${o.jobs} jobs verified finished`);
  if ((o.retried ?? 0) > 0) reasons.push(`${o.retried} job(s) ran more than once (ledger attempts > 1)`);
  if (o.dlqMessages > 0) reasons.push(`${o.dlqMessages} message(s) in the DLQ`);
  if (o.executorFailures.length > 0) {
    const first = o.executorFailures[0].replace(/\s+/g, ' ').slice(0, 200);
    reasons.push(
      `${o.executorFailures.length} executor failure line(s) in the LocalStack log, first: ${first}`,
    );
  }
  if ((o.exitedProcesses ?? 0) > 0) {
    reasons.push(`${o.exitedProcesses} consumer process(es) exited during the round (their CPU is lost)`);
  }
  if ((o.newProcesses ?? 0) > 0) {
    reasons.push(
      `${o.newProcesses} consumer process(es) started during the round (a cold init in the figures)`,
    );
  }
  return reasons;
}

/**
 * Lines of LocalStack's log that mark a failed or disturbed invocation: the host executor's
 * timeouts, process exits, respawns and invokes it could not hand over, Lambda runtime errors,
 * 5xx answers, and WARN/ERROR lines.
 */
export function executorFailureLines(logText: string): string[] {
  return logText
    .split('\n')
    .filter((line) => FAILURE_MARKER.test(line) && !BENIGN_WARNINGS.some((benign) => benign.test(line)));
}

const FAILURE_MARKER =
  /host-node: .*(timed out|exited|not taken|no answer|fresh process|did not finish)|Sandbox\.Timedout|Runtime\.ExitError|lambda-shim: |=> 5\d\d\b|\b(WARN|WARNING|ERROR)\b/;

/** Warnings LocalStack logs for what the bench itself does (toggling event source mappings). */
const BENIGN_WARNINGS = [
  /Updating Lambda Event Source Mapping is in experimental state/,
  /Invalid state Disabled for event source mapping/,
];

const medianOrNull = (xs: readonly number[]): number | null => (xs.length > 0 ? median(xs) : null);
const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : round(a / b, 3);

/** Median jobs/s and CPU ms per job of each path's clean rounds, and the ratios of ours to the others. */
export function summarize(rounds: readonly PathRound[]): E2eSummary {
  const paths = Object.fromEntries(
    PATHS.map((name) => {
      const mine = rounds.filter((r) => r.path === name);
      const clean = mine.filter((r) => r.taint.length === 0);
      const cpu = clean.flatMap((r) => (r.cpuMsPerJob === null ? [] : [r.cpuMsPerJob]));
      const emulator = clean.flatMap((r) =>
        r.emulatorCpuMsPerJob === null || r.emulatorCpuMsPerJob === undefined ? [] : [r.emulatorCpuMsPerJob],
      );
      const jobsPerSecond = medianOrNull(clean.map((r) => r.jobsPerSecond));
      const cpuMsPerJob = medianOrNull(cpu);
      const emulatorCpuMsPerJob = medianOrNull(emulator);
      return [
        name,
        {
          jobsPerSecond: jobsPerSecond === null ? null : round(jobsPerSecond, 1),
          cpuMsPerJob: cpuMsPerJob === null ? null : round(cpuMsPerJob, 2),
          emulatorCpuMsPerJob: emulatorCpuMsPerJob === null ? null : round(emulatorCpuMsPerJob, 2),
          cleanRounds: clean.length,
          taintedRounds: mine.length - clean.length,
        },
      ];
    }),
  ) as Record<PathName, PathSummary>;
  return {
    paths,
    ratios: {
      throughputVsHandWired: ratio(paths.ours.jobsPerSecond, paths.handWired.jobsPerSecond),
      cpuPerJobVsHandWired: ratio(paths.ours.cpuMsPerJob, paths.handWired.cpuMsPerJob),
      throughputVsFloor: ratio(paths.ours.jobsPerSecond, paths.floor.jobsPerSecond),
    },
  };
}

/** The order of the paths in round `r` (from 0): rotated by one each round. */
export function roundOrder(r: number): PathName[] {
  return PATHS.map((_, i) => PATHS[(i + r) % PATHS.length]);
}

/** p50/p99 of enqueue-to-finish latencies in ms. */
export function latencyFigures(samples: readonly number[]): LatencyFigures | undefined {
  if (samples.length === 0) return undefined;
  return {
    p50: Math.round(percentile(samples, 50)),
    p99: Math.round(percentile(samples, 99)),
    samples: samples.length,
  };
}

// ---------------------------------------------------------------------------------------------
// The run

export interface E2eOptions {
  readonly jobs: number;
  readonly rounds: number;
  readonly deployTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** Tries per round before it is reported tainted for good. @default 3 */
  readonly maxTries?: number;
  /**
   * Send rate of the latency phase, jobs/s: below what every path drains here (about 35-50 jobs/s
   * on two cores), so the figure is the path's latency, not a growing backlog. @default 20
   */
  readonly latencyRate?: number;
  /** Jobs per path in the latency phase. @default min(jobs, 200) */
  readonly latencyJobs?: number;
  readonly progress?: (line: string) => void;
}

type Log = (line: string) => void;

/** The scripts/local helpers, loaded when the part runs (a missing one makes the part unmeasured). */
interface LocalHelpers {
  readonly localstack: typeof import('../scripts/local/localstack');
  readonly deploy: typeof import('../scripts/local/deploy');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line saying why: for a failed deploy, the resource CloudFormation says failed. */
function explain(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  const failed = message
    .split('\n')
    .filter((line) => /_FAILED/.test(line) && !/AWS::CloudFormation::Stack/.test(line))
    .pop();
  if (failed) {
    const resource = failed.split('|').slice(4).join('|').replace(/\s+/g, ' ').trim();
    return `the comparison stack did not deploy on LocalStack (cdklocal, bench/handwired): ${resource}`.slice(
      0,
      400,
    );
  }
  return message.split('\n')[0].slice(0, 400);
}

export async function measureE2e(options: E2eOptions): Promise<E2eResult> {
  const started = performance.now();
  const log = options.progress ?? (() => undefined);
  const helpers = await loadHelpers();
  if (typeof helpers === 'string') return { measured: false, reason: helpers };
  let lease: Awaited<ReturnType<LocalHelpers['localstack']['useLocalstack']>>;
  try {
    log('LocalStack: up.sh (reuses one that answers) ...');
    lease = await withTimeout(helpers.localstack.useLocalstack(), 300_000, 'LocalStack start');
  } catch (error) {
    return {
      measured: false,
      reason: `LocalStack did not start: ${(error as Error).message.split('\n')[0]}`,
    };
  }
  const endpoint = lease.endpoint;
  const stackName = process.env.BENCH_STACK ?? 'SqsJobsBenchE2e';
  try {
    log(`deploying bench/handwired as ${stackName} with cdklocal (ours and hand-wired side by side) ...`);
    const t0 = performance.now();
    await withTimeout(
      helpers.deploy.deployExampleStack({
        endpoint,
        stackName,
        appDir: path.join(__dirname, 'handwired'),
        log: (line) => {
          if (/deployed|bootstrapping|error|fail/i.test(line)) log(`deploy: ${line.trim()}`);
        },
      }),
      options.deployTimeoutMs,
      'deploy',
    );
    const deploySeconds = round((performance.now() - t0) / 1000, 1);
    log(`deployed in ${deploySeconds} s`);
    const rig = await makeRig(helpers, endpoint, stackName, options.drainTimeoutMs);
    await warmUp(rig, log);
    const perRound = await measureRounds(rig, options, log);
    const latencyRate = options.latencyRate ?? 20;
    const latencyMs = await measureLatency(
      rig,
      options.latencyJobs ?? Math.min(options.jobs, 200),
      latencyRate,
      log,
    );
    await setMappings(rig, { ours: true, handWired: true });
    return {
      measured: true,
      endpoint,
      stackName,
      lane: E2E_SETTINGS.lane,
      jobs: options.jobs,
      rounds: options.rounds,
      concurrency: E2E_SETTINGS.maxConcurrency,
      ...summarize(perRound),
      perRound,
      latencyMs,
      latencyRate,
      deploySeconds,
      partSeconds: round((performance.now() - started) / 1000, 1),
    };
  } catch (error) {
    return { measured: false, endpoint, stackName, reason: explain(error) };
  } finally {
    await lease.release().catch(() => undefined);
  }
}

async function loadHelpers(): Promise<LocalHelpers | string> {
  try {
    return {
      localstack: await import('../scripts/local/localstack'),
      deploy: await import('../scripts/local/deploy'),
    };
  } catch (error) {
    return `LocalStack helpers not available (${(error as Error).message})`;
  }
}

/** One Lambda-driven path: its queue, DLQ, function and event source mapping. */
interface FunctionPath {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly functionName: string;
  readonly mappingUuid: string;
}

interface Rig {
  readonly ours: FunctionPath;
  readonly handWired: FunctionPath;
  readonly ledgerTable: string;
  readonly idempotencyTable: string;
  readonly client: JobClient<typeof benchRegistry>;
  readonly ledger: Ledger;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly ddb: DynamoDBClient;
  readonly drainTimeoutMs: number;
  readonly logFile: string;
  /** LocalStack's process, when this machine runs it (host mode). */
  readonly localstackPid?: number;
}

async function makeRig(
  helpers: LocalHelpers,
  endpoint: string,
  stackName: string,
  drainTimeoutMs: number,
): Promise<Rig> {
  const stack = await helpers.deploy.describeStack(endpoint, stackName);
  const output = (key: string) => {
    const value = stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack ${stackName} has no output ${key}`);
    return value;
  };
  const client = await JobClient.fromStack(stackName, { registry: benchRegistry });
  const lane = client.config.lanes[E2E_SETTINGS.lane];
  const lambda = new LambdaClient({});
  const mappingOf = async (functionName: string) => {
    const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));
    const uuid = out.EventSourceMappings?.[0]?.UUID;
    if (!uuid) throw new Error(`no event source mapping for ${functionName}`);
    return uuid;
  };
  const handWiredFunction = output(HANDWIRED_OUTPUTS.functionName);
  // The floor's ledger writes and receives use the runtime's client settings, as our consumer does.
  const ddb = new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS });
  return {
    ours: {
      queueUrl: lane.queueUrl,
      dlqUrl: lane.dlqUrl,
      functionName: lane.functionName,
      mappingUuid: await mappingOf(lane.functionName),
    },
    handWired: {
      queueUrl: output(HANDWIRED_OUTPUTS.queueUrl),
      dlqUrl: output(HANDWIRED_OUTPUTS.dlqUrl),
      functionName: handWiredFunction,
      mappingUuid: await mappingOf(handWiredFunction),
    },
    ledgerTable: client.config.tableName,
    idempotencyTable: output(HANDWIRED_OUTPUTS.idempotencyTable),
    client,
    ledger: new Ledger({ client: ddb, tableName: client.config.tableName, ttlSeconds: 86_400 }),
    sqs: new SQSClient({ ...SDK_CLIENT_DEFAULTS }),
    lambda,
    ddb,
    drainTimeoutMs,
    logFile: localstackLogFile(helpers),
    localstackPid: helpers.localstack.readLocalstackState()?.pid,
  };
}

function localstackLogFile(helpers: LocalHelpers): string {
  return path.join(helpers.localstack.LOCALSTACK_DIR, 'localstack.log');
}

// --- mappings, queues --------------------------------------------------------------------------

async function setMapping(rig: Rig, fn: FunctionPath, enabled: boolean): Promise<void> {
  const want = enabled ? 'Enabled' : 'Disabled';
  const now = await rig.lambda.send(new GetEventSourceMappingCommand({ UUID: fn.mappingUuid }));
  if (now.State === want) return;
  await rig.lambda.send(new UpdateEventSourceMappingCommand({ UUID: fn.mappingUuid, Enabled: enabled }));
  for (let i = 0; i < 150; i++) {
    const m = await rig.lambda.send(new GetEventSourceMappingCommand({ UUID: fn.mappingUuid }));
    if (m.State === want) return;
    await sleep(100);
  }
  throw new Error(`event source mapping ${fn.mappingUuid} did not become ${want}`);
}

async function setMappings(rig: Rig, state: { ours: boolean; handWired: boolean }): Promise<void> {
  await Promise.all([setMapping(rig, rig.ours, state.ours), setMapping(rig, rig.handWired, state.handWired)]);
}

/** Messages on a queue, visible or in flight. */
async function depth(rig: Rig, queueUrl: string): Promise<number> {
  const a = await rig.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Polls until the queue is empty; false when the drain timeout passed first. */
async function waitDrained(rig: Rig, queueUrl: string, timeoutMs = rig.drainTimeoutMs): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await depth(rig, queueUrl)) > 0) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

interface Drain {
  readonly drained: boolean;
  readonly seconds: number;
  /** Longest time the queue's depth stood still above zero (a batch waiting out its visibility timeout). */
  readonly longestStillMs: number;
}

/** Times a drain from now until the queue is empty, watching for a depth that stands still. */
async function timeDrain(rig: Rig, queueUrl: string): Promise<Drain> {
  const t0 = performance.now();
  const deadline = Date.now() + rig.drainTimeoutMs;
  let last = -1;
  let lastChange = t0;
  let longestStillMs = 0;
  for (;;) {
    const d = await depth(rig, queueUrl);
    const now = performance.now();
    if (d !== last) {
      last = d;
      lastChange = now;
    } else {
      longestStillMs = Math.max(longestStillMs, now - lastChange);
    }
    if (d === 0) return { drained: true, seconds: (now - t0) / 1000, longestStillMs };
    if (Date.now() > deadline) return { drained: false, seconds: (now - t0) / 1000, longestStillMs };
    await sleep(50);
  }
}

async function purge(rig: Rig, queueUrl: string): Promise<void> {
  await rig.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
}

// --- sending -----------------------------------------------------------------------------------

/** Our jobs through the JobClient; returns their ids. */
async function enqueueOurs(rig: Rig, run: string, from: number, n: number): Promise<string[]> {
  const items = Array.from({ length: n }, (_, i) => ({
    type: NOOP_TYPE,
    payload: { run, n: from + i },
  }));
  const results = await rig.client.enqueueBatch(items);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`${failed.length} enqueues failed`);
  return results.map((r) => r.jobId as string);
}

/** Hand-wired jobs: `{ id, payload }` bodies, 10 per SendMessageBatch, as its producer would send. */
async function enqueueHandWired(rig: Rig, run: string, from: number, n: number): Promise<void> {
  const batches: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({
      Id: String(k),
      MessageBody: JSON.stringify({ id: randomUUID(), payload: { run, n: from + i + k } }),
    }));
    batches.push(
      rig.sqs
        .send(new SendMessageBatchCommand({ QueueUrl: rig.handWired.queueUrl, Entries: entries }))
        .then((out) => {
          if ((out.Failed ?? []).length > 0) throw new Error(`${out.Failed?.length} hand-wired sends failed`);
        }),
    );
    if (batches.length >= 8) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
}

// --- verifying ---------------------------------------------------------------------------------

interface LedgerCheck {
  readonly succeeded: number;
  readonly retried: number;
  /** `doneAt` of each SUCCEEDED job's result, by its payload number. */
  readonly doneAt: Map<number, number>;
}

async function checkLedger(rig: Rig, ids: readonly string[]): Promise<LedgerCheck> {
  const table = rig.ledgerTable;
  let succeeded = 0;
  let retried = 0;
  const doneAt = new Map<number, number>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys = ids.slice(i, i + 100).map((id) => ({ jobId: { S: id } }));
    while (keys.length > 0) {
      const out = await rig.ddb.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: keys,
              ProjectionExpression: '#s, attempts, #r',
              ExpressionAttributeNames: { '#s': 'status', '#r': 'result' },
            },
          },
        }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        if (item.status?.S === 'SUCCEEDED') succeeded++;
        if (Number(item.attempts?.N ?? 0) > 1) retried++;
        const result = parseResult(item.result?.S);
        if (result) doneAt.set(result.n, result.doneAt);
      }
      keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as typeof keys;
    }
  }
  return { succeeded, retried, doneAt };
}

function parseResult(json: string | undefined): NoopResult | undefined {
  if (!json) return undefined;
  try {
    const r = JSON.parse(json) as NoopResult;
    return typeof r.n === 'number' && typeof r.doneAt === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** COMPLETED idempotency records of run `run` (their data is the no-op job's result, a map). */
async function checkIdempotency(
  rig: Rig,
  run: string,
): Promise<{ completed: number; doneAt: Map<number, number> }> {
  const doneAt = new Map<number, number>();
  let completed = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await rig.ddb.send(
      new ScanCommand({
        TableName: rig.idempotencyTable,
        FilterExpression: '#s = :completed AND #d.#run = :run',
        ExpressionAttributeNames: { '#s': 'status', '#d': 'data', '#run': 'run' },
        ExpressionAttributeValues: { ':completed': { S: 'COMPLETED' }, ':run': { S: run } },
        ProjectionExpression: '#d',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const data = item.data?.M;
      completed++;
      if (data?.n?.N !== undefined && data.doneAt?.N !== undefined) {
        doneAt.set(Number(data.n.N), Number(data.doneAt.N));
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { completed, doneAt };
}

async function dlqDepth(rig: Rig, dlqUrl: string): Promise<number> {
  const a = await rig.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

// --- consumer processes and the LocalStack log ----------------------------------------------------

const CLOCK_TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** pid → utime + stime in ms of the function's host processes (`--function=<name>` on their command line). */
function processCpu(functionName: string): Map<number, number> {
  let pids: number[] = [];
  try {
    pids = execFileSync('pgrep', ['-f', '--', `--function=${functionName}( |$)`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when nothing matches
  }
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const ms = processCpuMs(pid); // undefined: exited between pgrep and the read
    if (ms !== undefined) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU ms of one process (utime + stime, all its threads), or undefined when it is gone. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields[0] is field 3 (state): utime is field 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * CPU ms of LocalStack: its process and every descendant (DynamoDB Local's JVM) except the
 * Lambda function processes, which are measured per path. Undefined without a LocalStack pid.
 */
function emulatorCpuMs(localstackPid: number | undefined): number | undefined {
  if (!localstackPid) return undefined;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let total = 0;
  const todo = [localstackPid];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('--function=')) continue;
    total += processCpuMs(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

function cpuDelta(
  before: Map<number, number>,
  after: Map<number, number>,
): { ms: number; exited: number; started: number; processes: number } {
  let ms = 0;
  let exited = 0;
  let started = 0;
  for (const [pid, was] of before) {
    const now = after.get(pid);
    if (now === undefined) exited++;
    else ms += now - was;
  }
  for (const [pid, now] of after) {
    if (!before.has(pid)) {
      started++;
      ms += now;
    }
  }
  return { ms, exited, started, processes: after.size };
}

function logSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

function logSince(file: string, offset: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// --- warm-up -------------------------------------------------------------------------------------

/**
 * Both functions get traffic until each has `maxConcurrency` processes (every execution
 * environment the rounds will use is started), then one more batch of jobs each so their code is
 * warm (JIT) too.
 */
async function warmUp(rig: Rig, log: Log): Promise<void> {
  await setMappings(rig, { ours: true, handWired: true });
  for (const q of [rig.ours, rig.handWired]) {
    await purge(rig, q.queueUrl);
    await purge(rig, q.dlqUrl);
  }
  const want = E2E_SETTINGS.maxConcurrency;
  let counts = { ours: 0, handWired: 0 };
  for (let i = 0; i < 8; i++) {
    const run = `warm-${i}-${randomUUID().slice(0, 8)}`;
    const ids = await enqueueOurs(rig, run, 0, 120);
    await enqueueHandWired(rig, run, 0, 120);
    const drained =
      (await waitDrained(rig, rig.ours.queueUrl)) && (await waitDrained(rig, rig.handWired.queueUrl));
    if (!drained) throw new Error('warm-up: the queues did not drain');
    if (i === 0) {
      const ours = await checkLedger(rig, ids);
      const hand = await checkIdempotency(rig, run);
      if (ours.succeeded < ids.length || hand.completed < 120) {
        throw new Error(
          `warm-up: the deployed consumers did not process the jobs (ours ${ours.succeeded}/${ids.length} SUCCEEDED, hand-wired ${hand.completed}/120 COMPLETED; DLQs ${await dlqDepth(rig, rig.ours.dlqUrl)} and ${await dlqDepth(rig, rig.handWired.dlqUrl)})`,
        );
      }
    }
    counts = {
      ours: processCpu(rig.ours.functionName).size,
      handWired: processCpu(rig.handWired.functionName).size,
    };
    log(
      `warm-up ${i + 1}: ${counts.ours} process(es) of ours, ${counts.handWired} hand-wired (want ${want} each)`,
    );
    if (counts.ours >= want && counts.handWired >= want && i >= 1) break;
  }
  if (counts.ours < want || counts.handWired < want) {
    log(`warm-up: proceeding with ${counts.ours} and ${counts.handWired} processes`);
  }
  // The floor runs in this process: its code paths get the same warm-up (JIT) as the functions'.
  await setMappings(rig, { ours: false, handWired: false });
  for (let i = 0; i < 2; i++) {
    await enqueueOurs(rig, `warm-floor-${i}-${randomUUID().slice(0, 8)}`, 0, 120);
    if (!(await runFloor(rig, 120, rig.drainTimeoutMs)).drained)
      throw new Error('warm-up: the floor did not drain');
  }
  log('warm-up: the floor ran 240 jobs');
}

// --- rounds --------------------------------------------------------------------------------------

async function measureRounds(rig: Rig, options: E2eOptions, log: Log): Promise<PathRound[]> {
  const all: PathRound[] = [];
  const maxTries = options.maxTries ?? 3;
  for (let r = 0; r < options.rounds; r++) {
    for (const name of roundOrder(r)) {
      for (let attempt = 1; attempt <= maxTries; attempt++) {
        const result = await timeRound(rig, name, r + 1, attempt, options.jobs);
        all.push(result);
        const cpu = result.cpuMsPerJob === null ? '?' : result.cpuMsPerJob.toFixed(2);
        const emulator = result.emulatorCpuMsPerJob?.toFixed(2) ?? '?';
        log(
          `round ${r + 1}/${options.rounds} ${name}${attempt > 1 ? ` (try ${attempt})` : ''}: ${result.jobsPerSecond} jobs/s, ${cpu} CPU ms/job (LocalStack ${emulator})` +
            (result.taint.length > 0 ? ` — TAINTED: ${result.taint.join('; ')}` : ''),
        );
        if (result.taint.length === 0) break;
      }
    }
  }
  return all;
}

async function timeRound(
  rig: Rig,
  name: PathName,
  roundNo: number,
  attempt: number,
  jobs: number,
): Promise<PathRound> {
  const run = `${name}-${roundNo}-${attempt}-${randomUUID().slice(0, 8)}`;
  // Every mapping is off while the jobs are sent; only the measured path's is enabled (the floor uses none).
  await setMappings(rig, { ours: false, handWired: false });
  const fn = name === 'handWired' ? rig.handWired : rig.ours;
  await purge(rig, fn.queueUrl);
  await purge(rig, fn.dlqUrl);
  const ids = name === 'handWired' ? [] : await enqueueOurs(rig, run, 0, jobs);
  if (name === 'handWired') await enqueueHandWired(rig, run, 0, jobs);
  await sleep(300);

  const logFrom = logSize(rig.logFile);
  const cpuBefore = name === 'floor' ? undefined : processCpu(fn.functionName);
  const selfBefore = process.cpuUsage();
  const emulatorBefore = emulatorCpuMs(rig.localstackPid);
  let drain: Drain;
  if (name === 'floor') {
    drain = { ...(await runFloor(rig, jobs, rig.drainTimeoutMs)), longestStillMs: 0 };
  } else {
    await setMapping(rig, fn, true);
    drain = await timeDrain(rig, fn.queueUrl);
  }
  const { drained, seconds } = drain;
  const self = process.cpuUsage(selfBefore);
  const emulatorAfter = emulatorCpuMs(rig.localstackPid);
  const cpuAfter = name === 'floor' ? undefined : processCpu(fn.functionName);
  if (name !== 'floor') await setMapping(rig, fn, false);
  // Give an invocation that failed at the very end the time to reach the log.
  await sleep(200);
  const failures = executorFailureLines(logSince(rig.logFile, logFrom));

  let finished: number;
  let retried: number | undefined;
  if (name === 'handWired') {
    finished = (await checkIdempotency(rig, run)).completed;
  } else {
    const check = await checkLedger(rig, ids);
    finished = check.succeeded;
    retried = check.retried;
  }
  const dlqMessages = await dlqDepth(rig, fn.dlqUrl);
  const delta = cpuBefore && cpuAfter ? cpuDelta(cpuBefore, cpuAfter) : undefined;
  const cpuMs = delta ? delta.ms : (self.user + self.system) / 1000;
  const taint = taintReasons({
    jobs,
    finished,
    drained,
    drainTimeoutSeconds: rig.drainTimeoutMs / 1000,
    stillSeconds: drain.longestStillMs / 1000,
    retried,
    dlqMessages,
    executorFailures: failures,
    exitedProcesses: delta?.exited,
    newProcesses: delta?.started,
  });
  if (!drained) await purge(rig, fn.queueUrl);
  return {
    path: name,
    round: roundNo,
    attempt,
    jobs,
    seconds: round(seconds, 2),
    jobsPerSecond: round(jobs / seconds, 1),
    cpuMsPerJob: round(cpuMs / jobs, 2),
    emulatorCpuMsPerJob:
      emulatorBefore === undefined || emulatorAfter === undefined
        ? null
        : round((emulatorAfter - emulatorBefore) / jobs, 2),
    ...(delta ? { processes: delta.processes } : {}),
    taint,
  };
}

/**
 * The floor: `E2E_SETTINGS.maxConcurrency` workers on our lane queue (mapping disabled), each
 * receiving 10 messages at a time with its next receive already in flight, claiming and completing
 * every job of a batch at once in the ledger (the Ledger class our consumer uses) and deleting the
 * batch. Resolves true once `jobs` jobs are done, false at the timeout.
 */
async function runFloor(
  rig: Rig,
  jobs: number,
  timeoutMs: number,
  onDone?: (n: number, doneAt: number) => void,
): Promise<{ drained: boolean; seconds: number }> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  let done = 0;
  let finishedAt: number | undefined;
  // Receives are never aborted: an abandoned long poll would still take messages on the server
  // (LocalStack answers a closed connection) and hide them for a whole visibility timeout.
  const receive = () =>
    rig.sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: rig.ours.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      )
      .then((out) => out.Messages ?? []);
  const runJob = async (message: Message) => {
    const read = readEnvelope(message.Body ?? '');
    if (!read.ok) throw read.error;
    const envelope = read.envelope;
    const payload = noopSchema.parse(envelope.payload);
    const owner = randomUUID();
    const claim = await rig.ledger.claim({
      jobId: envelope.id,
      type: envelope.type,
      lane: E2E_SETTINGS.lane,
      enqueuedAt: envelope.enqueuedAt,
      owner,
      leaseMs: E2E_SETTINGS.timeoutSeconds * 1000 + 5000,
    });
    if (claim.kind !== 'claimed') throw new Error(`floor: claim of ${envelope.id} was ${claim.kind}`);
    const result = await noopJob(payload);
    await rig.ledger.complete({ jobId: envelope.id, owner, result, attempt: claim.attempts });
    onDone?.(result.n, result.doneAt);
  };
  const worker = async () => {
    let next = receive();
    while (done < jobs && Date.now() < deadline) {
      const messages = await next;
      // Pipelined: the next receive is in flight while this batch runs.
      next = done < jobs ? receive() : Promise.resolve([]);
      if (messages.length === 0) continue;
      await Promise.all(messages.map(runJob));
      await rig.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: rig.ours.queueUrl,
          Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      done += messages.length;
      if (done >= jobs) finishedAt ??= performance.now();
    }
    // The clock has stopped; the receive still in flight ends empty within WaitTimeSeconds.
    await next;
  };
  await Promise.all(Array.from({ length: E2E_SETTINGS.maxConcurrency }, worker));
  return { drained: done >= jobs, seconds: ((finishedAt ?? performance.now()) - started) / 1000 };
}

// --- latency -------------------------------------------------------------------------------------

/**
 * Per path, `jobs` jobs sent at `rate` jobs/s (a batch every 100 ms) while the path runs; the
 * latency of a job is from just before its send call to the `doneAt` its no-op run returned.
 */
async function measureLatency(
  rig: Rig,
  jobs: number,
  rate: number,
  log: Log,
): Promise<Partial<Record<PathName, LatencyFigures>>> {
  const out: Partial<Record<PathName, LatencyFigures>> = {};
  const perTick = Math.max(1, Math.round(rate / 10));
  for (const name of PATHS) {
    const run = `latency-${name}-${randomUUID().slice(0, 8)}`;
    const fn = name === 'handWired' ? rig.handWired : rig.ours;
    await setMappings(rig, { ours: name === 'ours', handWired: name === 'handWired' });
    const sentAt = new Map<number, number>();
    const floorDone = new Map<number, number>();
    const floor =
      name === 'floor' ? runFloor(rig, jobs, rig.drainTimeoutMs, (n, at) => floorDone.set(n, at)) : undefined;
    const ids: string[] = [];
    const t0 = Date.now();
    for (let sent = 0, tick = 0; sent < jobs; tick++) {
      const wait = t0 + tick * 100 - Date.now();
      if (wait > 0) await sleep(wait);
      const n = Math.min(perTick, jobs - sent);
      const at = Date.now();
      for (let k = 0; k < n; k++) sentAt.set(sent + k, at);
      if (name === 'handWired') await enqueueHandWired(rig, run, sent, n);
      else ids.push(...(await enqueueOurs(rig, run, sent, n)));
      sent += n;
    }
    const drained = floor ? (await floor).drained : await waitDrained(rig, fn.queueUrl);
    const doneAt =
      name === 'floor'
        ? floorDone
        : name === 'handWired'
          ? (await checkIdempotency(rig, run)).doneAt
          : (await checkLedger(rig, ids)).doneAt;
    const samples = [...sentAt].flatMap(([n, at]) => {
      const done = doneAt.get(n);
      return done === undefined ? [] : [done - at];
    });
    const figures = latencyFigures(samples);
    if (figures) out[name] = figures;
    log(
      `latency ${name} at ${rate} jobs/s: p50 ${figures?.p50 ?? '?'} ms, p99 ${figures?.p99 ?? '?'} ms (${samples.length}/${jobs} jobs${drained ? '' : ', NOT drained'})`,
    );
  }
  await setMappings(rig, { ours: false, handWired: false });
  return out;
}
