/**
 * `npm run bench:profile`: where a consumer's CPU goes on the no-op path, so what is left of part
 * 1's overhead can be explained (and checked again after a change). Runs part 1's consumers
 * (bench/consumer-overhead.ts: ours strict and Powertools idempotency + batch) on batches of 10
 * new no-op jobs against DynamoDB Local (DYNAMODB_ENDPOINT; `stub` takes the database out), with
 * the V8 CPU profiler on for the measured batches only (not the warm-up; in alternating blocks,
 * A B then B A, so neither always runs first), and prints each one's
 * CPU per job, its CPU by area (AWS SDK, Powertools, zod, our runtime, Node, GC) and its top
 * functions by self time. The .cpuprofile files are written to the scratch directory (open them
 * in Chrome DevTools or speedscope).
 *
 * Env: DYNAMODB_ENDPOINT (set by scripts/bench.sh), BENCH_PROFILE_BATCHES (default 300),
 * BENCH_PROFILE_TOP (functions listed, default 15), BENCH_WORK_DIR.
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createEnvelope } from '../lambdas/shared/envelope';
import { SDK_CLIENT_DEFAULTS } from '../lambdas/shared/sdk-clients';
import { type Handler, oursConsumer, powertoolsConsumer } from './consumer-overhead';
import { consumerFunction, defaultLaneEnv } from './lib/consumer-env';
import { countedClient, newCounter, recreateTable, stubClient } from './lib/ddb';
import { lambdaContext, sqsEvent, sqsRecord } from './lib/lambda-event';
import { WORK_DIR } from './lib/paths';
import { synthExampleTemplate } from './lib/synth';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};

/** Which part of the stack a function belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)') return 'V8 / idle';
  // The inspector call that stops the profiler (collecting the profile): not the consumer's.
  if (functionName === 'dispatch' && url === '') return 'profiler';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg?.startsWith('@aws-sdk/') || pkg?.startsWith('@smithy/')) return 'AWS SDK';
  if (pkg?.startsWith('@aws-lambda-powertools/'))
    return pkg.replace('@aws-lambda-powertools/', 'powertools ');
  if (pkg) return pkg;
  if (url.includes('/lambdas/')) return `sqs-jobs ${url.split('/lambdas/')[1].split('/')[0]}`;
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:') || url === '') return 'Node / native';
  return 'other';
}

/** Self time per function and per area, ms, from a V8 CPU profile. */
export function selfTimes(profile: CpuProfile): {
  readonly totalMs: number;
  readonly byFunction: { name: string; area: string; ms: number }[];
  readonly byArea: { area: string; ms: number }[];
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const perNode = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const fns = new Map<string, { name: string; area: string; ms: number }>();
  const areas = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of perNode) {
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    const area = areaOf(frame.url, frame.functionName);
    totalMs += ms;
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const file = frame.url.replace(/^.*\/(node_modules|lambdas|bench)\//, '$1/');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = fns.get(name) ?? { name, area, ms: 0 };
    entry.ms += ms;
    fns.set(name, entry);
  }
  return {
    totalMs,
    byFunction: [...fns.values()].sort((a, b) => b.ms - a.ms),
    byArea: [...areas.entries()].map(([area, ms]) => ({ area, ms })).sort((a, b) => b.ms - a.ms),
  };
}

/** Areas left out of the per-job figures: idle time and the profiler's own work. */
const SKIPPED = new Set(['V8 / idle', 'profiler']);

