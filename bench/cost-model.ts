/**
 * The cost model: what one job costs in SQS requests, Lambda time and ledger request units, and
 * what a synthesized JobQueue stack costs per month. Pure functions over a template and the
 * prices in ./prices.ts; `npm run cost` (./cost.ts) prints them, the bench writes the headline
 * figures into results.json, and test/unit/bench/cost.test.ts checks them against ANCHORS.md.
 */
import { ASSUMPTIONS, PRICES } from './prices';

export type LedgerMode = 'strict' | 'optimistic' | 'none';
export const LEDGER_MODES: readonly LedgerMode[] = ['strict', 'optimistic', 'none'];
export type Architecture = 'arm64' | 'x86_64';

/** What one lane's consumer looks like in the template. */
export interface LaneShape {
  readonly name: string;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly memoryMb: number;
  readonly architecture: Architecture;
}

/** The parts of a synthesized stack that cost money. */
export interface StackShape {
  readonly lanes: readonly LaneShape[];
  readonly alarms: number;
  /** Metrics the alarms evaluate (a metric-math alarm pays for each metric it reads). */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  /** The consumers emit per-job-type custom metrics (no consumer has POWERTOOLS_METRICS_DISABLED). */
  readonly jobMetrics: boolean;
  /** The consumers' POWERTOOLS_LOG_LEVEL (INFO when unset). */
  readonly consumerLogLevel: string;
  readonly schedules: readonly { readonly expression: string; readonly firingsPerMonth: number }[];
  readonly ledger?: { readonly onDemand: boolean; readonly pitr: boolean; readonly ttlSeconds?: number };
}

export interface PerJobOptions {
  readonly batchSize: number;
  readonly memoryMb: number;
  readonly architecture: Architecture;
  readonly mode: LedgerMode;
  /** Billed consumer duration per batch, ms. */
  readonly batchMs?: number;
  readonly jobBytes?: number;
  /** Producer uses SendMessageBatch (10 per request) rather than one SendMessage per job. */
  readonly batchedSends?: boolean;
  readonly fifo?: boolean;
  readonly ledgerItemBytes?: number;
}

export interface PerMillion {
  readonly sqsRequestsPerJob: number;
  readonly writeUnitsPerJob: number;
  readonly readUnitsPerJob: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly sqsUSD: number;
  readonly lambdaUSD: number;
  readonly dynamodbUSD: number;
  /** SQS + Lambda + DynamoDB requests: the ANCHORS.md definition of cost per million jobs. */
  readonly totalUSD: number;
}

/** Ledger request units per job on the happy path (a new job that succeeds first time). */
export function ledgerUnitsPerJob(
  mode: LedgerMode,
  itemBytes: number = ASSUMPTIONS.ledgerItemBytes,
): { writes: number; reads: number } {
  const w = Math.max(1, Math.ceil(itemBytes / PRICES.dynamodb.writeUnitBytes));
  const r = Math.max(1, Math.ceil(itemBytes / PRICES.dynamodb.readUnitBytes));
  if (mode === 'strict') return { writes: 2 * w, reads: 0 }; // claim + complete
  if (mode === 'optimistic') return { writes: w, reads: r }; // consistent GetItem + one write
  return { writes: 0, reads: 0 };
}

/** Cost of one million jobs through one lane. */
export function perMillionJobs(o: PerJobOptions): PerMillion {
  const jobs = 1_000_000;
  const jobBytes = o.jobBytes ?? ASSUMPTIONS.jobBytes;
  const batchMs = o.batchMs ?? ASSUMPTIONS.batchMs;
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / PRICES.sqs.billedChunkBytes));
  // Sends: one request per job, or per 10 jobs (each request billed per started 64 KB).
  const sendsPerJob = o.batchedSends === false ? chunks(jobBytes) : chunks(10 * jobBytes) / 10;
  // The event source receives and deletes at most 10 messages per request.
  const perPoll = Math.min(10, o.batchSize);
  const receivesPerJob = chunks(perPoll * jobBytes) / perPoll;
  const deletesPerJob = 1 / perPoll;
  const sqsRequestsPerJob = sendsPerJob + receivesPerJob + deletesPerJob;
  const sqsPrice = o.fifo ? PRICES.sqs.fifoPerMillionRequests : PRICES.sqs.standardPerMillionRequests;
  const sqsUSD = sqsRequestsPerJob * sqsPrice;

  const lambdaInvocations = jobs / o.batchSize;
  const lambdaGbSeconds = lambdaInvocations * (batchMs / 1000) * (o.memoryMb / 1024);
  const lambdaUSD =
    (lambdaInvocations / 1e6) * PRICES.lambda.perMillionRequests +
    lambdaGbSeconds * PRICES.lambda.perGbSecond[o.architecture];

  const units = ledgerUnitsPerJob(o.mode, o.ledgerItemBytes);
  const dynamodbUSD =
    units.writes * PRICES.dynamodb.perMillionWriteUnits + units.reads * PRICES.dynamodb.perMillionReadUnits;

  return {
    sqsRequestsPerJob,
    writeUnitsPerJob: units.writes,
    readUnitsPerJob: units.reads,
    lambdaInvocations,
    lambdaGbSeconds,
    sqsUSD,
    lambdaUSD,
    dynamodbUSD,
    totalUSD: sqsUSD + lambdaUSD + dynamodbUSD,
  };
}

