/**
 * `npm run chaos`: thousands of jobs through the chaos stack on LocalStack while a fault proxy
 * throttles, fails, delays and resets the runtime's and the producer's AWS calls; then an audit
 * that accounts for every job (bench/chaos/audit.ts).
 *
 *   npm run chaos -- [--jobs 10000] [--seed 1] [--dynamodb-throttle 0.05] [--sqs-server-error 0.02]
 *                    [--sqs-throttle 0.02] [--latency 0.1] [--reset-before 0.01] [--reset-after 0.01]
 *                    [--drain-timeout 3600] [--out bench/chaos-results.json] [--stack SqsJobsChaos]
 *                    [--no-readme]
 *
 * What runs where: producers (this process) and the chaos stack's consumers reach LocalStack
 * through the fault proxy on 127.0.0.1; the effects table, the Scheduler stand-in, the duplicate
 * sends and the audit's reads go to LocalStack directly, so what measures the run is not faulted.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type AttributeValue, BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { configFromStackOutputs, JobClient } from '../../lambdas/client';
import { decodeRecord } from '../../lambdas/ledger/codec';
import { DLQ_ATTR, type JobQueueConfig, type JobRecord, LEDGER_ATTR } from '../../lambdas/shared/contract';
import { jobIdForKey, readEnvelope } from '../../lambdas/shared/envelope';
import { deployExampleStack, describeStack } from '../../scripts/local/deploy';
import { SchedulerStandIn } from '../../scripts/local/scheduler-stand-in';
import { seeded } from '../lib/stats';
import {
  type AuditInput,
  audit,
  type ChaosAudit,
  type DlqMessage,
  type EffectCount,
  formatAudit,
  type TrackedJob,
} from './audit';
import {
  DEFAULT_FAULT_RATES,
  type FaultRates,
  NO_FAULTS,
  parseFaultRates,
  startFaultProxy,
} from './fault-proxy';
import { chaosRegistry, crashMarkerKey, EFFECT_ATTR } from './jobs';
import { ALL_LANES, type PlannedJob, planJobs } from './plan';
import { EFFECTS_TABLE_OUTPUT } from './stack';

export const CHAOS_DIR = __dirname;
export const DEFAULT_RESULTS = path.join(__dirname, '..', 'chaos-results.json');
export const DEFAULT_STACK = 'SqsJobsChaos';
/** A dying producer's key may be sent again this long after its due time (the client's minimum). */
const RESEND_UNSENT_AFTER_SECONDS = 60;

export interface ChaosOptions {
  /** LocalStack's endpoint. */
  readonly endpoint: string;
  readonly jobs: number;
  readonly seed?: number;
  readonly rates?: Partial<FaultRates>;
  readonly stackName?: string;
  /** Port of the fault proxy; fixed, because the consumers' endpoint is deployed with the stack. @default 45660 */
  readonly proxyPort?: number;
  /** Parallel producer calls. @default 8 */
  readonly concurrency?: number;
  /** Bound on the wait for the queues to drain, seconds. @default 600 + jobs / 5 */
  readonly drainTimeoutSeconds?: number;
  /** Progress and log lines. @default - stderr */
  readonly log?: (line: string) => void;
  /** Live progress (rewritten in place on a terminal). @default - stderr */
  readonly progress?: (line: string) => void;
}

export interface ChaosResults extends ChaosAudit {
  readonly generatedAt: string;
  readonly run: string;
  readonly stackName: string;
  readonly seed: number;
  readonly faultRates: FaultRates;
  /** Requests through the fault proxy per service, and the faults each service got. */
  readonly proxy: {
    readonly byService: Readonly<Record<string, number>>;
    readonly injectedByService: Readonly<Record<string, Partial<Record<string, number>>>>;
  };
  readonly producer: {
    readonly enqueueCalls: number;
    readonly batchCalls: number;
    readonly enqueueRetries: number;
    readonly producerDeaths: number;
    readonly resentAfterDeath: number;
    readonly duplicatesSent: number;
    readonly schedulesFired: number;
  };
  readonly machine: { readonly cpus: number; readonly platform: string; readonly node: string };
}

