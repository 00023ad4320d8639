/**
 * The LocalStack the local tooling shares: the integ tests (test/support/localstack.global-setup.ts),
 * the end-to-end benchmark (bench/e2e.ts) and the local deploy (scripts/local/deploy.ts).
 *
 * `useLocalstack()` runs scripts/localstack/up.sh (reuses a LocalStack named by AWS_ENDPOINT_URL /
 * LOCALSTACK_ENDPOINT, or one already up; else Docker if a daemon answers; else host mode with
 * Lambda functions as host Node.js processes) and holds a lease on it. Its `release()` runs
 * scripts/localstack/down.sh only if this call started it (KEEP_LOCALSTACK=1 keeps it running for
 * the next run) and no other run still uses it: each run holds a lease file
 * .local/localstack/leases/<pid>; a starter that finds live leases of other runs leaves LocalStack
 * to the last of them.
 *
 * `readLocalstackState()` is the one TypeScript reader of the state file up.sh writes
 * (scripts/localstack/common.sh: .local/localstack/state.env).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
/** same default and override (LOCALSTACK_LOCAL_DIR) as scripts/localstack/common.sh */
export const LOCALSTACK_DIR = process.env.LOCALSTACK_LOCAL_DIR ?? resolve(ROOT, '.local', 'localstack');
export const LOCALSTACK_STATE_FILE = resolve(LOCALSTACK_DIR, 'state.env');
export const LEASES_DIR = resolve(LOCALSTACK_DIR, 'leases');
export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

export interface LocalstackState {
  endpoint: string;
  mode: 'external' | 'host' | 'docker' | string;
  startedByUp: boolean;
  startedAt?: number;
  pid?: number;
}

/** The state up.sh left in state.env, or undefined when there is no state file. */
export function readLocalstackState(): LocalstackState | undefined {
  if (!existsSync(LOCALSTACK_STATE_FILE)) return undefined;
  const kv = Object.fromEntries(
    readFileSync(LOCALSTACK_STATE_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
  return {
    endpoint: kv.LOCALSTACK_ENDPOINT,
    mode: kv.LOCALSTACK_MODE,
    startedByUp: kv.LOCALSTACK_STARTED_BY_UP === '1',
    startedAt: kv.LOCALSTACK_STARTED_AT ? Number(kv.LOCALSTACK_STARTED_AT) : undefined,
    pid: kv.LOCALSTACK_PID ? Number(kv.LOCALSTACK_PID) : undefined,
  };
}

/** Environment for AWS SDK clients, the CDK CLI and cdklocal against `endpoint`. */
export function localstackEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    LOCALSTACK_ENDPOINT: endpoint,
    AWS_REGION: process.env.AWS_REGION ?? REGION,
    AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? process.env.AWS_REGION ?? REGION,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT ?? ACCOUNT,
    CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION ?? REGION,
    // cdklocal drops every AWS_* variable it does not know (but AWS_ENDPOINT_URL*) before it runs
    // cdk, so the SDK switch of scripts/node-env.sh must be allow-listed to reach cdk and the app.
    AWS_ENVAR_ALLOWLIST: [
      ...(process.env.AWS_ENVAR_ALLOWLIST ?? '').split(',').filter(Boolean),
      'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    ].join(','),
  };
}

function runScript(script: string): Promise<string> {
  return new Promise((ok, fail) => {
    // progress (stderr) goes straight to the console; the endpoint is the last stdout line
    const child = spawn('bash', [resolve(ROOT, 'scripts', 'localstack', script)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? ok(out.trim().split('\n').pop() ?? '')
        : fail(new Error(`scripts/localstack/${script} exited with ${code} (see the output above)`)),
    );
  });
}

/** Runs up.sh; returns the endpoint and whether this call started LocalStack. */
export async function localstackUp(): Promise<{ endpoint: string; startedHere: boolean }> {
  const before = Math.floor(Date.now() / 1000);
  const endpoint = await runScript('up.sh');
  if (!/^https?:\/\//.test(endpoint)) throw new Error(`up.sh printed no endpoint (got '${endpoint}')`);
  const state = readLocalstackState();
  const startedHere = Boolean(
    state?.startedByUp && state.startedAt !== undefined && state.startedAt >= before,
  );
  return { endpoint, startedHere };
}

export async function localstackDown(): Promise<void> {
  await runScript('down.sh');
}

const ORPHAN_MARK = resolve(LEASES_DIR, 'stop-when-unused');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Other runs (by pid) that still hold a lease on the shared LocalStack. */
function otherLiveLeases(): number[] {
  if (!existsSync(LEASES_DIR)) return [];
  return readdirSync(LEASES_DIR)
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((pid) => {
      if (pid === process.pid) return false;
      if (pidAlive(pid)) return true;
      rmSync(resolve(LEASES_DIR, String(pid)), { force: true }); // stale lease of a dead run
      return false;
    });
}

export interface LocalstackLease {
  readonly endpoint: string;
  /** Whether this call started LocalStack (else it reused a running one). */
  readonly startedHere: boolean;
  /** Gives the lease back; stops LocalStack if this call started it and no other run uses it. */
  readonly release: () => Promise<void>;
}

/**
 * Starts LocalStack or reuses a running one, holds a lease on it and points this process at it
 * (process.env gets `localstackEnv(endpoint)`, which child processes and SDK clients inherit).
 */
export async function useLocalstack(): Promise<LocalstackLease> {
  const { endpoint, startedHere } = await localstackUp();
  mkdirSync(LEASES_DIR, { recursive: true });
  if (startedHere) rmSync(ORPHAN_MARK, { force: true });
  const lease = resolve(LEASES_DIR, String(process.pid));
  writeFileSync(lease, endpoint);
  Object.assign(process.env, localstackEnv(endpoint));
  console.log(`[localstack] ${startedHere ? 'started' : 'reusing'} ${endpoint}`);
  const release = async () => {
    rmSync(lease, { force: true });
    if (!startedHere && !existsSync(ORPHAN_MARK)) return;
    if (process.env.KEEP_LOCALSTACK === '1') {
      console.log(
        '[localstack] KEEP_LOCALSTACK=1: leaving it running (stop: bash scripts/localstack/down.sh)',
      );
      return;
    }
    const others = otherLiveLeases();
    if (others.length > 0) {
      writeFileSync(ORPHAN_MARK, String(process.pid));
      console.log(`[localstack] still used by test run(s) ${others.join(', ')}: the last of them stops it`);
      return;
    }
    rmSync(ORPHAN_MARK, { force: true });
    await localstackDown();
  };
  return { endpoint, startedHere, release };
}