/** Log ingestion per million jobs: consumer lines per job plus Lambda's platform lines per invocation. */
export function logsPerMillionUSD(logBytesPerJob: number, batchSize: number): number {
  const bytes = 1e6 * logBytesPerJob + (1e6 / batchSize) * ASSUMPTIONS.platformLogBytesPerInvocation;
  return (bytes / 1024 ** 3) * PRICES.cloudwatch.logsIngestionPerGb;
}

export interface MonthlyLine {
  readonly item: string;
  readonly detail: string;
  readonly usd: number;
  readonly kind: 'per-job' | 'fixed';
  /** Alarms, dashboards and custom metrics: what `monitoringProfile` decides. */
  readonly monitoring?: boolean;
}

/** What the monitoring lines of a monthly bill add up to (alarms, dashboards, custom metrics). */
export function monitoringMonthlyUSD(lines: readonly MonthlyLine[]): number {
  return lines.filter((l) => l.monitoring).reduce((sum, l) => sum + l.usd, 0);
}

/** What the fixed lines of a monthly bill add up to (monitoring, idle polling, schedules). */
export function fixedMonthlyUSD(lines: readonly MonthlyLine[]): number {
  return lines.filter((l) => l.kind === 'fixed').reduce((sum, l) => sum + l.usd, 0);
}

export interface MonthlyOptions {
  readonly jobsPerMonth: number;
  readonly mode: LedgerMode;
  /** Lane the jobs go through; default: the first standard lane. */
  readonly lane?: string;
  readonly batchMs?: number;
  readonly jobBytes?: number;
  readonly batchedSends?: boolean;
  readonly ledgerItemBytes?: number;
  readonly logBytesPerJob?: number;
  /** Job types in the registry (custom metrics are per type). */
  readonly jobTypes?: number;
}

