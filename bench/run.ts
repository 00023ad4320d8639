/**
 * `npm run bench` (via scripts/bench.sh): every benchmark side by side in one run, then
 * bench/results.json (figures for tools), bench/results.md (tables for humans) and the README's
 * performance section (between the bench markers). Timings are reported as ratios against a
 * baseline measured in the same run: the machine is shared and noisy.
 *
 * Env: DYNAMODB_ENDPOINT (required; scripts/bench.sh starts DynamoDB Local), BENCH_BATCHES (batches
 * per consumer scenario, default 200), BENCH_PROCESSES (fresh processes per cold-start variant,
 * default 30), BENCH_E2E_JOBS (jobs per path per end-to-end round, default 300), BENCH_E2E_ROUNDS
 * (end-to-end rounds of ours, hand-wired and the floor, default 5), BENCH_STACK (the end-to-end
 * comparison stack's name, default SqsJobsBenchE2e), BENCH_SKIP_E2E=1,
 * BENCH_ENQUEUE_JOBS (default 300), BENCH_FEATURE_BATCHES (batches per part-6 scenario, default 20),
 * BENCH_WORK_DIR (scratch, default $TMPDIR/sqs-jobs-bench),
 * BENCH_CONSUMER_RUNS (runs of part 1, each row is their median; default 5), BENCH_ONLY=render
 * (bench/results.md and the README block again from bench/results.json and bench/NOTES.md, no
 * measurement), BENCH_ONLY=consumer
 * (part 1 only: prints its ratios and writes $BENCH_WORK_DIR/consumer-overhead.json, leaves
 * bench/results.* and the README alone).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CONSUMER_RUNTIME, esbuildTarget } from '../lib/private/job-lane';
import { type ColdStartResult, measureColdStart } from './cold-start';
import {
  type ConsumerOverheadResult,
  measureConsumerOverhead,
  measureConsumerOverheadRuns,
  medianRatios,
  overheadRatio,
  type RunRatios,
  type ScenarioResult,
} from './consumer-overhead';
import { costReport, registryModes } from './cost';
import { type CfnTemplate, logsPerMillionUSD, perMillionJobs, readStackShape } from './cost-model';
import { type E2eResult, measureE2e, type PathName } from './e2e';
import { type EnqueueResult, measureEnqueue } from './enqueue';
import {
  type FeatureCostFigures,
  type FeatureCostsResult,
  featureCostFigures,
  measureFeatureCosts,
} from './feature-costs';
import { README, RESULTS_JSON, RESULTS_MD, WORK_DIR } from './lib/paths';
import { withBenchBlock } from './lib/readme-block';
import { round } from './lib/stats';
import { synthExampleTemplate } from './lib/synth';
import { PRICES } from './prices';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const progress = (part: string) => (line: string) =>
  process.stderr.write(`[bench ${elapsed()}] ${part}: ${line}\n`);
const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};

interface Goal {
  readonly key: string;
  readonly description: string;
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean | null;
  /** How far from the target, in the value's unit (positive = worse), or null when met or unmeasured. */
  readonly missedBy: number | null;
  readonly note?: string;
}

function goal(
  key: string,
  description: string,
  value: number | null | undefined,
  op: '<=' | '>=' | 'report',
  target: number | null,
  note?: string,
): Goal {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value, 3);
  if (op === 'report' || target === null) {
    return {
      key,
      description,
      target: 'as low as the design allows (reported)',
      value: v,
      met: null,
      missedBy: null,
      note,
    };
  }
  const met = v === null ? null : op === '<=' ? v <= target : v >= target;
  const missedBy = v === null || met ? null : round(op === '<=' ? v - target : target - v, 3);
  return { key, description, target: `${op === '<=' ? '≤' : '≥'} ${target}`, value: v, met, missedBy, note };
}

const find = (r: ConsumerOverheadResult, impl: ScenarioResult['implementation'], rate: number) =>
  r.scenarios.find((s) => s.implementation === impl && s.duplicateRate === rate);

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'render') return renderOnly();
  const endpoint = prepare();
  progress('synth')('synthesizing the example stack in-process (bundles the consumers with esbuild) ...');
  const template: CfnTemplate = synthExampleTemplate();
  if (process.env.BENCH_ONLY === 'consumer') return consumerOnly(endpoint, template);
  const measured = await measureParts(endpoint, template);
  const features = await measureFeatures(endpoint, template);
  progress('5 cost')('cost model over the synthesized template');
  const cost = await costFigures(template, measured.consumer, features.figures.logBytesPerJob);
  const bundling = bundlingDefault(measured.coldStart);
  const goals = [...goalsOf(measured, cost, bundling), ...featureGoalsOf(cost, features.figures)];
  const results = { ...resultsOf(goals, measured, cost, bundling), featureCosts: features };
  writeOutputs(results, goals);
  printGoals(goals);
}

/** Runs of part 1 behind its figures (1 without `runs`). */
function runCount(c: ConsumerOverheadResult): number {
  return c.runs && c.runs.length > 0 ? c.runs.length / new Set(c.runs.map((x) => x.duplicateRate)).size : 1;
}

