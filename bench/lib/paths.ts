/**
 * Where the bench writes scratch output: a temp directory outside the repo (so linters and git
 * never see bundles or cloud assemblies). Set BENCH_WORK_DIR to keep it somewhere else.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BENCH_DIR = path.join(REPO_ROOT, 'bench');
export const WORK_DIR = process.env.BENCH_WORK_DIR ?? path.join(os.tmpdir(), 'sqs-jobs-bench');
export const RESULTS_JSON = path.join(BENCH_DIR, 'results.json');
export const RESULTS_MD = path.join(BENCH_DIR, 'results.md');
export const README = path.join(REPO_ROOT, 'README.md');