/** A monthly bill for the stack at a given volume, line by line. */
export function monthlyBreakdown(shape: StackShape, o: MonthlyOptions): MonthlyLine[] {
  const lane = pickLane(shape, o.lane);
  const m = o.jobsPerMonth / 1e6;
  const per = perMillionJobs({
    batchSize: lane.batchSize,
    memoryMb: lane.memoryMb,
    architecture: lane.architecture,
    mode: o.mode,
    batchMs: o.batchMs,
    jobBytes: o.jobBytes,
    batchedSends: o.batchedSends,
    fifo: lane.fifo,
    ledgerItemBytes: o.ledgerItemBytes,
  });
  const itemBytes = o.ledgerItemBytes ?? ASSUMPTIONS.ledgerItemBytes;
  const logBytes = o.logBytesPerJob ?? defaultLogBytesPerJob(shape);
  const lines: MonthlyLine[] = [
    {
      item: 'SQS requests',
      detail: `${fmt(per.sqsRequestsPerJob)} requests/job (${o.batchedSends === false ? 'single' : 'batched'} sends, receive + delete per ${Math.min(10, lane.batchSize)})`,
      usd: m * per.sqsUSD,
      kind: 'per-job',
    },
    {
      item: 'Lambda',
      detail: `${fmt(m * per.lambdaInvocations)} invocations, ${fmt(m * per.lambdaGbSeconds)} GB-s (${lane.memoryMb} MB ${lane.architecture}, ${o.batchMs ?? ASSUMPTIONS.batchMs} ms/batch of ${lane.batchSize})`,
      usd: m * per.lambdaUSD,
      kind: 'per-job',
    },
    {
      item: `DynamoDB ledger (${o.mode})`,
      detail: `${per.writeUnitsPerJob} write + ${per.readUnitsPerJob} read units/job, on demand`,
      usd: m * per.dynamodbUSD,
      kind: 'per-job',
    },
    {
      item: 'CloudWatch Logs',
      detail: `${logBytes} B/job + ${ASSUMPTIONS.platformLogBytesPerInvocation} B/invocation ingested`,
      usd: m * logsPerMillionUSD(logBytes, lane.batchSize),
      kind: 'per-job',
    },
  ];
  if (shape.ledger && o.mode !== 'none') {
    // Items live for the TTL after their last write: a steady state of jobs/month × TTL/month items.
    const months = Math.min(1, (shape.ledger.ttlSeconds ?? 30 * 86400) / (ASSUMPTIONS.hoursPerMonth * 3600));
    const gb = (o.jobsPerMonth * months * itemBytes) / 1024 ** 3;
    const perGb =
      PRICES.dynamodb.storagePerGbMonth + (shape.ledger.pitr ? PRICES.dynamodb.pitrPerGbMonth : 0);
    lines.push({
      item: 'DynamoDB storage',
      detail: `${fmt(gb)} GB of ${itemBytes}-B items${shape.ledger.pitr ? ' + PITR' : ''}`,
      usd: gb * perGb,
      kind: 'per-job',
    });
  }
  const pollRequests =
    shape.lanes.length *
    ASSUMPTIONS.idlePollersPerLane *
    ((ASSUMPTIONS.hoursPerMonth * 3600) / ASSUMPTIONS.longPollSeconds);
  lines.push(
    {
      item: 'SQS idle long polling',
      detail: `${shape.lanes.length} lanes × ${ASSUMPTIONS.idlePollersPerLane} pollers (upper bound, when idle)`,
      usd: (pollRequests / 1e6) * PRICES.sqs.standardPerMillionRequests,
      kind: 'fixed',
    },
    {
      item: 'CloudWatch alarms',
      detail: `${shape.alarms} alarms reading ${shape.alarmMetrics} metrics`,
      usd: shape.alarmMetrics * PRICES.cloudwatch.alarmMetricPerMonth,
      kind: 'fixed',
      monitoring: true,
    },
    {
      item: 'CloudWatch dashboards',
      detail: `${shape.dashboards}`,
      usd: shape.dashboards * PRICES.cloudwatch.dashboardPerMonth,
      kind: 'fixed',
      monitoring: true,
    },
  );
  if (o.jobTypes !== undefined && shape.jobMetrics) {
    const metrics = o.jobTypes * ASSUMPTIONS.metricsPerJobType;
    lines.push({
      item: 'Custom metrics (EMF)',
      detail: `${o.jobTypes} job types × ${ASSUMPTIONS.metricsPerJobType} metrics (upper bound: only emitted ones bill)`,
      usd: metrics * PRICES.cloudwatch.customMetricPerMonth,
      kind: 'fixed',
      monitoring: true,
    });
  }
  const firings = shape.schedules.reduce((sum, s) => sum + s.firingsPerMonth, 0);
  lines.push({
    item: 'EventBridge Scheduler',
    detail: `${shape.schedules.length} schedules, ~${fmt(firings)} firings/month`,
    usd: (firings / 1e6) * PRICES.scheduler.perMillionInvocations,
    kind: 'fixed',
  });
  return lines;
}

/** Log bytes per job the stack's consumers write on the happy path, from their log level and metrics. */
export function defaultLogBytesPerJob(shape: Pick<StackShape, 'consumerLogLevel' | 'jobMetrics'>): number {
  const bytes = ASSUMPTIONS.logBytesPerJobByLevel;
  if (shape.consumerLogLevel === 'DEBUG') return bytes.debug;
  return shape.jobMetrics ? bytes.infoWithMetrics : bytes.infoWithoutMetrics;
}

function pickLane(shape: StackShape, name?: string): LaneShape {
  if (shape.lanes.length === 0)
    throw new Error('the template has no JobQueue consumer (no function with JOBS_LANE)');
  if (name !== undefined) {
    const lane = shape.lanes.find((l) => l.name === name);
    if (!lane)
      throw new Error(
        `lane '${name}' is not in the template; lanes: ${shape.lanes.map((l) => l.name).join(', ')}`,
      );
    return lane;
  }
  return shape.lanes.find((l) => !l.fifo) ?? shape.lanes[0];
}

// ---------------------------------------------------------------------------------- template

type Resource = { Type: string; Properties?: Record<string, unknown> };
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}

const refOf = (value: unknown): string | undefined =>
  value && typeof value === 'object' && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined;