/** A row's ratios against Powertools: the median of the per-run ratios (`medianRatios`). */
function ratioOf(
  c: ConsumerOverheadResult,
  s: ScenarioResult,
): { readonly p50: number; readonly cpu: number } {
  if (s.implementation === 'powertools') return { p50: 1, cpu: 1 };
  const row = medianRatios(c).find((x) => x.duplicateRate === s.duplicateRate) as RunRatios | undefined;
  if (s.implementation === 'powertoolsSameClient') {
    return {
      p50: row?.powertoolsSameClientP50Ratio ?? Number.NaN,
      cpu: row?.powertoolsSameClientCpuRatio ?? Number.NaN,
    };
  }
  const strict = s.implementation === 'oursStrict';
  return {
    p50: (strict ? row?.strictP50Ratio : row?.optimisticP50Ratio) ?? Number.NaN,
    cpu: (strict ? row?.strictCpuRatio : row?.optimisticCpuRatio) ?? Number.NaN,
  };
}

/** DynamoDB Local's endpoint (required), the scratch directory and test credentials. */
function prepare(): string {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error(
      'DYNAMODB_ENDPOINT is not set: run `npm run bench` (scripts/bench.sh starts DynamoDB Local)',
    );
  fs.mkdirSync(WORK_DIR, { recursive: true });
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  return endpoint;
}

interface Measured {
  readonly consumer: ConsumerOverheadResult;
  readonly consumerCpu: ConsumerOverheadResult;
  readonly coldStart: ColdStartResult;
  readonly enqueue: EnqueueResult;
  readonly e2e: E2eResult;
}

/** Parts 1 to 4, in the order they have always run: 1, 2, 4, then 3 (end to end). */
async function measureParts(endpoint: string, template: CfnTemplate): Promise<Measured> {
  const { consumer, consumerCpu } = await measureConsumer(endpoint, template);
  const processes = envInt('BENCH_PROCESSES', 30);
  progress('2 cold start')(`6 bundles, ${processes} fresh processes each`);
  const coldStart = await measureColdStart({ template, processes, progress: progress('2 cold start') });
  progress('4 enqueue')('enqueue vs enqueueBatch');
  const enqueue = await measureEnqueue({
    ddbEndpoint: endpoint,
    jobs: envInt('BENCH_ENQUEUE_JOBS', 300),
    repetitions: 3,
    progress: progress('4 enqueue'),
  });
  const e2e = await measureEndToEnd();
  return { consumer, consumerCpu, coldStart, enqueue, e2e };
}

/** BENCH_ONLY=consumer: part 1 alone, its ratios on stderr and its figures in the scratch directory. */
async function consumerOnly(endpoint: string, template: CfnTemplate): Promise<void> {
  const { consumer, consumerCpu } = await measureConsumer(endpoint, template);
  const out = path.join(WORK_DIR, 'consumer-overhead.json');
  fs.writeFileSync(out, `${JSON.stringify({ consumer, consumerCpu }, null, 2)}\n`);
  for (const s of consumer.scenarios) {
    const r = ratioOf(consumer, s);
    process.stderr.write(
      `  ${s.implementation} ${s.duplicateRate * 100}%: p50 ${f(s.p50BatchMs)} ms (ratio ${f(r.p50, 3)}), cpu ${f(s.cpuMsPerJob, 3)} ms/job (ratio ${f(r.cpu, 3)})\n`,
    );
  }
  const headline = overheadRatio(consumer);
  const sameClient = overheadRatio(consumer, (row) => row.strictP50RatioSameClient);
  process.stderr.write(
    `  consumerOverheadRatioVsPowertools ${f(headline.value, 3)} (worst row: ${headline.duplicateRate * 100}% duplicates; goal ≤ 1.0, ${headline.value <= 1 ? 'met' : 'MISSED'}); with Powertools on our client settings too: ${f(sameClient.value, 3)} (worst row: ${sameClient.duplicateRate * 100}%)\n`,
  );
  progress('done')(`wrote ${out}`);
}

/** Part 1 on DynamoDB Local, then the same consumers with DynamoDB stubbed out (CPU only). */
async function measureConsumer(
  endpoint: string,
  template: CfnTemplate,
): Promise<{ consumer: ConsumerOverheadResult; consumerCpu: ConsumerOverheadResult }> {
  const batches = envInt('BENCH_BATCHES', 200);
  const runs = envInt('BENCH_CONSUMER_RUNS', 5);
  progress('1 consumer')(
    `${batches} batches of 10 per scenario on DynamoDB Local (${endpoint}), ${runs} runs (median per row)`,
  );
  const consumer = await measureConsumerOverheadRuns({
    endpoint,
    template,
    batches,
    warmup: 20,
    runs,
    progress: progress('1 consumer'),
  });
  progress('1 consumer')('CPU only: the same consumers with DynamoDB stubbed out');
  const consumerCpu = await measureConsumerOverhead({
    endpoint: 'stub',
    template,
    batches: batches * 2,
    warmup: 50,
    duplicateRates: [0],
    progress: progress('1 consumer cpu'),
  });
  return { consumer, consumerCpu };
}