interface Clients {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly scheduler: SchedulerClient;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
  const progress = options.progress ?? stderrProgress();
  const stackName = options.stackName ?? DEFAULT_STACK;
  const seed = options.seed ?? 1;
  const rates: FaultRates = { ...DEFAULT_FAULT_RATES, ...options.rates };
  const run = `chaos-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomUUID().slice(0, 6)}`;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const direct: Clients = {
    sqs: new SQSClient({ endpoint: options.endpoint, region }),
    dynamodb: new DynamoDBClient({ endpoint: options.endpoint, region }),
    scheduler: new SchedulerClient({ endpoint: options.endpoint, region }),
  };

  // The proxy starts clean: no faults while the stack deploys (that goes to LocalStack directly anyway).
  const proxy = await startFaultProxy({
    upstream: options.endpoint,
    port: options.proxyPort ?? 45660,
    rates: NO_FAULTS,
    seed,
  });
  try {
    log(`fault proxy on ${proxy.url} -> ${options.endpoint}`);
    process.env.CHAOS_PROXY_URL = proxy.url;
    process.env.CHAOS_DIRECT_ENDPOINT = options.endpoint;
    const deployStarted = Date.now();
    await deployExampleStack({
      endpoint: options.endpoint,
      stackName,
      appDir: CHAOS_DIR,
      log: (line) => {
        if (/✅|deploying|bootstrapping|no changes|error|fail/i.test(line)) log(`deploy: ${line.trim()}`);
      },
    });
    log(`stack ${stackName} ready in ${Math.round((Date.now() - deployStarted) / 1000)} s`);
    const { config, effectsTable } = await stackOutputs(options.endpoint, stackName);
    await purgeLeftovers(direct.sqs, config, log);

    const plan = planJobs({ jobs: options.jobs, run, seed });
    log(
      `run ${run}: ${plan.length} jobs over lanes ${ALL_LANES.join(', ')}; fault rates ${JSON.stringify(rates)}`,
    );
    proxy.setRates(rates);
    const producer = new Producer(plan, config, proxy.url, region, direct, log);
    const started = Date.now();
    await producer.enqueueAll(options.concurrency ?? 8, (done) =>
      progress(`enqueued ${done}/${plan.length} (${Math.round((Date.now() - started) / 1000)} s)`),
    );
    log(
      `enqueued ${plan.length} jobs in ${Math.round((Date.now() - started) / 1000)} s (${producer.stats.enqueueRetries} producer retries, ${producer.stats.producerDeaths} producer deaths)`,
    );

    const drainTimeoutMs = (options.drainTimeoutSeconds ?? 600 + Math.ceil(options.jobs / 5)) * 1000;
    const drained = await drain(producer, direct, config, started + drainTimeoutMs, progress, log);
    const wallSeconds = (Date.now() - started) / 1000;
    const faults = proxy.stats();
    proxy.setRates(NO_FAULTS);

    log('auditing: ledger, effects table and every DLQ message');
    const jobs = producer.tracked();
    const ids = [...jobs.map((job) => job.jobId), ...producer.failedEnqueueIds];
    const ledger = await readLedger(direct.dynamodb, config.tableName, ids);
    const { effects, crashed } = await readEffects(direct.dynamodb, effectsTable, ids);
    const dlq = await drainDlqs(direct.sqs, config, run);
    const input: AuditInput = {
      jobs,
      ledger,
      effects,
      crashedEnvironments: crashed,
      dlq,
      failedEnqueueIds: producer.failedEnqueueIds,
      faultsInjected: faults.injected,
      proxyRequests: faults.requests,
      wallSeconds,
      drained,
    };
    return {
      generatedAt: new Date().toISOString(),
      run,
      stackName,
      seed,
      faultRates: rates,
      ...audit(input),
      proxy: { byService: faults.byService, injectedByService: faults.injectedByService },
      producer: producer.stats,
      machine: { cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}`, node: process.version },
    };
  } finally {
    await proxy.close();
  }
}

async function stackOutputs(
  endpoint: string,
  stackName: string,
): Promise<{ config: JobQueueConfig; effectsTable: string }> {
  const outputs = (await describeStack(endpoint, stackName)).Outputs ?? [];
  const effectsTable = outputs.find((o) => o.OutputKey === EFFECTS_TABLE_OUTPUT)?.OutputValue;
  if (!effectsTable) throw new Error(`stack ${stackName} has no ${EFFECTS_TABLE_OUTPUT} output`);
  return { config: configFromStackOutputs(stackName, outputs), effectsTable };
}

/** Messages an interrupted earlier run left on the lanes or DLQs would only slow this one down. */
async function purgeLeftovers(sqs: SQSClient, config: JobQueueConfig, log: (line: string) => void) {
  for (const [lane, laneConfig] of Object.entries(config.lanes)) {
    for (const url of [laneConfig.queueUrl, laneConfig.dlqUrl]) {
      const depth = await queueDepth(sqs, url);
      if (depth.total === 0) continue;
      log(`removing ${depth.total} messages an earlier run left on ${lane} (${url.split('/').pop()})`);
      await sqs.send(new PurgeQueueCommand({ QueueUrl: url })).catch(() => {});
    }
  }
}

interface Depth {
  visible: number;
  inFlight: number;
  delayed: number;
  total: number;
}

async function queueDepth(sqs: SQSClient, url: string): Promise<Depth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const n = (name: string) => Number(out.Attributes?.[name as keyof typeof out.Attributes] ?? 0);
  const visible = n('ApproximateNumberOfMessages');
  const inFlight = n('ApproximateNumberOfMessagesNotVisible');
  const delayed = n('ApproximateNumberOfMessagesDelayed');
  return { visible, inFlight, delayed, total: visible + inFlight + delayed };
}

/** The producer side: enqueues the plan through the faulted endpoint, like an application would. */
class Producer {
  readonly stats = {
    enqueueCalls: 0,
    batchCalls: 0,
    enqueueRetries: 0,
    producerDeaths: 0,
    resentAfterDeath: 0,
    duplicatesSent: 0,
    schedulesFired: 0,
  };
  readonly failedEnqueueIds: string[] = [];
  private readonly jobs = new Map<number, TrackedJob>();
  private readonly client: JobClient<typeof chaosRegistry>;
  private readonly dying: JobClient<typeof chaosRegistry>;
  /** Bodies of duplicate-kind messages, captured on send, to deliver a second time. */
  private readonly duplicateBodies = new Map<string, string>();
  private readonly pendingDuplicates: { jobId: string; lane: string }[] = [];
  /** Keyed jobs whose producer died: re-enqueued by a "restarted" producer once resendable. */
  readonly pendingRestarts: { job: PlannedJob; diedAtMs: number }[] = [];
  private readonly standIn: SchedulerStandIn;

  constructor(
    private readonly plan: readonly PlannedJob[],
    private readonly config: JobQueueConfig,
    proxyUrl: string,
    region: string,
    private readonly direct: Clients,
    private readonly log: (line: string) => void,
  ) {
    const sqs = new SQSClient({ endpoint: proxyUrl, region });
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        this.captureDuplicates(context.commandName ?? '', args.input as Record<string, unknown>);
        return out;
      },
      { step: 'initialize', name: 'chaosCaptureDuplicates' },
    );
    this.client = JobClient.fromConfig(config, {
      registry: chaosRegistry,
      sqs,
      dynamodb: new DynamoDBClient({ endpoint: proxyUrl, region }),
      scheduler: new SchedulerClient({ endpoint: proxyUrl, region }),
      resendUnsentAfterSeconds: RESEND_UNSENT_AFTER_SECONDS,
    });
    // A producer that dies right after the ledger write: its sends never happen, and neither does
    // the undo of its key (a dead process cleans nothing up).
    const died = () => {
      throw new Error('chaos: the producer died before sending');
    };
    const dyingSqs = new SQSClient({ endpoint: proxyUrl, region });
    dyingSqs.middlewareStack.add(() => async () => died(), { step: 'initialize', name: 'chaosDie' });
    const dyingScheduler = new SchedulerClient({ endpoint: proxyUrl, region });
    dyingScheduler.middlewareStack.add(() => async () => died(), { step: 'initialize', name: 'chaosDie' });
    const dyingDynamo = new DynamoDBClient({ endpoint: proxyUrl, region });
    dyingDynamo.middlewareStack.add(
      (next, context) => async (args) => (context.commandName === 'DeleteItemCommand' ? died() : next(args)),
      { step: 'initialize', name: 'chaosDie' },
    );
    this.dying = JobClient.fromConfig(config, {
      registry: chaosRegistry,
      sqs: dyingSqs,
      dynamodb: dyingDynamo,
      scheduler: dyingScheduler,
      resendUnsentAfterSeconds: RESEND_UNSENT_AFTER_SECONDS,
    });
    this.standIn = new SchedulerStandIn(direct.scheduler, direct.sqs);
  }

  tracked(): TrackedJob[] {
    return this.plan.map((job) => {
      const tracked = this.jobs.get(job.index);
      if (!tracked) throw new Error(`job ${job.index} (${job.kind}) was never enqueued`);
      return tracked;
    });
  }

  async enqueueAll(concurrency: number, onProgress: (done: number) => void): Promise<void> {
    // Units of work: FIFO groups in order, batches of up to 10, single enqueues.
    const units: (() => Promise<void>)[] = [];
    const groups = new Map<string, PlannedJob[]>();
    let batch: PlannedJob[] = [];
    for (const job of this.plan) {
      if (job.groupId !== undefined) {
        groups.set(job.groupId, [...(groups.get(job.groupId) ?? []), job]);
      } else if (job.via === 'batch') {
        batch.push(job);
        if (batch.length === 10) {
          const items = batch;
          units.push(() => this.enqueueBatch(items));
          batch = [];
        }
      } else {
        units.push(() => (job.producerDies ? this.enqueueAndDie(job) : this.enqueueOne(job)));
      }
    }
    if (batch.length > 0) {
      const items = batch;
      units.push(() => this.enqueueBatch(items));
    }
    for (const group of groups.values()) {
      units.push(async () => {
        for (const job of group) await this.enqueueOne(job);
      });
    }
    // Interleave FIFO groups with the rest instead of leaving them for the end.
    const shuffled = interleave(units, seeded(this.plan.length));
    let next = 0;
    let lastReport = 0;
    const worker = async () => {
      while (next < shuffled.length) {
        await shuffled[next++]();
        if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          onProgress(this.jobs.size);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    onProgress(this.jobs.size);
  }

  private options(job: PlannedJob) {
    return {
      lane: job.lane,
      ...(job.key ? { idempotencyKey: job.key } : {}),
      ...(job.delaySeconds > 0 ? { delaySeconds: job.delaySeconds } : {}),
      ...(job.groupId ? { groupId: job.groupId } : {}),
    };
  }

  private track(job: PlannedJob, jobId: string, enqueuedAtMs: number, producerDied = false): void {
    this.jobs.set(job.index, {
      jobId,
      kind: job.kind,
      lane: job.lane,
      expect: job.expect,
      enqueuedAtMs,
      delaySeconds: job.delaySeconds,
      producerDied,
      groupId: job.groupId,
      seq: typeof job.payload.seq === 'number' ? job.payload.seq : undefined,
    });
    if (job.kind === 'duplicate') this.pendingDuplicates.push({ jobId, lane: job.lane });
  }

  /** Like an application: a failed enqueue is retried (same key; a new job when unkeyed). */
  private async enqueueOne(job: PlannedJob, enqueuedAtMs = Date.now()): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.stats.enqueueCalls++;
      try {
        const out = await this.client.enqueue(job.type, job.payload as never, this.options(job));
        this.track(job, out.jobId, enqueuedAtMs);
        return;
      } catch (error) {
        this.failed(job, error, attempt);
        await sleep(100 * 2 ** Math.min(attempt, 6));
      }
    }
  }

  private failed(job: PlannedJob, error: unknown, attempt: number, jobId?: string): void {
    this.stats.enqueueRetries++;
    const message = error instanceof Error ? error.message : String(error);
    const id = jobId ?? /job ([0-9A-Za-z_-]+) \(/.exec(message)?.[1];
    if (!job.key && id) this.failedEnqueueIds.push(id);
    if (attempt === 10) this.log(`job ${job.index} (${job.kind}) still failing to enqueue: ${message}`);
  }

  private async enqueueBatch(jobs: readonly PlannedJob[]): Promise<void> {
    const enqueuedAtMs = Date.now();
    this.stats.batchCalls++;
    const results = await this.client.enqueueBatch(
      jobs.map((job) => ({ type: job.type, payload: job.payload as never, options: this.options(job) })),
    );
    for (const result of results) {
      const job = jobs[result.index];
      if (result.ok) this.track(job, result.jobId, enqueuedAtMs);
      else {
        this.failed(job, result.error, 1, result.jobId);
        await this.enqueueOne(job, enqueuedAtMs);
      }
    }
  }

  /** Write the key, die before the send; the restart comes in drain(). */
  private async enqueueAndDie(job: PlannedJob): Promise<void> {
    const enqueuedAtMs = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dying.enqueue(job.type, job.payload as never, this.options(job));
        throw new Error('the dying producer sent its job');
      } catch (error) {
        if (String((error as Error & { cause?: unknown }).cause).includes('producer died')) break;
        // The ledger write itself failed under the faults: the producer is still alive, try again.
        if (attempt >= 10) throw error;
        await sleep(100 * 2 ** Math.min(attempt, 6));
      }
    }
    this.stats.producerDeaths++;
    this.pendingRestarts.push({ job, diedAtMs: Date.now() });
    this.track(job, jobIdOf(job), enqueuedAtMs, true);
  }

  private captureDuplicates(command: string, input: Record<string, unknown>): void {
    const bodies: string[] =
      command === 'SendMessageCommand'
        ? [input.MessageBody as string]
        : command === 'SendMessageBatchCommand'
          ? ((input.Entries as { MessageBody: string }[]) ?? []).map((e) => e.MessageBody)
          : [];
    for (const body of bodies) {
      if (!body?.includes('"chaos-duplicate"')) continue;
      const read = readEnvelope(body);
      if (read.ok) this.duplicateBodies.set(read.envelope.id, body);
    }
  }

  /** Background work while the queues drain; returns how much of it is still pending. */
  async tick(): Promise<number> {
    // Duplicates: the same envelope straight to the queue a second time.
    for (let i = this.pendingDuplicates.length - 1; i >= 0; i--) {
      const { jobId, lane } = this.pendingDuplicates[i];
      const body = this.duplicateBodies.get(jobId);
      if (!body) continue;
      await this.direct.sqs.send(
        new SendMessageCommand({ QueueUrl: this.config.lanes[lane].queueUrl, MessageBody: body }),
      );
      this.pendingDuplicates.splice(i, 1);
      this.stats.duplicatesSent++;
    }
    // Schedules past 15 minutes: LocalStack never fires them, the stand-in does (now, not at their time).
    const fired = await this.standIn.fireDue(
      this.config.scheduleGroup,
      new Date(Date.now() + 366 * 24 * 3600_000),
    );
    this.stats.schedulesFired += fired.length;
    // Restarted producers: the same key again, once the dead producer's write counts as unsent.
    const now = Date.now();
    for (let i = this.pendingRestarts.length - 1; i >= 0; i--) {
      const { job, diedAtMs } = this.pendingRestarts[i];
      if (now < diedAtMs + (RESEND_UNSENT_AFTER_SECONDS + job.delaySeconds + 1) * 1000) continue;
      try {
        const out = await this.client.enqueue(job.type, job.payload as never, this.options(job));
        if (out.status === 'duplicate' && out.existing?.status === 'ENQUEUED') continue; // not resendable yet
        this.pendingRestarts.splice(i, 1);
        this.stats.resentAfterDeath++;
      } catch {
        // faulted: next tick
      }
    }
    // A duplicate whose job was never sent has no body to send again: it is not waited for (the
    // audit reports that job as lost), so a lost job ends the drain as lost rather than timing it out.
    const sendable = this.pendingDuplicates.filter((d) => this.duplicateBodies.has(d.jobId)).length;
    return sendable + this.pendingRestarts.length + fired.length;
  }
}

function jobIdOf(job: PlannedJob): string {
  // Keyed: the id is derived from type and key, the same for the dead producer and its restart.
  return jobIdForKey(job.type, job.key as string);
}

function interleave<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Wait until every lane is empty and nothing is pending (duplicates, schedules, restarts), then
 * until the ledger shows every job finished; bounded by `deadline`. A job that never finishes
 * (lost) ends the wait once the lanes have stayed empty for 90 s.
 */
async function drain(
  producer: Producer,
  direct: Clients,
  config: JobQueueConfig,
  deadline: number,
  progress: (line: string) => void,
  log: (line: string) => void,
): Promise<boolean> {
  const jobs = () => producer.tracked();
  const unfinished = new Set(jobs().map((job) => job.jobId));
  const started = Date.now();
  let emptySince: number | undefined;
  let lastLedgerRead = 0;
  let lastTickError = 0;
  let succeeded = 0;
  let dead = 0;
  const total = unfinished.size;
  while (Date.now() < deadline) {
    // A failed tick (LocalStack busy) leaves its work pending for the next one; say so, once a minute.
    const pending = await producer.tick().catch((error: Error) => {
      if (Date.now() - lastTickError > 60_000) {
        lastTickError = Date.now();
        log(`background work failed, retrying: ${error.message}`);
      }
      return 1;
    });
    const depths = await Promise.all(
      Object.values(config.lanes).map((lane) => queueDepth(direct.sqs, lane.queueUrl)),
    );
    const sum = (k: keyof Depth) => depths.reduce((a, d) => a + d[k], 0);
    const empty = sum('total') === 0 && pending === 0;
    if (empty) emptySince ??= Date.now();
    else emptySince = undefined;
    // The ledger is read sparingly (it is 100 reads per 100 jobs): when the lanes are empty, else every 20 s.
    if (empty || Date.now() - lastLedgerRead > 20_000) {
      lastLedgerRead = Date.now();
      const records = await readLedger(direct.dynamodb, config.tableName, [...unfinished]);
      for (const [id, record] of records) {
        if (record.status === 'SUCCEEDED' || record.status === 'DEAD') {
          unfinished.delete(id);
          if (record.status === 'SUCCEEDED') succeeded++;
          else dead++;
        }
      }
    }
    progress(
      `${total - unfinished.size}/${total} finished (${succeeded} succeeded, ${dead} dead); lanes: ${sum('visible')} visible, ${sum('inFlight')} in flight, ${sum('delayed')} delayed; ${pending} pending; ${Math.round((Date.now() - started) / 1000)} s`,
    );
    if (emptySince !== undefined && unfinished.size === 0) return true;
    if (emptySince !== undefined && Date.now() - emptySince > 90_000) {
      log(`lanes empty for 90 s with ${unfinished.size} jobs unfinished in the ledger: auditing now`);
      return true;
    }
    await sleep(3000);
  }
  log(`drain timed out with ${unfinished.size} jobs unfinished`);
  return false;
}

async function readLedger(
  dynamodb: DynamoDBClient,
  table: string,
  ids: readonly string[],
): Promise<Map<string, JobRecord>> {
  const out = new Map<string, JobRecord>();
  for (const item of await batchGet(dynamodb, table, LEDGER_ATTR.jobId, ids)) {
    const record = decodeRecord(item);
    if (record) out.set(record.jobId, record);
  }
  return out;
}

async function readEffects(
  dynamodb: DynamoDBClient,
  table: string,
  ids: readonly string[],
): Promise<{ effects: Map<string, EffectCount>; crashed: Set<string> }> {
  const effects = new Map<string, EffectCount>();
  const environments = new Set<string>();
  for (const item of await batchGet(dynamodb, table, EFFECT_ATTR.pk, ids)) {
    const runBy = (item[EFFECT_ATTR.runBy]?.L ?? []).map((v) => v.S ?? '');
    for (const by of runBy) environments.add(by.split(':')[0]);
    effects.set(item[EFFECT_ATTR.pk].S as string, {
      starts: Number(item[EFFECT_ATTR.starts]?.N ?? 0),
      runs: Number(item[EFFECT_ATTR.runs]?.N ?? 0),
      runBy,
      ranAtMs: item[EFFECT_ATTR.ranAt]?.N ? Number(item[EFFECT_ATTR.ranAt].N) : undefined,
    });
  }
  const markers = await batchGet(
    dynamodb,
    table,
    EFFECT_ATTR.pk,
    [...environments].map((env) => crashMarkerKey(env)),
  );
  const crashed = new Set(markers.map((item) => (item[EFFECT_ATTR.pk].S as string).slice('crash#'.length)));
  return { effects, crashed };
}

type Item = Record<string, AttributeValue>;

async function batchGet(
  dynamodb: DynamoDBClient,
  table: string,
  keyName: string,
  ids: readonly string[],
): Promise<Item[]> {
  const items: Item[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Item[] | undefined = unique.slice(i, i + 100).map((id) => ({ [keyName]: { S: id } }));
    for (let round = 0; keys && keys.length > 0; round++) {
      const out = await dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      items.push(...((out.Responses?.[table] ?? []) as Item[]));
      keys = out.UnprocessedKeys?.[table]?.Keys as Item[] | undefined;
      if (keys?.length) await sleep(100 * 2 ** Math.min(round, 5));
    }
  }
  return items;
}

/** Every DLQ message of this run (read, then deleted: the run cleans up after itself). */
async function drainDlqs(sqs: SQSClient, config: JobQueueConfig, run: string): Promise<DlqMessage[]> {
  const found: DlqMessage[] = [];
  for (const [lane, laneConfig] of Object.entries(config.lanes)) {
    let emptyReads = 0;
    while (emptyReads < 2) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: laneConfig.dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 600,
          MessageAttributeNames: ['All'],
        }),
      );
      const messages: Message[] = out.Messages ?? [];
      if (messages.length === 0) {
        emptyReads++;
        continue;
      }
      emptyReads = 0;
      const mine: Message[] = [];
      for (const message of messages) {
        const read = readEnvelope(message.Body ?? '');
        const payload = read.ok ? (read.envelope.payload as { run?: string }) : undefined;
        if (payload?.run !== run) continue;
        mine.push(message);
        found.push({
          lane,
          jobId: read.ok ? read.envelope.id : undefined,
          errorType: message.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue,
          error: message.MessageAttributes?.[DLQ_ATTR.error]?.StringValue,
        });
      }
      if (mine.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: laneConfig.dlqUrl,
            Entries: mine.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }
  }
  return found;
}

function stderrProgress(): (line: string) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (line) => {
    if (tty) process.stderr.write(`\r\x1b[K[chaos] ${line}`);
    else if (Date.now() - last > 15_000) {
      last = Date.now();
      process.stderr.write(`[chaos] ${line}\n`);
    }
  };
}

/** README block between the chaos markers: the table of the committed run and how to reproduce it. */
export function readmeBlock(results: ChaosResults): string {
  const f = results.faultsInjected;
  const rows: [string, string | number][] = [
    ['jobs', results.jobs],
    ['succeeded', results.succeeded],
    ['dead (poison and permanent, each in its lane DLQ with its reason)', results.dead],
    ['**lost**', results.lost],
    ['**doubleRun** (strict job types)', results.doubleRun],
    ['rerun after a SIGKILL between side effect and SUCCEEDED write', results.rerunAfterCrash],
    ['double run, optimistic job type (allowed by its mode)', results.doubleRunOptimistic],
    [
      'deadWithoutReason / inDlqButNotDead / notInDlqButDead',
      `${results.deadWithoutReason} / ${results.inDlqButNotDead} / ${results.notInDlqButDead}`,
    ],
    ['unexpected outcome (a job not ending as its kind must)', results.unexpectedOutcome],
    [
      'DLQ message sent twice (a DLQ send retried after it was applied; same job id)',
      results.dlqDuplicateMessages,
    ],
    ['FIFO order violations', results.fifoOrderViolations],
    [
      'faults injected',
      `${results.faultsInjectedTotal} of ${results.proxyRequests} requests: ${f.dynamodbThrottle} DynamoDB throttles, ${f.sqsServerError} SQS 5xx, ${f.sqsThrottle} SQS throttles, ${f.latency} delays, ${f.resetBeforeForward} resets before and ${f.resetAfterForward} after the request reached LocalStack`,
    ],
    [
      'producer',
      `${results.producer.producerDeaths} deaths between ledger write and send (all resent), ${results.producer.duplicatesSent} envelopes sent twice, ${results.producer.schedulesFired} schedules fired, ${results.producer.enqueueRetries} enqueue retries`,
    ],
    ['wall time, throughput', `${results.wallSeconds} s, ${results.jobsPerSecond} jobs/s`],
    [
      'enqueue → finish p50 / p99 (undelayed jobs; includes waiting behind the backlog, as the producer enqueues faster than LocalStack drains)',
      `${results.latencyMs.p50} / ${results.latencyMs.p99} ms`,
    ],
  ];
  return [
    `Run ${results.run} on ${results.generatedAt.slice(0, 10)} (${results.machine.cpus} cores, seed ${results.seed}); reproduce with \`npm run chaos\` (${results.jobs} jobs, default fault rates); figures in \`bench/chaos-results.json\`.`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ].join('\n');
}

export function writeReadmeBlock(readmePath: string, results: ChaosResults): boolean {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const start = '<!-- chaos:start -->';
  const end = '<!-- chaos:end -->';
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) return false;
  fs.writeFileSync(
    readmePath,
    `${readme.slice(0, i + start.length)}\n${readmeBlock(results)}${readme.slice(j)}`,
  );
  return true;
}

interface Cli {
  jobs: number;
  seed: number;
  rates: Partial<FaultRates>;
  drainTimeoutSeconds?: number;
  out: string;
  readme: boolean;
  stackName: string;
}

/** `--reset-before` and `--reset-after` stand for the proxy's `--reset-before-forward` and `--reset-after-forward`. */
const RATE_ALIASES: Readonly<Record<string, string>> = {
  'reset-before': 'reset-before-forward',
  'reset-after': 'reset-after-forward',
};

export function parseArgs(argv: readonly string[]): Cli {
  const flags: Record<string, string | undefined> = {};
  let readme = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-readme') {
      readme = false;
      continue;
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}' (flags look like --jobs 10000)`);
    const [name, inline] = arg.slice(2).split('=', 2);
    flags[name] = inline ?? argv[++i];
    if (flags[name] === undefined) throw new Error(`--${name} needs a value`);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = flags[name];
    delete flags[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    return n;
  };
  const jobs = int('jobs', 10_000, 10, 1_000_000);
  const seed = int('seed', 1, 0, 2 ** 31);
  const drain = flags['drain-timeout'] === undefined ? undefined : int('drain-timeout', 0, 60, 86_400);
  const out = flags.out ?? DEFAULT_RESULTS;
  const stackName = flags.stack ?? DEFAULT_STACK;
  delete flags.out;
  delete flags.stack;
  // Short spellings of the two reset flags.
  for (const [short, long] of Object.entries(RATE_ALIASES)) {
    if (flags[short] !== undefined) flags[long] = flags[short];
    delete flags[short];
  }
  const rates = parseFaultRates(flags);
  const known = new Set(
    Object.keys(DEFAULT_FAULT_RATES).map((kind) => kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)),
  );
  const unknown = Object.keys(flags).filter((name) => !known.has(name) && !(name in DEFAULT_FAULT_RATES));
  if (unknown.length > 0) {
    throw new Error(
      `unknown flag --${unknown[0]}; flags: --jobs --seed --drain-timeout --out --stack --no-readme ${[...known, ...Object.keys(RATE_ALIASES)].map((k) => `--${k}`).join(' ')}`,
    );
  }
  return { jobs, seed, rates, drainTimeoutSeconds: drain, out, readme, stackName };
}

if (require.main === module) {
  (async () => {
    const cli = parseArgs(process.argv.slice(2));
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint)
      throw new Error('AWS_ENDPOINT_URL is not set: run through `npm run chaos`, which starts LocalStack');
    const results = await runChaos({
      endpoint,
      jobs: cli.jobs,
      seed: cli.seed,
      rates: cli.rates,
      stackName: cli.stackName,
      drainTimeoutSeconds: cli.drainTimeoutSeconds,
    });
    process.stderr.write('\n');
    console.log(formatAudit(results));
    fs.writeFileSync(cli.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), cli.out)}`);
    if (cli.readme && cli.out === DEFAULT_RESULTS) {
      const readme = path.join(__dirname, '..', '..', 'README.md');
      if (writeReadmeBlock(readme, results)) console.log('updated the chaos table in README.md');
    }
    const ok = results.lost === 0 && results.doubleRun === 0 && results.unexpectedOutcome === 0;
    process.exitCode = ok ? 0 : 1;
  })().catch((error: Error) => {
    console.error(`[chaos] failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  });
}
