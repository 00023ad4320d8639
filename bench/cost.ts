/**
 * `npm run cost -- --jobs-per-month N`: a monthly bill for the example stack (or any synthesized
 * JobQueue template) and the cost per million jobs in each ledger mode, at the list prices in
 * bench/prices.ts.
 *
 *   --jobs-per-month N   volume (default 1000000)
 *   --mode M             strict | optimistic | none | all (default: all, plus the registry's modes)
 *   --template FILE      a synthesized template (e.g. cdk.out/SqsJobsExample.template.json after
 *                        `npx cdk synth -q`); default: synthesize the example stack in-process
 *   --registry FILE      the registry module, to read each job type's ledger mode (default bin/jobs.ts)
 *   --lane NAME          lane the jobs go through (default: the first standard lane)
 *   --batch-ms MS        billed consumer duration per batch (default 100)
 *   --job-bytes B        message size (default 1024)
 *   --item-bytes B       ledger item size (default 400)
 *   --log-bytes B        consumer log bytes per job (default: by the consumers' log level and job
 *                        metrics in the template, ASSUMPTIONS.logBytesPerJobByLevel)
 *   --single-sends       the producer calls enqueue per job instead of enqueueBatch
 *   --json               print JSON instead of tables
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type CfnTemplate,
  fmt,
  LEDGER_MODES,
  type LedgerMode,
  monitoringMonthlyUSD,
  monthlyBreakdown,
  perMillionJobs,
  readStackShape,
  type StackShape,
} from './cost-model';
import { ASSUMPTIONS, PRICES } from './prices';

interface Args {
  jobsPerMonth: number;
  modes: LedgerMode[];
  template?: string;
  registry: string;
  lane?: string;
  batchMs?: number;
  jobBytes?: number;
  itemBytes?: number;
  logBytes?: number;
  batchedSends: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    jobsPerMonth: 1_000_000,
    modes: [...LEDGER_MODES],
    registry: path.resolve(__dirname, '..', 'bin', 'jobs.ts'),
    batchedSends: true,
    json: false,
  };
  const num = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0)
      throw new Error(`${flag} needs a number ≥ 0; got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--jobs-per-month':
        args.jobsPerMonth = num(flag, value);
        i++;
        break;
      case '--mode':
        if (value === 'all') args.modes = [...LEDGER_MODES];
        else if (LEDGER_MODES.includes(value as LedgerMode)) args.modes = [value as LedgerMode];
        else throw new Error(`--mode must be one of ${LEDGER_MODES.join(', ')}, all; got ${value}`);
        i++;
        break;
      case '--template':
        args.template = value;
        i++;
        break;
      case '--registry':
        args.registry = path.resolve(value);
        i++;
        break;
      case '--lane':
        args.lane = value;
        i++;
        break;
      case '--batch-ms':
        args.batchMs = num(flag, value);
        i++;
        break;
      case '--job-bytes':
        args.jobBytes = num(flag, value);
        i++;
        break;
      case '--item-bytes':
        args.itemBytes = num(flag, value);
        i++;
        break;
      case '--log-bytes':
        args.logBytes = num(flag, value);
        i++;
        break;
      case '--single-sends':
        args.batchedSends = false;
        break;
      case '--json':
        args.json = true;
        break;
      default:
        throw new Error(`unknown argument ${flag} (see the header of bench/cost.ts)`);
    }
  }
  return args;
}

async function loadTemplate(file: string | undefined): Promise<CfnTemplate> {
  if (file) return JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate;
  process.stderr.write('[cost] synthesizing the example stack (bin/example-stack.ts) ...\n');
  const { synthExampleTemplate } = await import('./lib/synth');
  return synthExampleTemplate();
}

/** Job types and their ledger modes, from the registry module. */
export async function registryModes(file: string): Promise<Record<string, LedgerMode> | undefined> {
  try {
    const mod = (await import(file)) as {
      registry?: { types: string[]; get(type: string): { idempotency: LedgerMode } | undefined };
    };
    const registry = mod.registry;
    if (!registry) return undefined;
    return Object.fromEntries(registry.types.map((t) => [t, registry.get(t)?.idempotency ?? 'strict']));
  } catch (error) {
    process.stderr.write(`[cost] could not load the registry ${file}: ${(error as Error).message}\n`);
    return undefined;
  }
}

export interface CostReport {
  readonly jobsPerMonth: number;
  readonly prices: { readonly region: string; readonly recorded: string };
  readonly stack: StackShape;
  readonly registryModes?: Record<string, LedgerMode>;
  readonly modes: Record<
    string,
    {
      readonly costPerMillionUSD: number;
      readonly perMillion: ReturnType<typeof perMillionJobs>;
      readonly monthly: ReturnType<typeof monthlyBreakdown>;
      readonly monthlyTotalUSD: number;
    }
  >;
}