/** Part 3, unless BENCH_SKIP_E2E=1. */
async function measureEndToEnd(): Promise<E2eResult> {
  if (process.env.BENCH_SKIP_E2E === '1') return { measured: false, reason: 'BENCH_SKIP_E2E=1' };
  progress('3 e2e')('end to end on LocalStack');
  const e2e = await measureE2e({
    jobs: envInt('BENCH_E2E_JOBS', 300),
    rounds: envInt('BENCH_E2E_ROUNDS', 5),
    deployTimeoutMs: 420_000,
    drainTimeoutMs: 180_000,
    progress: progress('3 e2e'),
  });
  if (!e2e.measured) progress('3 e2e')(`not measured: ${e2e.reason}`);
  return e2e;
}

interface CostFigures {
  readonly report: ReturnType<typeof costReport>;
  readonly lane: ReturnType<typeof readStackShape>['lanes'][number];
  readonly logBytes: number;
  readonly costStrict: number;
  readonly costOptimistic: number;
  readonly logsUSD: number;
}

/**
 * Part 6: request units per ledger mode and feature, log bytes per job by log level, and the
 * example stack's fixed monthly cost under each monitoring profile (a second, lean synth).
 */
async function measureFeatures(
  endpoint: string,
  template: CfnTemplate,
): Promise<{ measured: FeatureCostsResult; figures: FeatureCostFigures }> {
  progress('6 feature costs')('ledger features and log levels on DynamoDB Local; lean monitoring synth');
  const measured = await measureFeatureCosts({
    endpoint,
    template,
    batches: envInt('BENCH_FEATURE_BATCHES', 20),
    progress: progress('6 feature costs'),
  });
  const lean = synthExampleTemplate(path.join(WORK_DIR, 'cdk.out.lean'), { monitoringProfile: 'lean' });
  const modes = await registryModes(path.join(__dirname, '..', 'bin', 'jobs.ts'));
  const figures = featureCostFigures(measured, { full: template, lean }, modes && Object.keys(modes).length);
  return { measured, figures };
}

/**
 * Part 5: the cost model over the template, with the ledger units measured in part 1 and the log
 * bytes measured in part 6 (stdout and stderr, at the stack's log level; part 1's as a fallback).
 */
async function costFigures(
  template: CfnTemplate,
  consumer: ConsumerOverheadResult,
  measuredLogBytes?: number,
): Promise<CostFigures> {
  const strict0 = find(consumer, 'oursStrict', 0);
  const optimistic0 = find(consumer, 'oursOptimistic', 0);
  const logBytes = measuredLogBytes ?? strict0?.logBytesPerJob ?? 512;
  const report = costReport(template, {
    jobsPerMonth: 1_000_000,
    modes: ['strict', 'optimistic', 'none'],
    batchedSends: true,
    logBytes,
    registryModes: await registryModes(path.join(__dirname, '..', 'bin', 'jobs.ts')),
    lane: 'high',
  });
  const lane =
    readStackShape(template).lanes.find((l) => l.name === 'high') ?? readStackShape(template).lanes[0];
  // The headline cost uses the ledger units measured in part 1 (0 % duplicates), not the model's.
  const measuredCost = (units: ScenarioResult | undefined, mode: 'strict' | 'optimistic') => {
    const base = perMillionJobs({
      batchSize: lane.batchSize,
      memoryMb: lane.memoryMb,
      architecture: lane.architecture,
      mode,
    });
    if (!units) return base.totalUSD;
    const ddb =
      units.writeUnitsPerJob * PRICES.dynamodb.perMillionWriteUnits +
      units.readUnitsPerJob * PRICES.dynamodb.perMillionReadUnits;
    return base.sqsUSD + base.lambdaUSD + ddb;
  };
  return {
    report,
    lane,
    logBytes,
    costStrict: measuredCost(strict0, 'strict'),
    costOptimistic: measuredCost(optimistic0, 'optimistic'),
    logsUSD: logsPerMillionUSD(logBytes, lane.batchSize),
  };
}

interface Bundling {
  readonly bundleAwsSdk: boolean;
  readonly chosen: 'bundled' | 'external';
  readonly initRatio: number;
  readonly oursExt: ColdStartResult['bundles'][number] | undefined;
  readonly oursBun: ColdStartResult['bundles'][number] | undefined;
}

/** Bundling default: the SDK mode whose consumer initialises faster. */
function bundlingDefault(coldStart: ColdStartResult): Bundling {
  const bundle = (variant: string, sdk: string) =>
    coldStart.bundles.find((b) => b.variant === variant && b.sdk === sdk);
  const oursExt = bundle('ours', 'external');
  const oursBun = bundle('ours', 'bundled');
  const bundleAwsSdk = (oursBun?.initMedianMs ?? Infinity) < (oursExt?.initMedianMs ?? Infinity);
  const chosen = bundleAwsSdk ? 'bundled' : 'external';
  const initRatio =
    (bundle('ours', chosen)?.initMedianMs ?? Number.NaN) /
    (bundle('empty', chosen)?.initMedianMs ?? Number.NaN);
  return { bundleAwsSdk, chosen, initRatio, oursExt, oursBun };
}

/** Why an end-to-end goal has no figure: the part was not measured, or no round of a path was clean. */
function e2eNote(e2e: E2eResult): string | undefined {
  if (!e2e.measured) return `not measured: ${e2e.reason}`;
  const noClean = Object.entries(e2e.paths ?? {}).filter(([, p]) => p.cleanRounds === 0);
  return noClean.length > 0 ? `no clean round of ${noClean.map(([name]) => name).join(', ')}` : undefined;
}