/** Reads lanes, batch sizes, memory, architecture, alarms, dashboards, schedules and the ledger. */
export function readStackShape(template: CfnTemplate): StackShape {
  const resources = template.Resources ?? {};
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const lanes: LaneShape[] = [];
  let ttlSeconds: number | undefined;
  let jobMetrics = false;
  let consumerLogLevel = 'INFO';
  for (const [id, fn] of byType('AWS::Lambda::Function')) {
    const p = fn.Properties ?? {};
    const env = ((p.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {}) as Record<
      string,
      unknown
    >;
    if (typeof env.JOBS_LANE !== 'string') continue;
    const esm = byType('AWS::Lambda::EventSourceMapping').find(
      ([, r]) => refOf(r.Properties?.FunctionName) === id,
    );
    const queueId = refOf(env.JOBS_QUEUE_URL);
    const queue = queueId ? resources[queueId] : undefined;
    const archs = (p.Architectures as string[] | undefined) ?? ['x86_64'];
    lanes.push({
      name: env.JOBS_LANE,
      fifo: queue?.Properties?.FifoQueue === true || env.JOBS_FIFO === 'true',
      batchSize: Number(esm?.[1].Properties?.BatchSize ?? 10),
      memoryMb: Number(p.MemorySize ?? 128),
      architecture: archs[0] === 'arm64' ? 'arm64' : 'x86_64',
    });
    if (typeof env.JOBS_LEDGER_TTL_SECONDS === 'string') ttlSeconds = Number(env.JOBS_LEDGER_TTL_SECONDS);
    if (env.POWERTOOLS_METRICS_DISABLED !== 'true') jobMetrics = true;
    if (typeof env.POWERTOOLS_LOG_LEVEL === 'string') consumerLogLevel = env.POWERTOOLS_LOG_LEVEL;
  }
  const alarms = byType('AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((sum, [, a]) => {
    const metrics = a.Properties?.Metrics as { MetricStat?: unknown }[] | undefined;
    return sum + (metrics ? Math.max(1, metrics.filter((m) => m.MetricStat).length) : 1);
  }, 0);
  const schedules = byType('AWS::Scheduler::Schedule')
    .filter(([, s]) => s.Properties?.State !== 'DISABLED')
    .map(([, s]) => {
      const expression = String(s.Properties?.ScheduleExpression ?? '');
      return { expression, firingsPerMonth: firingsPerMonth(expression) };
    });
  const tables = byType('AWS::DynamoDB::Table');
  const table = tables[0]?.[1].Properties;
  return {
    lanes,
    alarms: alarms.length,
    alarmMetrics,
    dashboards: byType('AWS::CloudWatch::Dashboard').length,
    jobMetrics,
    consumerLogLevel,
    schedules,
    ledger: table
      ? {
          onDemand: table.BillingMode === 'PAY_PER_REQUEST',
          pitr:
            (table.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined)
              ?.PointInTimeRecoveryEnabled === true,
          ttlSeconds,
        }
      : undefined,
  };
}

/** Approximate firings per month of a Scheduler expression: rate(), cron() or a one-time at(). */
export function firingsPerMonth(expression: string): number {
  const minutesPerMonth = ASSUMPTIONS.hoursPerMonth * 60;
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2].startsWith('minute') ? 1 : rate[2].startsWith('hour') ? 60 : 1440;
    return minutesPerMonth / (n * unit);
  }
  if (expression.startsWith('at(')) return 1;
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) return 0;
  const [min, hour, dom, , dow] = cron[1].split(/\s+/);
  const count = (field: string, range: number) => {
    if (field === '*' || field === '?') return range;
    const step = /^(?:\*|\d+)\/(\d+)$/.exec(field);
    if (step) return Math.ceil(range / Number(step[1]));
    return field.split(',').reduce((sum, part) => {
      const span = /^(\d+)-(\d+)$/.exec(part);
      return sum + (span ? Number(span[2]) - Number(span[1]) + 1 : 1);
    }, 0);
  };
  const daysPerMonth = (ASSUMPTIONS.hoursPerMonth / 24) as number;
  const days =
    dom !== '?' && dom !== '*'
      ? count(dom, 31) * (daysPerMonth / 31)
      : dow !== '?' && dow !== '*'
        ? count(dow.replace(/[A-Z]{3}/g, '1'), 7) * (daysPerMonth / 7)
        : daysPerMonth;
  return count(min, 60) * count(hour, 24) * days;
}

export function fmt(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) >= 100) return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (Math.abs(n) >= 1) return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return n.toPrecision(2);
}
