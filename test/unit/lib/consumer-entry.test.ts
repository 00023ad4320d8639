/**
 * The generated consumer entry must give the bundle one copy of the runtime: from source it
 * imports the TypeScript runtime (as this repository's registries do), from dist/ the built files
 * the package exports (as a user's `sqs-jobs/runtime/jobs` resolves). The packed-app integ test
 * bundles the dist/ way inside a real user app.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { consumerEntry, consumerModule } from '../../../lib/private/consumer-entry';
import { DEFAULT_CONSUMER_RUNTIME, esbuildTarget } from '../../../lib/private/job-lane';
import { REGISTRY } from './helpers';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('consumerModule', () => {
  it('is the TypeScript runtime when the library runs from source', () => {
    expect(consumerModule()).toBe(path.join(REPO, 'lambdas', 'consumer', 'index.ts'));
  });

  it('is the built runtime next to dist/lib when the library runs from dist/, even with sources shipped', () => {
    // Prepare: the packed layout, sources and build side by side
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-jobs-pkg-'));
    for (const file of [
      'lambdas/consumer/index.ts',
      'dist/lambdas/consumer/index.js',
      'dist/lib/private/x.js',
    ]) {
      fs.mkdirSync(path.dirname(path.join(pkg, file)), { recursive: true });
      fs.writeFileSync(path.join(pkg, file), '');
    }

    // Act
    const found = consumerModule(path.join(pkg, 'dist', 'lib', 'private', 'consumer-entry.js'));

    // Assess
    expect(found).toBe(path.join(pkg, 'dist', 'lambdas', 'consumer', 'index.js'));
    fs.rmSync(pkg, { recursive: true, force: true });
  });
});

describe('consumerEntry bundle', () => {
  it('holds one copy of each runtime error class with a registry importing lambdas/jobs', async () => {
    // Prepare
    const { entry } = consumerEntry(REGISTRY, 'registry');

    // Act: the options JobLane gives NodejsFunction, unminified so class names stay readable
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: esbuildTarget(DEFAULT_CONSUMER_RUNTIME),
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].text;

    // Assess
    const copies = (name: string) => code.split(`this.name = "${name}"`).length - 1;
    expect(copies('JobsError')).toBe(1);
    expect(copies('PermanentJobError')).toBe(1);
    expect(code.match(/Symbol\.for\("sqs-jobs\.error\.permanent"\)/g)).toHaveLength(1);
  });
});