function goalsOf(m: Measured, cost: CostFigures, bundling: Bundling): Goal[] {
  const strict0 = find(m.consumer, 'oursStrict', 0);
  const optimistic0 = find(m.consumer, 'oursOptimistic', 0);
  const overhead = overheadRatio(m.consumer);
  const sameClient = overheadRatio(m.consumer, (row) => row.strictP50RatioSameClient);
  const runs = runCount(m.consumer);
  const e2e = m.e2e;
  return [
    goal(
      'consumerOverheadRatioVsPowertools',
      `our p50 per batch / Powertools p50, strict: the worst duplicate-rate row (${overhead.duplicateRate * 100} % here) of the medians of ${runs} per-run ratios`,
      overhead.value,
      '<=',
      1.0,
    ),
    goal(
      'consumerOverheadRatioVsPowertoolsSameClient',
      `as consumerOverheadRatioVsPowertools, with Powertools on our SDK client settings too (worst row: ${sameClient.duplicateRate * 100} %): the consumers alone`,
      sameClient.value,
      'report',
      null,
    ),
    goal('writesPerJobStrict', 'write units per job, strict (measured)', strict0?.writeUnitsPerJob, '<=', 2),
    goal(
      'writesPerJobOptimistic',
      'write units per job, optimistic (measured)',
      optimistic0?.writeUnitsPerJob,
      '<=',
      1,
    ),
    goal(
      'readsPerJobOptimistic',
      'read units per job, optimistic (measured)',
      optimistic0?.readUnitsPerJob,
      '<=',
      1,
    ),
    goal(
      'costPerMillionStrictUSD',
      'USD per million jobs, strict, example stack defaults',
      cost.costStrict,
      '<=',
      1.45,
    ),
    goal(
      'costPerMillionOptimisticUSD',
      'USD per million jobs, optimistic, example stack defaults',
      cost.costOptimistic,
      '<=',
      0.95,
    ),
    goal(
      'e2eThroughputRatioVsHandWired',
      'jobs/s through our lane / through the hand-wired SQS + Lambda + Powertools consumer (LocalStack, same stack)',
      e2e.measured ? e2e.ratios?.throughputVsHandWired : null,
      '>=',
      1.0,
      e2eNote(e2e),
    ),
    goal(
      'consumerCpuPerJobRatioVsHandWired',
      'CPU ms per job of our consumer processes / of the hand-wired ones during the drain (LocalStack)',
      e2e.measured ? e2e.ratios?.cpuPerJobVsHandWired : null,
      '<=',
      1.0,
      e2eNote(e2e),
    ),
    goal(
      'e2eThroughputRatioVsFloor',
      'jobs/s through our lane / a bare receive → same two ledger writes → delete loop (LocalStack)',
      e2e.measured ? e2e.ratios?.throughputVsFloor : null,
      'report',
      null,
      e2eNote(e2e),
    ),
    goal(
      'initTimeRatioVsEmptyHandler',
      `our consumer's init / an empty handler loading the same SDK clients (SDK ${bundling.chosen})`,
      bundling.initRatio,
      'report',
      null,
    ),
  ];
}

/** Issue 16 goals: cost per million with logs, and the monitoring bill of each profile. */
function featureGoalsOf(cost: CostFigures, features: FeatureCostFigures): Goal[] {
  return [
    goal(
      'costPerMillionStrictWithLogsUSD',
      'USD per million jobs, strict, with the consumer logs at the default level (measured bytes)',
      cost.costStrict + cost.logsUSD,
      '<=',
      1.5,
    ),
    goal(
      'costPerMillionOptimisticWithLogsUSD',
      'USD per million jobs, optimistic, with the consumer logs at the default level (measured bytes)',
      cost.costOptimistic + cost.logsUSD,
      '<=',
      1.0,
    ),
    goal(
      'leanMonitoringMonthlyUSD',
      `USD per month of alarms, dashboards and custom metrics, example stack, monitoringProfile 'lean' (${features.alarms.lean} alarms)`,
      features.monitoringMonthlyUSD.lean,
      '<=',
      5,
    ),
    goal(
      'fullMonitoringMonthlyUSD',
      `USD per month of alarms, dashboards and custom metrics, example stack, monitoringProfile 'full' (${features.alarms.full} alarms, custom metrics at their upper bound)`,
      features.monitoringMonthlyUSD.full,
      'report',
      null,
    ),
  ];
}

