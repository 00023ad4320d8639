/** The one TypeScript reader of LocalStack's state file, and the env it points tools at. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let dir: string;
const saved = process.env.LOCALSTACK_LOCAL_DIR;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'localstack-state-'));
  process.env.LOCALSTACK_LOCAL_DIR = dir;
  vi.resetModules(); // the state file's path is read when the module loads
});

afterEach(() => {
  if (saved === undefined) delete process.env.LOCALSTACK_LOCAL_DIR;
  else process.env.LOCALSTACK_LOCAL_DIR = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('readLocalstackState', () => {
  it('is undefined without a state file', async () => {
    const { readLocalstackState } = await import('../../../../scripts/local/localstack');
    expect(readLocalstackState()).toBeUndefined();
  });

  it('reads the file up.sh writes (write_state in scripts/localstack/up.sh)', async () => {
    fs.writeFileSync(
      path.join(dir, 'state.env'),
      [
        'LOCALSTACK_ENDPOINT=http://127.0.0.1:4566',
        'LOCALSTACK_MODE=host',
        'LOCALSTACK_STARTED_BY_UP=1',
        'LOCALSTACK_PID=4242',
        'LOCALSTACK_CONTAINER=',
        'LOCALSTACK_STARTED_AT=1764662400',
        '',
      ].join('\n'),
    );
    const { readLocalstackState, LOCALSTACK_STATE_FILE } = await import(
      '../../../../scripts/local/localstack'
    );
    expect(LOCALSTACK_STATE_FILE).toBe(path.join(dir, 'state.env'));
    expect(readLocalstackState()).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      mode: 'host',
      startedByUp: true,
      startedAt: 1764662400,
      pid: 4242,
    });
  });

  it('leaves out what a reused LocalStack has no value for', async () => {
    fs.writeFileSync(
      path.join(dir, 'state.env'),
      'LOCALSTACK_ENDPOINT=http://localhost:4566\nLOCALSTACK_MODE=external\nLOCALSTACK_STARTED_BY_UP=0\nLOCALSTACK_PID=\nLOCALSTACK_STARTED_AT=\n',
    );
    const { readLocalstackState } = await import('../../../../scripts/local/localstack');
    expect(readLocalstackState()).toEqual({
      endpoint: 'http://localhost:4566',
      mode: 'external',
      startedByUp: false,
      startedAt: undefined,
      pid: undefined,
    });
  });
});

describe('localstackEnv', () => {
  it('points the SDK, S3 and cdklocal at the endpoint', async () => {
    const { localstackEnv } = await import('../../../../scripts/local/localstack');
    const env = localstackEnv('http://127.0.0.1:4566');
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566',
      LOCALSTACK_ENDPOINT: 'http://127.0.0.1:4566',
    });
    expect(env.CDK_DEFAULT_ACCOUNT).toBe(process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000');
  });

  it("allow-lists the SDK's Node-version switch, which cdklocal would strip like every unknown AWS_* variable", async () => {
    const { localstackEnv } = await import('../../../../scripts/local/localstack');
    const { configureEnvironment } = require('aws-cdk-local/src') as {
      configureEnvironment: (env: Record<string, string>, allowList: string) => void;
    };
    const env: Record<string, string> = {
      ...localstackEnv('http://127.0.0.1:4566'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_SOMETHING_ELSE: 'x',
    };
    configureEnvironment(env, env.AWS_ENVAR_ALLOWLIST);
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    expect(env.AWS_SOMETHING_ELSE).toBeUndefined();
  });
});