async function main(): Promise<void> {
  const endpoint = process.env.DYNAMODB_ENDPOINT ?? 'stub';
  const batches = envInt('BENCH_PROFILE_BATCHES', 300);
  const top = envInt('BENCH_PROFILE_TOP', 15);
  const out = (line = '') => process.stderr.write(`${line}\n`);
  process.env.AWS_REGION ??= 'us-east-1';
  const template = synthExampleTemplate();
  const fn = consumerFunction(template, 'high', { tableName: 'profile-ledger' });
  const { NODE_OPTIONS: _nodeOptions, ...env } = fn.env;
  Object.assign(process.env, defaultLaneEnv(env));
  // Each with the client it is deployed with (see bench/consumer-overhead.ts).
  const client = (config: DynamoDBClientConfig = {}) =>
    endpoint === 'stub' ? stubClient(newCounter()) : countedClient(endpoint, newCounter(), config);
  if (endpoint !== 'stub') {
    await recreateTable(client(), 'profile-ledger', 'jobId');
    await recreateTable(client(), 'profile-powertools', 'id');
  }
  const consumers: { name: string; type: string; handler: Handler }[] = [
    {
      name: 'ours-strict',
      type: 'noop-strict',
      handler: oursConsumer(client(SDK_CLIENT_DEFAULTS), { calls: 0 }, { calls: 0 }),
    },
    { name: 'powertools', type: 'noop', handler: powertoolsConsumer(client(), 'profile-powertools') },
  ];

  // Log lines are produced as in Lambda, not printed.
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((_chunk: unknown, ...rest: unknown[]) => {
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  let seq = 0;
  const batch = async (c: (typeof consumers)[number]) => {
    const records = Array.from({ length: 10 }, () => {
      const id = `${c.name}-${seq++}`;
      return sqsRecord(`m-${id}`, JSON.stringify(createEnvelope({ id, type: c.type, payload: { n: seq } })));
    });
    await c.handler(sqsEvent(records), lambdaContext(c.name, fn.timeoutMs, fn.memoryMb));
  };
  try {
    out(`profiling ${batches} batches of 10 new no-op jobs per consumer (DynamoDB: ${endpoint})`);
    // Warm both first, interleaved (DynamoDB Local's JIT and the SDK's connections too). Then
    // profile in alternating blocks (A B, B A, ...): whichever consumer runs a block first pays
    // more (sockets and engine threads waking up), so one long block each would bias the figures.
    for (let i = 0; i < 100; i++) for (const c of consumers) await batch(c);
    const blocks = 6;
    const perBlock = Math.max(1, Math.round(batches / blocks));
    const totals = new Map(
      consumers.map((c) => [
        c.name,
        { cpuMs: 0, areas: new Map<string, number>(), fns: new Map<string, { area: string; ms: number }>() },
      ]),
    );
    for (let block = 0; block < blocks; block++) {
      for (const c of block % 2 === 0 ? consumers : [...consumers].reverse()) {
        const total = totals.get(c.name) as NonNullable<ReturnType<typeof totals.get>>;
        const cpu0 = process.cpuUsage();
        await session.post('Profiler.start');
        for (let i = 0; i < perBlock; i++) await batch(c);
        const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
        const cpu = process.cpuUsage(cpu0);
        total.cpuMs += (cpu.user + cpu.system) / 1000;
        fs.mkdirSync(WORK_DIR, { recursive: true });
        if (block === 0)
          fs.writeFileSync(path.join(WORK_DIR, `consumer-${c.name}.cpuprofile`), JSON.stringify(profile));
        const t = selfTimes(profile);
        for (const a of t.byArea) total.areas.set(a.area, (total.areas.get(a.area) ?? 0) + a.ms);
        for (const f of t.byFunction) {
          const entry = total.fns.get(f.name) ?? { area: f.area, ms: 0 };
          entry.ms += f.ms;
          total.fns.set(f.name, entry);
        }
      }
    }
    const jobs = blocks * perBlock * 10;
    for (const c of consumers) {
      const total = totals.get(c.name) as NonNullable<ReturnType<typeof totals.get>>;
      const areas = [...total.areas].filter(([area]) => !SKIPPED.has(area)).sort((a, b) => b[1] - a[1]);
      const busy = areas.reduce((sum, [, ms]) => sum + ms, 0);
      out();
      out(
        `== ${c.name}: ${(total.cpuMs / jobs).toFixed(3)} ms CPU per job (process.cpuUsage), ` +
          `${(busy / jobs).toFixed(3)} ms sampled on the main thread per job, ${blocks} alternating blocks; ` +
          `first block's profile: ${path.join(WORK_DIR, `consumer-${c.name}.cpuprofile`)}`,
      );
      out('   by area (self time per job):');
      for (const [area, ms] of areas) out(`     ${(ms / jobs).toFixed(4).padStart(8)} ms  ${area}`);
      out(`   top ${top} functions (self time per job):`);
      const fns = [...total.fns].filter(([, f]) => !SKIPPED.has(f.area)).sort((a, b) => b[1].ms - a[1].ms);
      for (const [name, f] of fns.slice(0, top)) {
        out(`     ${(f.ms / jobs).toFixed(4).padStart(8)} ms  ${name}  [${f.area}]`);
      }
    }
  } finally {
    process.stdout.write = realWrite;
    session.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench:profile] failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