/** What bench/results.json holds (its keys in this order). */
function resultsOf(goals: Goal[], m: Measured, cost: CostFigures, bundling: Bundling) {
  const { oursExt, oursBun } = bundling;
  return {
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
    ...Object.fromEntries(goals.map((g) => [g.key, g.value])),
    goals: Object.fromEntries(goals.map(({ key, ...g }) => [key, g])),
    bundlingDefault: {
      bundleAwsSdk: bundling.bundleAwsSdk,
      oursExternalInitMs: oursExt?.initMedianMs,
      oursBundledInitMs: oursBun?.initMedianMs,
      oursExternalGzipBytes: oursExt?.gzipBytes,
      oursBundledGzipBytes: oursBun?.gzipBytes,
    },
    consumerOverhead: m.consumer,
    consumerCpu: m.consumerCpu,
    coldStart: m.coldStart,
    e2e: m.e2e,
    enqueue: m.enqueue,
    cost: {
      lane: cost.lane.name,
      logBytesPerJobMeasured: cost.logBytes,
      logsPerMillionUSD: round(cost.logsUSD, 4),
      costPerMillionStrictWithLogsUSD: round(cost.costStrict + cost.logsUSD, 4),
      costPerMillionOptimisticWithLogsUSD: round(cost.costOptimistic + cost.logsUSD, 4),
      report: cost.report,
    },
  };
}

/** bench/results.json, bench/results.md and the README block. */
function writeOutputs(results: ReturnType<typeof resultsOf>, goals: Goal[]): void {
  fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
  const md = renderMarkdown(results as unknown as Results, goals);
  fs.writeFileSync(RESULTS_MD, md);
  updateReadme(md);
  progress('done')(
    `wrote ${path.relative(process.cwd(), RESULTS_JSON)}, ${path.relative(process.cwd(), RESULTS_MD)} and the README block`,
  );
}

/**
 * BENCH_ONLY=render: bench/results.md and the README block again from bench/results.json and
 * bench/NOTES.md, measuring nothing (after editing the notes).
 */
function renderOnly(): void {
  const results = JSON.parse(fs.readFileSync(RESULTS_JSON, 'utf8')) as Results & {
    goals: Record<string, Omit<Goal, 'key'>>;
  };
  const goals = Object.entries(results.goals).map(([key, g]) => ({ key, ...g }));
  const md = renderMarkdown(results, goals);
  fs.writeFileSync(RESULTS_MD, md);
  updateReadme(md);
  progress('done')(`rendered ${path.relative(process.cwd(), RESULTS_MD)} and the README block from ${path.relative(process.cwd(), RESULTS_JSON)}`);
}

function printGoals(goals: Goal[]): void {
  for (const g of goals) {
    const status =
      g.met === null
        ? g.value === null
          ? 'UNMEASURED'
          : 'REPORTED'
        : g.met
          ? 'MET'
          : `MISSED by ${g.missedBy}`;
    process.stderr.write(`  ${g.key} = ${g.value ?? '-'} (${g.target}): ${status}\n`);
  }
}

// ------------------------------------------------------------------------------------ report

interface Results {
  generatedAt: string;
  durationSeconds: number;
  machine: { cpus: number; node: string; platform: string };
  bundlingDefault: { bundleAwsSdk: boolean };
  consumerOverhead: ConsumerOverheadResult;
  consumerCpu: ConsumerOverheadResult;
  coldStart: ColdStartResult;
  e2e: E2eResult;
  enqueue: EnqueueResult;
  cost: {
    lane: string;
    logBytesPerJobMeasured: number;
    logsPerMillionUSD: number;
    costPerMillionStrictWithLogsUSD: number;
    costPerMillionOptimisticWithLogsUSD: number;
    report: ReturnType<typeof costReport>;
  };
  featureCosts?: { measured: FeatureCostsResult; figures: FeatureCostFigures };
}

const f = (n: number | undefined | null, digits = 2) =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const IMPL_LABEL = {
  oursStrict: 'sqs-jobs strict',
  oursOptimistic: 'sqs-jobs optimistic',
  powertools: 'Powertools idempotency + batch',
  powertoolsSameClient: 'Powertools, on our client settings',
};

const E2E_PATH_LABEL: Record<PathName, string> = {
  ours: 'ours: JobQueue lane (event source → our consumer → ledger claim + completion → delete)',
  handWired: 'hand-wired: SQS + DLQ, NodejsFunction, Powertools batch + idempotency',
  floor: 'floor: bare loop in the bench process (receive → same two ledger writes → delete)',
};

