/**
 * Part 2: cold start. Bundles three consumers with the esbuild options the JobLane construct
 * passes (minify, source map, the default runtime's node target, CommonJS, `@aws-sdk/*` external unless the SDK is
 * bundled), with the SDK external and bundled:
 *   - ours: the entry the construct generates around the example registry (bin/jobs.ts),
 *   - empty: a handler that only loads and constructs the same SDK clients (DynamoDB, SQS),
 *   - powertools: a Powertools consumer (logger, metrics, zod, idempotency, batch) for the same job.
 * Then measures module initialisation as the time to `require()` the bundle in a fresh `node`
 * process with the consumer's environment and NODE_OPTIONS (`--enable-source-maps`), the median
 * of N processes per variant, variants interleaved. With the SDK external, the bundle resolves it
 * through NODE_PATH, as the Lambda runtime does with its own copy.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { build } from 'esbuild';
import { consumerEntry } from '../lib/private/consumer-entry';
import { DEFAULT_CONSUMER_RUNTIME, esbuildTarget } from '../lib/private/job-lane';
import type { CfnTemplate } from './cost-model';
import { consumerFunction } from './lib/consumer-env';
import { REPO_ROOT, WORK_DIR } from './lib/paths';
import { median, percentile, round } from './lib/stats';

const run = promisify(execFile);

export const VARIANTS = ['ours', 'empty', 'powertools'] as const;
export type Variant = (typeof VARIANTS)[number];
export type SdkMode = 'external' | 'bundled';

export interface BundleResult {
  readonly variant: Variant;
  readonly sdk: SdkMode;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  /** `require()`s left in the bundle for external `@aws-sdk/*` packages. */
  readonly externalSdkPackages: string[];
  readonly initMedianMs: number;
  readonly initP90Ms: number;
  readonly samples: number;
}

export interface ColdStartResult {
  readonly processesPerVariant: number;
  readonly nodeVersion: string;
  readonly nodeOptions: string;
  readonly bundles: BundleResult[];
}

async function bundle(entry: string, outfile: string, sdk: SdkMode): Promise<void> {
  await build({
    entryPoints: [entry],
    bundle: true,
    outfile,
    platform: 'node',
    target: esbuildTarget(DEFAULT_CONSUMER_RUNTIME),
    format: 'cjs',
    minify: true,
    sourcemap: true,
    external: sdk === 'external' ? ['@aws-sdk/*'] : [],
    logLevel: 'error',
  });
}

/** The script each fresh process runs: time the require, print milliseconds. */
const PROBE = `
const file = process.argv[1];
const t0 = process.hrtime.bigint();
const mod = require(file);
const t1 = process.hrtime.bigint();
if (typeof mod.handler !== 'function') throw new Error('no handler export in ' + file);
process.stdout.write(String(Number(t1 - t0) / 1e6));
`;

export async function measureColdStart(options: {
  readonly template: CfnTemplate;
  readonly processes: number;
  readonly progress?: (line: string) => void;
}): Promise<ColdStartResult> {
  const log = options.progress ?? (() => undefined);
  const dir = path.join(WORK_DIR, 'cold-start');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const entries: Record<Variant, string> = {
    ours: consumerEntry(path.join(REPO_ROOT, 'bin', 'jobs.ts'), 'registry').entry,
    empty: path.join(__dirname, 'fixtures', 'empty-handler.ts'),
    powertools: path.join(__dirname, 'fixtures', 'powertools-consumer.ts'),
  };
  const fn = consumerFunction(options.template, 'high', { tableName: 'ledger' });
  const nodeOptions = fn.env.NODE_OPTIONS ?? '';
  const env = {
    ...process.env,
    ...fn.env,
    NODE_OPTIONS: nodeOptions,
    NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
    NODE_NO_WARNINGS: '1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };

  const targets: { variant: Variant; sdk: SdkMode; file: string }[] = [];
  for (const variant of VARIANTS) {
    for (const sdk of ['external', 'bundled'] as const) {
      const out = path.join(dir, `${variant}-${sdk}`, 'index.js');
      await bundle(entries[variant], out, sdk);
      targets.push({ variant, sdk, file: out });
    }
  }
  log(`bundled ${targets.length} consumers into ${dir}`);

  const samples = new Map<string, number[]>(targets.map((t) => [t.file, []]));
  // One warm-up round fills the OS page cache for every file, as a deployed function's would be.
  for (const t of targets) await run(process.execPath, ['-e', PROBE, t.file], { env });
  for (let i = 0; i < options.processes; i++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(i + k) % targets.length];
      const { stdout } = await run(process.execPath, ['-e', PROBE, t.file], { env });
      samples.get(t.file)?.push(Number(stdout));
    }
    if ((i + 1) % 10 === 0) log(`init: ${i + 1}/${options.processes} processes per variant`);
  }

  const bundles = targets.map((t): BundleResult => {
    const code = fs.readFileSync(t.file);
    const map = `${t.file}.map`;
    const s = samples.get(t.file) ?? [];
    const sdkRequires = new Set(
      [...code.toString('utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]),
    );
    return {
      variant: t.variant,
      sdk: t.sdk,
      rawBytes: code.length,
      gzipBytes: zlib.gzipSync(code, { level: 9 }).length,
      sourceMapBytes: fs.existsSync(map) ? fs.statSync(map).size : 0,
      externalSdkPackages: [...sdkRequires].sort(),
      initMedianMs: round(median(s), 2),
      initP90Ms: round(percentile(s, 90), 2),
      samples: s.length,
    };
  });
  return {
    processesPerVariant: options.processes,
    nodeVersion: process.version,
    nodeOptions,
    bundles,
  };
}
