/** locateStack: the order in which the CLI (and the console) find the stack, and what it says it tried. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/errors';
import { type LocateInput, locateStack } from '../../../cli/locate';
import { DEFAULT_STACK_NAME } from '../../../lambdas/shared/defaults';
import { NO_FILES, someFiles } from './support/harness';

const HOME = '/home/op';
const REPO = '/work/repo';
const RECORD_FILE = `${REPO}/.local/local-stack.json`;
const RECORD = JSON.stringify({
  endpoint: 'http://127.0.0.1:4599',
  region: 'eu-west-1',
  stackName: 'RecordedStack',
  deployedAt: '2026-03-01T12:00:00.000Z',
});

function input(overrides: Partial<LocateInput> = {}): LocateInput {
  return { flags: {}, env: {}, cwd: `${REPO}/cli`, files: NO_FILES, ...overrides };
}

const withRecord = (extra: Record<string, string> = {}) =>
  someFiles({ [RECORD_FILE]: RECORD, ...extra }, HOME);

describe('locateStack', () => {
  describe('nothing configured and no record', () => {
    it("leaves everything to the SDK's chain and lists what it tried", () => {
      // Act
      const target = locateStack(input({ packageRoot: '/opt/sqs-jobs' }));

      // Assess
      expect(target).toMatchObject({ source: 'aws', stack: DEFAULT_STACK_NAME, region: undefined });
      expect(target.endpoint).toBeUndefined();
      expect(target.credentials).toBeUndefined();
      expect(target.notice).toBeUndefined();
      expect(target.tried).toEqual([
        'flags (none)',
        'AWS environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID unset; no ~/.aws/config or ~/.aws/credentials)',
        `local stack state (.local/local-stack.json not found in ${REPO}/cli and above, or /opt/sqs-jobs)`,
      ]);
    });
  });

  describe('where a record is looked for, and which is used unasked', () => {
    it('does not climb into the home directory (~/.local is not a project folder)', () => {
      // Prepare: a record in ~/.local, the command run from a folder under home
      const files = someFiles({ [`${HOME}/.local/local-stack.json`]: RECORD }, HOME);

      // Act
      const target = locateStack(input({ cwd: `${HOME}/projects/app`, files }));

      // Assess
      expect(target.source).toBe('aws');
      expect(target.endpoint).toBeUndefined();
    });

    it('uses a record whose endpoint is not on this machine only with --local', () => {
      // Prepare
      const remote = JSON.stringify({ ...JSON.parse(RECORD), endpoint: 'http://10.1.2.3:4566' });
      const files = someFiles({ [RECORD_FILE]: remote }, HOME);

      // Act
      const unasked = locateStack(input({ files }));
      const asked = locateStack(input({ files, flags: { local: true } }));

      // Assess
      expect(unasked.source).toBe('aws');
      expect(unasked.endpoint).toBeUndefined();
      expect(unasked.tried[2]).toContain(
        'not used without --local, its endpoint http://10.1.2.3:4566 is not on this machine',
      );
      expect(asked).toMatchObject({ source: 'local', endpoint: 'http://10.1.2.3:4566' });
    });
  });

  describe('AWS as configured comes first', () => {
    it.each([
      ['AWS_REGION', { AWS_REGION: 'eu-central-1' }],
      ['AWS_PROFILE', { AWS_PROFILE: 'ops' }],
      ['AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL: 'http://localhost:4566' }],
      ['AWS_ACCESS_KEY_ID', { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }],
    ])('with %s set, over a recorded local stack', (_, env) => {
      // Act
      const target = locateStack(input({ env, files: withRecord() }));

      // Assess
      expect(target.source).toBe('aws');
      expect(target.stack).toBe(DEFAULT_STACK_NAME);
      expect(target.endpoint).toBeUndefined(); // the SDK reads the variable itself
      expect(target.credentials).toBeUndefined();
      expect(target.tried[2]).toBe(
        `local stack state (${RECORD_FILE}: not used, AWS is configured; pass --local to use it)`,
      );
    });

    it('with only an ~/.aws/config file, naming it as where the region comes from', () => {
      // Act
      const target = locateStack(input({ files: withRecord({ [`${HOME}/.aws/config`]: '[default]\n' }) }));

      // Assess
      expect(target.source).toBe('aws');
      expect(target.shown.region?.from).toBe('your AWS profile (default)');
      expect(target.tried[1]).toMatch(/found ~\/\.aws\/config; no ~\/\.aws\/credentials/);
    });

    it('with a region flag, and passes AWS_DEFAULT_REGION on (the SDK reads only AWS_REGION)', () => {
      expect(locateStack(input({ flags: { region: 'ap-south-1' }, files: withRecord() }))).toMatchObject({
        source: 'aws',
        region: 'ap-south-1',
        shown: { region: { value: 'ap-south-1', from: '--region' } },
      });
      expect(locateStack(input({ env: { AWS_DEFAULT_REGION: 'sa-east-1' } }))).toMatchObject({
        region: 'sa-east-1',
        shown: { region: { value: 'sa-east-1', from: 'AWS_DEFAULT_REGION' } },
      });
    });

    it('lists the flags given', () => {
      const target = locateStack(
        input({ flags: { stack: 'S', endpointUrl: 'http://10.0.0.1:4566', profile: 'p' } }),
      );
      expect(target.tried[0]).toBe('flags (--stack S, --profile p, --endpoint-url http://10.0.0.1:4566)');
      expect(target).toMatchObject({ stack: 'S', profile: 'p', endpoint: 'http://10.0.0.1:4566' });
    });
  });

  describe('--local', () => {
    it('uses the recorded stack, its endpoint and region, with test credentials', () => {
      // Act
      const target = locateStack(input({ flags: { local: true }, files: withRecord() }));

      // Assess
      expect(target).toMatchObject({
        source: 'local',
        stack: 'RecordedStack',
        endpoint: 'http://127.0.0.1:4599',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        shown: { endpoint: { from: `recorded local stack state (${RECORD_FILE})` } },
      });
      expect(target.notice).toBeUndefined();
      expect(target.tried[0]).toBe('flags (--local)');
    });

    it('even when AWS is configured, keeping keys the environment gives', () => {
      // Act
      const target = locateStack(
        input({
          flags: { local: true },
          env: { AWS_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' },
          files: withRecord(),
        }),
      );

      // Assess
      expect(target).toMatchObject({
        source: 'local',
        endpoint: 'http://127.0.0.1:4599',
        region: 'eu-west-1',
      });
      expect(target.credentials).toBeUndefined();
    });

    it('without a record: LOCALSTACK_ENDPOINT, else http://127.0.0.1:4566, in us-east-1', () => {
      expect(locateStack(input({ flags: { local: true } }))).toMatchObject({
        source: 'local',
        stack: DEFAULT_STACK_NAME,
        endpoint: 'http://127.0.0.1:4566',
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      expect(
        locateStack(input({ flags: { local: true }, env: { LOCALSTACK_ENDPOINT: 'http://ls:4566' } })),
      ).toMatchObject({ endpoint: 'http://ls:4566', shown: { endpoint: { from: 'LOCALSTACK_ENDPOINT' } } });
    });

    it('lets flags and SQS_JOBS_STACK override the record', () => {
      // Act
      const target = locateStack(
        input({
          flags: { local: true, region: 'us-east-2', endpointUrl: 'http://127.0.0.1:5000' },
          env: { SQS_JOBS_STACK: 'Mine' },
          files: withRecord(),
        }),
      );

      // Assess
      expect(target).toMatchObject({
        stack: 'Mine',
        region: 'us-east-2',
        endpoint: 'http://127.0.0.1:5000',
        shown: {
          stack: { from: 'SQS_JOBS_STACK' },
          region: { from: '--region' },
          endpoint: { from: '--endpoint-url' },
        },
      });
      expect(
        locateStack(input({ flags: { local: true, stack: 'Flagged' }, files: withRecord() })).stack,
      ).toBe('Flagged');
    });
  });

  describe('the recorded local stack when nothing else is configured', () => {
    it('is found from cwd upward and announced in one line', () => {
      // Act
      const target = locateStack(input({ cwd: `${REPO}/test/unit`, files: withRecord() }));

      // Assess
      expect(target).toMatchObject({
        source: 'recorded',
        stack: 'RecordedStack',
        endpoint: 'http://127.0.0.1:4599',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      expect(target.notice).toBe(
        'sqs-jobs: using the local stack from npm start at http://127.0.0.1:4599; pass --local to be explicit, or set AWS_REGION to use AWS',
      );
      expect(target.tried[2]).toBe(`local stack state (${RECORD_FILE}, deployed 2026-03-01T12:00:00.000Z)`);
    });

    it("is found in the CLI's package root when cwd is elsewhere", () => {
      const target = locateStack(input({ cwd: '/tmp/elsewhere', packageRoot: REPO, files: withRecord() }));
      expect(target).toMatchObject({ source: 'recorded', stack: 'RecordedStack' });
    });

    it('is read from SQS_JOBS_LOCAL_STATE when set, and only from there', () => {
      // Prepare
      const files = someFiles({ '/x/state.json': RECORD, [RECORD_FILE]: '{' });

      // Act
      const target = locateStack(input({ env: { SQS_JOBS_LOCAL_STATE: '/x/state.json' }, files }));
      const missing = locateStack(input({ env: { SQS_JOBS_LOCAL_STATE: '/x/none.json' }, files }));

      // Assess
      expect(target).toMatchObject({ source: 'recorded', record: { file: '/x/state.json' } });
      expect(missing.source).toBe('aws');
      expect(missing.tried[2]).toBe('local stack state (SQS_JOBS_LOCAL_STATE=/x/none.json not found)');
    });

    it.each([
      ['not JSON', '{"endpoint":', /local-stack\.json is not valid: not JSON/],
      ['missing the stack name', '{"endpoint":"http://a:1","region":"us-east-1"}', /"stackName" must be/],
      [
        'with a bad endpoint',
        '{"endpoint":"nope","region":"us-east-1","stackName":"S"}',
        /"endpoint" must be an http/,
      ],
    ])('is a usage error naming the file when it is %s', (_, text, pattern) => {
      // Prepare
      const files = someFiles({ [RECORD_FILE]: text });

      // Act, Assess
      for (const flags of [{}, { local: true }]) {
        let error: unknown;
        try {
          locateStack(input({ flags, files }));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(UsageError);
        expect((error as Error).message).toMatch(RECORD_FILE);
        expect((error as Error).message).toMatch(pattern);
      }
    });
  });

  it.each([
    [{ flags: { region: 'Frankfurt' } }, /--region must be an AWS region name/],
    [{ env: { AWS_DEFAULT_REGION: 'x y' } }, /AWS_DEFAULT_REGION must be an AWS region name/],
    [
      { flags: { local: true }, env: { LOCALSTACK_ENDPOINT: 'ls' } },
      /LOCALSTACK_ENDPOINT must be an http\(s\) URL/,
    ],
  ])('refuses bad values naming their source (%o)', (overrides, pattern) => {
    expect(() => locateStack(input(overrides as Partial<LocateInput>))).toThrow(pattern);
  });
});