/** Section 3: per-path table, the rounds (tainted ones with their reasons) and latency. */
function renderE2e(e: E2eResult): string[] {
  if (!e.measured || !e.paths) return [`Not measured: ${e.reason}.`];
  const out = [
    `One stack (\`${e.stackName}\`, deployed from \`bench/handwired\` with cdklocal) holds our JobQueue's \`${e.lane}\` lane and a hand-wired consumer side by side: same memory, timeout, batch size (10), maximum concurrency (${e.concurrency}), redrive and no-op job. ` +
      `Each round sends ${e.jobs} jobs to one path with every other event source mapping disabled, then clocks from enabling its mapping (the floor: starting ${e.concurrency} workers) until its queue is empty; every job is then checked finished (ledger SUCCEEDED / Powertools idempotency record COMPLETED). ` +
      `${e.rounds} rounds in rotating order after a warm-up that starts every execution environment; medians of the clean rounds. CPU is utime + stime of the consumer processes (LocalStack's host executor runs each execution environment as a process; the floor: the bench process), and separately of LocalStack itself (its gateway, event source pollers and DynamoDB Local), which all paths share on this machine. ` +
      'LocalStack figures are not AWS figures: read the ratios.',
    '',
    '| path | jobs/s | CPU ms/job | LocalStack CPU ms/job | clean rounds | tainted | latency p50 / p99 (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of ['ours', 'handWired', 'floor'] as const) {
    const p = e.paths[name];
    const l = e.latencyMs?.[name];
    out.push(
      `| ${E2E_PATH_LABEL[name]} | ${f(p.jobsPerSecond, 1)} | ${f(p.cpuMsPerJob)} | ${f(p.emulatorCpuMsPerJob)} | ${p.cleanRounds} | ${p.taintedRounds} | ${l ? `${l.p50} / ${l.p99}` : '–'} |`,
    );
  }
  const ratios = e.ratios;
  out.push(
    '',
    `Ours / hand-wired: **${f(ratios?.throughputVsHandWired)}×** the jobs/s at **${f(ratios?.cpuPerJobVsHandWired)}×** the CPU per job; ours / floor: ${f(ratios?.throughputVsFloor)}× the jobs/s. ` +
      `Latency: ${e.latencyRate} jobs/s sent for each path in turn with it running, from the send call to the \`doneAt\` the no-op job returned. The part took ${f(e.partSeconds, 0)} s (deploy ${f(e.deploySeconds, 0)} s).`,
    '',
    '| round | path | jobs/s | CPU ms/job | LocalStack CPU ms/job | counted |',
    '|---:|---|---:|---:|---:|---|',
  );
  for (const r of e.perRound ?? []) {
    const counted = r.taint.length === 0 ? 'yes' : `no: ${r.taint.join('; ').replace(/\|/g, '\\|')}`;
    out.push(
      `| ${r.round}${r.attempt > 1 ? ` (try ${r.attempt})` : ''} | ${r.path} | ${f(r.jobsPerSecond, 1)} | ${f(r.cpuMsPerJob)} | ${f(r.emulatorCpuMsPerJob)} | ${counted} |`,
    );
  }
  return out;
}