export function costReport(
  template: CfnTemplate,
  options: Omit<Args, 'template' | 'registry' | 'json'> & { registryModes?: Record<string, LedgerMode> },
): CostReport {
  const stack = readStackShape(template);
  const lane =
    stack.lanes.find((l) => l.name === options.lane) ?? stack.lanes.find((l) => !l.fifo) ?? stack.lanes[0];
  if (!lane) throw new Error('the template has no JobQueue consumer');
  const modes: CostReport['modes'] = {};
  for (const mode of options.modes) {
    const perMillion = perMillionJobs({
      batchSize: lane.batchSize,
      memoryMb: lane.memoryMb,
      architecture: lane.architecture,
      mode,
      batchMs: options.batchMs,
      jobBytes: options.jobBytes,
      batchedSends: options.batchedSends,
      fifo: lane.fifo,
      ledgerItemBytes: options.itemBytes,
    });
    const monthly = monthlyBreakdown(stack, {
      jobsPerMonth: options.jobsPerMonth,
      mode,
      lane: lane.name,
      batchMs: options.batchMs,
      jobBytes: options.jobBytes,
      batchedSends: options.batchedSends,
      ledgerItemBytes: options.itemBytes,
      logBytesPerJob: options.logBytes,
      jobTypes: options.registryModes ? Object.keys(options.registryModes).length : undefined,
    });
    modes[mode] = {
      costPerMillionUSD: perMillion.totalUSD,
      perMillion,
      monthly,
      monthlyTotalUSD: monthly.reduce((sum, line) => sum + line.usd, 0),
    };
  }
  return {
    jobsPerMonth: options.jobsPerMonth,
    prices: { region: PRICES.region, recorded: PRICES.recorded },
    stack,
    registryModes: options.registryModes,
    modes,
  };
}

function usd(n: number): string {
  return n >= 0.01 || n === 0 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`;
}

function printReport(r: CostReport, args: Args): void {
  const out: string[] = [];
  const s = r.stack;
  out.push(
    `Stack: ${s.lanes.length} lanes (${s.lanes.map((l) => `${l.name}${l.fifo ? ' FIFO' : ''}: batch ${l.batchSize}, ${l.memoryMb} MB ${l.architecture}`).join('; ')})`,
    `       ${s.alarms} alarms, ${s.dashboards} dashboard(s), ${s.schedules.length} schedule(s), ledger ${s.ledger?.onDemand ? 'on demand' : 'provisioned'}${s.ledger?.pitr ? ' with PITR' : ''}`,
  );
  if (r.registryModes) {
    out.push(
      `Registry ledger modes: ${Object.entries(r.registryModes)
        .map(([t, m]) => `${t}=${m}`)
        .join(', ')}`,
    );
  }
  out.push(
    `Prices: ${r.prices.region} list prices recorded ${r.prices.recorded} (bench/prices.ts); assumptions: ${args.batchMs ?? ASSUMPTIONS.batchMs} ms per batch, ${args.jobBytes ?? ASSUMPTIONS.jobBytes}-B jobs, ${args.batchedSends ? 'enqueueBatch' : 'single enqueue'} sends`,
    '',
  );
  for (const [mode, m] of Object.entries(r.modes)) {
    out.push(`## Ledger mode: ${mode}, ${fmt(r.jobsPerMonth)} jobs/month`, '');
    out.push('| item | detail | monthly |', '|---|---|---:|');
    for (const line of m.monthly) out.push(`| ${line.item} | ${line.detail} | ${usd(line.usd)} |`);
    const perJob = m.monthly.filter((l) => l.kind === 'per-job').reduce((a, l) => a + l.usd, 0);
    const fixed = m.monthly.filter((l) => l.kind === 'fixed').reduce((a, l) => a + l.usd, 0);
    out.push(
      `| **total** | per-job ${usd(perJob)} + fixed ${usd(fixed)} | **${usd(m.monthlyTotalUSD)}** |`,
      '',
      `Monitoring (alarms, dashboards, custom metrics): ${usd(monitoringMonthlyUSD(m.monthly))} a month; consumers log at ${s.consumerLogLevel}${s.jobMetrics ? '' : ', job metrics off'} (JobQueueProps.monitoringProfile, consumerLogLevel, jobMetrics).`,
      '',
    );
    const p = m.perMillion;
    out.push(
      `Cost per million jobs (SQS + Lambda + DynamoDB requests): **${usd(p.totalUSD)}** = SQS ${usd(p.sqsUSD)} + Lambda ${usd(p.lambdaUSD)} + DynamoDB ${usd(p.dynamodbUSD)}`,
      '',
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const template = await loadTemplate(args.template);
  const modes = await registryModes(args.registry);
  const report = costReport(template, { ...args, registryModes: modes });
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report, args);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`[cost] ${(error as Error).message}\n`);
    process.exit(1);
  });
}