function renderMarkdown(r: Results, goals: Goal[]): string {
  const out: string[] = [];
  out.push(
    '# Benchmark results',
    '',
    `Measured by \`npm run bench\` on ${r.generatedAt.slice(0, 10)} (${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.platform}; the run took ${Math.round(r.durationSeconds / 60)} min). ` +
      'The machine is shared and noisy: read the ratios (each against a baseline measured in the same run), not the absolute times. Raw figures: `bench/results.json`.',
    '',
    '## Goals',
    '',
    '| goal | target | measured | status |',
    '|---|---|---:|---|',
  );
  for (const g of goals) {
    const status =
      g.met === null
        ? g.value === null
          ? `not measured${g.note ? `: ${g.note.replace(/^not measured: /, '')}` : ''}`
          : 'reported'
        : g.met
          ? 'met'
          : `**missed by ${g.missedBy}**`;
    out.push(`| \`${g.key}\`: ${g.description} | ${g.target} | ${g.value ?? '–'} | ${status} |`);
  }

  const c = r.consumerOverhead;
  out.push(
    '',
    '## 1. Consumer overhead per job',
    '',
    `Batches of ${c.batchSize} no-op jobs, ${c.batchesPerScenario} batches per row after ${c.warmupBatches} warm-up batches, the four consumers (ours strict and optimistic, Powertools on the SDK's default client and on ours) interleaved batch by batch on one DynamoDB Local. ` +
      'Duplicates are re-deliveries of jobs that already finished. Units are DynamoDB request units from ReturnConsumedCapacity; DynamoDB Local reports none for a failed conditional write, so those are counted from the size of the item it returned (1 unit each, items are under 1 KB).',
    '',
    '| consumer | duplicates | p50 ms/batch | p99 ms/batch | ratio p50 vs Powertools | DynamoDB calls/job | write units/job | read units/job | log bytes/job |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of c.scenarios) {
    out.push(
      `| ${IMPL_LABEL[s.implementation]} | ${s.duplicateRate * 100} % | ${f(s.p50BatchMs)} | ${f(s.p99BatchMs)} | ${f(ratioOf(c, s).p50)} | ${f(s.ddbCallsPerJob)} | ${f(s.writeUnitsPerJob)} | ${f(s.readUnitsPerJob)} | ${f(s.logBytesPerJob, 0)} |`,
    );
  }
  if (c.runs && c.runs.length > 0) {
    out.push(
      '',
      `Each row's figures are the medians of ${runCount(c)} runs, and its ratio the median of the ${runCount(c)} per-run ratios (each taken within one run, where the consumers were interleaved). Per run, p50 ratio strict / optimistic vs Powertools (CPU ms per job ratio in brackets): ` +
        c.runs
          .map(
            (x) =>
              `${x.duplicateRate * 100} %: ${f(x.strictP50Ratio)} / ${f(x.optimisticP50Ratio)} (${f(x.strictCpuRatio)} / ${f(x.optimisticCpuRatio)}), strict vs Powertools on our client settings ${f(x.strictP50RatioSameClient)}`,
          )
          .join('; ') +
        '.',
    );
  }
  const cpu = r.consumerCpu;
  const cpuPt = find(cpu, 'powertools', 0);
  out.push(
    '',
    `Where the time goes: the same consumers with DynamoDB replaced by a stub that answers at once (${cpu.batchesPerScenario} batches each) spend ` +
      cpu.scenarios.map((s) => `${IMPL_LABEL[s.implementation]} ${f(s.p50BatchMs)} ms`).join(', ') +
      ` of CPU per batch (p50; ratio strict/Powertools ${f((find(cpu, 'oursStrict', 0)?.p50BatchMs ?? Number.NaN) / (cpuPt?.p50BatchMs ?? Number.NaN))}). ` +
      'Mean DynamoDB Local latency per call at 0 % duplicates (10 calls in flight): ' +
      c.scenarios
        .filter((s) => s.duplicateRate === 0)
        .map(
          (s) =>
            `${IMPL_LABEL[s.implementation]} ${Object.entries(s.ddbMeanMsByCommand)
              .map(([k, v]) => `${k.replace('Command', '')} ${f(v, 1)} ms`)
              .join(', ')}`,
        )
        .join('; ') +
      '. SQS calls the consumers make on this path (visibility changes, DLQ sends) go to a stub client: ' +
      `${c.scenarios.reduce((a, s) => a + s.sqsCallsPerJob * s.jobs, 0)} were made; EventBridge calls (our lifecycle events, one PutEvents per batch on the example stack) go to a stub too: ${c.scenarios.reduce((a, s) => a + (s.eventCallsPerJob ?? 0) * s.jobs, 0)}. Log bytes are what each consumer writes to stdout (its Lambda log) per job.`,
  );

  const cs = r.coldStart;
  const empty = (sdk: string) => cs.bundles.find((b) => b.variant === 'empty' && b.sdk === sdk);
  out.push(
    '',
    '## 2. Cold start',
    '',
    `Bundled with the construct's esbuild options (minify, source map, ${esbuildTarget(DEFAULT_CONSUMER_RUNTIME)}, CommonJS); init = time to \`require()\` the bundle in a fresh \`node\` process with the consumer's environment and \`NODE_OPTIONS=${cs.nodeOptions}\`, median of ${cs.processesPerVariant} processes per row (interleaved). External SDK is resolved through NODE_PATH from node_modules, standing in for the copy in the Lambda runtime.`,
    '',
    '| consumer | AWS SDK | bundle | gzip | source map | init median ms | init p90 ms | ratio vs empty handler |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  const label = {
    ours: 'sqs-jobs consumer (example registry)',
    empty: 'empty handler, same SDK clients',
    powertools: 'Powertools consumer',
  };
  for (const b of cs.bundles) {
    out.push(
      `| ${label[b.variant]} | ${b.sdk} | ${kb(b.rawBytes)} | ${kb(b.gzipBytes)} | ${kb(b.sourceMapBytes)} | ${f(b.initMedianMs, 1)} | ${f(b.initP90Ms, 1)} | ${f(b.initMedianMs / (empty(b.sdk)?.initMedianMs ?? Number.NaN))} |`,
    );
  }

  const ext = cs.bundles.find((b) => b.variant === 'ours' && b.sdk === 'external');
  const bun = cs.bundles.find((b) => b.variant === 'ours' && b.sdk === 'bundled');
  if (ext && bun) {
    const faster = r.bundlingDefault.bundleAwsSdk ? bun : ext;
    const slower = r.bundlingDefault.bundleAwsSdk ? ext : bun;
    out.push(
      '',
      `**Bundling default: \`bundleAwsSdk: ${r.bundlingDefault.bundleAwsSdk}\`** (SDK ${faster.sdk}). Our consumer initialises in ${f(faster.initMedianMs, 1)} ms with the SDK ${faster.sdk} against ${f(slower.initMedianMs, 1)} ms ${slower.sdk} ` +
        `(${f(faster.initMedianMs / slower.initMedianMs)}×), and its deployment package is ${kb(faster.gzipBytes)} gzipped against ${kb(slower.gzipBytes)}. ` +
        (r.bundlingDefault.bundleAwsSdk
          ? 'Bundling wins here because one minified file with only the SDK code the consumer uses loads faster than resolving the full client packages.'
          : 'Leaving `@aws-sdk/*` to the copy in the Lambda runtime wins here: the runtime already has it on disk, so the package stays small and nothing extra is parsed at init; the price is that the SDK version is whatever the runtime ships.'),
    );
  }

  out.push('', '## 3. End to end on LocalStack', '');
  out.push(...renderE2e(r.e2e));

  const q = r.enqueue;
  out.push(
    '',
    '## 4. Enqueue',
    '',
    `${q.jobsPerRun} jobs per run, median of ${q.repetitions} runs; SQS: ${q.sqs === 'localstack' ? 'a LocalStack queue' : 'a local stub (no LocalStack answered: jobs/s measures the client alone)'}; keyed jobs also write their ledger item on DynamoDB Local.` +
      (q.messagesOnQueue !== undefined
        ? ` The queue held ${q.messagesOnQueue} messages for ${q.enqueued} jobs reported enqueued.`
        : ''),
    '',
    '| call | idempotency key | SQS requests/job | DynamoDB requests/job | jobs/s | ratio vs single |',
    '|---|---|---:|---:|---:|---:|',
  );
  const modeLabel = {
    single: '`enqueue`, one at a time',
    single10: '`enqueue`, 10 in flight',
    batch: '`enqueueBatch`',
  };
  for (const s of q.scenarios) {
    const single = q.scenarios.find((x) => x.mode === 'single' && x.keyed === s.keyed);
    out.push(
      `| ${modeLabel[s.mode]} | ${s.keyed ? 'yes' : 'no'} | ${f(s.sqsRequestsPerJob)} | ${f(s.ddbRequestsPerJob)} | ${f(s.jobsPerSecond, 0)} | ${f(s.jobsPerSecond / (single?.jobsPerSecond ?? Number.NaN))} |`,
    );
  }

  const k = r.cost;
  const rep = k.report;
  out.push(
    '',
    '## 5. Cost',
    '',
    `\`npm run cost -- --jobs-per-month N\` over the synthesized example stack (lane \`${k.lane}\`: batch ${rep.stack.lanes.find((l) => l.name === k.lane)?.batchSize}, ${rep.stack.lanes.find((l) => l.name === k.lane)?.memoryMb} MB ${rep.stack.lanes.find((l) => l.name === k.lane)?.architecture}; 100 ms per batch, 1-KB jobs, \`enqueueBatch\`), ${PRICES.region} list prices recorded ${PRICES.recorded} in \`bench/prices.ts\`. Per million jobs:`,
    '',
    '| ledger mode | SQS | Lambda | DynamoDB | **total** | + logs (measured bytes) | fixed per month |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const [mode, m] of Object.entries(rep.modes)) {
    const p = m.perMillion;
    const fixed = m.monthly.filter((l) => l.kind === 'fixed').reduce((a, l) => a + l.usd, 0);
    out.push(
      `| ${mode} | $${f(p.sqsUSD, 3)} | $${f(p.lambdaUSD, 3)} | $${f(p.dynamodbUSD, 3)} | **$${f(p.totalUSD)}** | $${f(p.totalUSD + k.logsPerMillionUSD)} | $${f(fixed)} |`,
    );
  }
  const fixedLines = Object.values(rep.modes)[0]?.monthly.filter((l) => l.kind === 'fixed') ?? [];
  out.push(
    '',
    `Logs: the consumer wrote ${f(k.logBytesPerJobMeasured, 0)} bytes per job at the stack's log level (part 6), plus Lambda's own lines per invocation: $${f(k.logsPerMillionUSD, 3)} per million jobs. ` +
      `Fixed monthly costs of the example stack: ${fixedLines.map((l) => `${l.item.toLowerCase()} $${f(l.usd)} (${l.detail})`).join('; ')}.`,
    '',
  );
  if (r.featureCosts) out.push(...renderFeatureCosts(r.featureCosts));
  return `${out.join('\n')}\n`;
}

/** Part 6 in results.md: how cost grows with volume, ledger mode and features. */
function renderFeatureCosts({ measured, figures }: NonNullable<Results['featureCosts']>): string[] {
  const level = (l: FeatureCostsResult['logBytes'][number]) =>
    `${l.mode} ${l.logLevel}${l.jobMetrics ? '' : ' without job metrics'} ${f(l.logBytesPerJob, 0)} B`;
  const history = measured.scenarios.find((s) => s.mode === 'strict' && s.feature === 'base');
  return [
    '## 6. How cost grows',
    '',
    `Request units per job measured on DynamoDB Local (ReturnConsumedCapacity, search index writes included) with the real consumer, ${measured.batchesPerScenario} batches of ${measured.batchSize} no-op jobs per row that succeed first time; limits with keys that do not contend (a refused or contended limit write costs one unit more). ` +
      `The status history is always on: a strict job's finished item is ${history?.itemBytes ?? '–'} bytes, ${history?.historyBytes ?? '–'} of them history, so it stays one write unit. ` +
      `"All in" adds CloudWatch Logs (${f(figures.logBytesPerJob, 0)} consumer bytes per job at the stack's log level, plus Lambda's own lines) and ledger storage with PITR. ` +
      `Monthly bills add the fixed cost of the example stack: $${f(figures.fixedMonthlyUSD.full)} with \`monitoringProfile: 'full'\` (${figures.alarms.full} alarms, the dashboard, custom metrics at their upper bound) and $${f(figures.fixedMonthlyUSD.lean)} with \`'lean'\` (${figures.alarms.lean} alarms); both include SQS idle polling.`,
    '',
    ...figures.markdown,
    '',
    `Consumer log bytes per job: ${measured.logBytes.map(level).join('; ')} (DEBUG is what every job wrote before success lines moved to debug).`,
    '',
  ];
}

function updateReadme(md: string): void {
  const notes = fs.existsSync(NOTES) ? fs.readFileSync(NOTES, 'utf8') : undefined;
  const updated = withBenchBlock(fs.readFileSync(README, 'utf8'), md, notes);
  if (updated === undefined) {
    process.stderr.write('[bench] README.md has no bench markers; left it alone\n');
    return;
  }
  fs.writeFileSync(README, updated);
}

/** Hand-written interpretation (bundling default, closing missed goals) appended to the README block. */
const NOTES = path.join(__dirname, 'NOTES.md');

main().then(
  // A child a part left behind (e.g. a stuck LocalStack start) must not keep the run open.
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench] failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
