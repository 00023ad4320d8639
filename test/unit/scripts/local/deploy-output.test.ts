/**
 * What a local deploy shows of cdklocal's output. The sample lines are the CDK CLI's (aws-cdk
 * 2.1148: HistoryActivityPrinter for events, the deploy and bootstrap actions for the rest, esbuild
 * for bundling) as a deploy of the example stack to LocalStack prints them.
 */
import { describe, expect, it } from 'vitest';
import { classifyDeployLine, DeployReporter } from '../../../../scripts/local/deploy-output';

const BOOTSTRAP = [
  ' ⏳  Bootstrapping environment aws://000000000000/us-east-1...',
  'Trusted accounts for deployment: (none)',
  'Trusted accounts for lookup: (none)',
  "Using default execution policy of 'arn:aws:iam::aws:policy/AdministratorAccess'. Pass '--cloudformation-execution-policies' to customize.",
  'CDKToolkit: creating CloudFormation changeset...',
  'CDKToolkit |  0/13 | 5:31:02 PM | REVIEW_IN_PROGRESS   | AWS::CloudFormation::Stack | CDKToolkit User Initiated',
  'CDKToolkit |  1/13 | 5:31:04 PM | CREATE_COMPLETE      | AWS::S3::Bucket            | StagingBucket ',
  ' ✅  Environment aws://000000000000/us-east-1 bootstrapped.',
];

const SYNTH = [
  'Bundling asset SqsJobsExample/Jobs/Lane-high/Consumer/Code/Stage...',
  '',
  '  ...b46c3f997580c1e2ad7ca8b847059a4ffd4e5f3753891d-building/index.js  419.8kb',
  '  ...3f997580c1e2ad7ca8b847059a4ffd4e5f3753891d-building/index.js.map    1.5mb',
  '⚡ Done in 190ms',
  "83 feature flags are not configured. Run 'cdk flags --unstable=flags' to learn more.",
  '✨  Synthesis time: 21.04s',
  'SqsJobsExample: start: Building SqsJobsExample Template',
  'SqsJobsExample: success: Built SqsJobsExample Template',
  'SqsJobsExample: start: Publishing SqsJobsExample Template (000000000000-us-east-1-7b1c0c2a)',
  'SqsJobsExample: success: Published SqsJobsExample Template (000000000000-us-east-1-7b1c0c2a)',
  'SqsJobsExample: deploying... [1/1]',
  'SqsJobsExample: creating CloudFormation changeset...',
];

const event = (done: number, status: string, type: string, name: string, reason = '') =>
  `SqsJobsExample | ${String(done).padStart(3)}/164 | 5:33:${String(done % 60).padStart(2, '0')} PM | ${status.padEnd(20)} | ${type.padEnd(40)} | ${name} ${reason}`;

const DONE = [
  ' ✅  SqsJobsExample',
  '',
  '✨  Deployment time: 57.2s',
  '',
  'Outputs:',
  `SqsJobsExample.JobsConfig5E3E6D8A = {"tableName":"SqsJobsExample-JobsLedger","lanes":{"high":{"queueUrl":"http://127.0.0.1:4566/queue/us-east-1/000000000000/high"}}}`,
  'SqsJobsExample.SideEffectsTable = SqsJobsExample-SideEffects',
  'Stack ARN:',
  'arn:aws:cloudformation:us-east-1:000000000000:stack/SqsJobsExample/6a0b3c2e-0f0e-4c4b-9a61-4c8a2f3f2d11',
  '',
  '✨  Total time: 78.3s',
];

describe('classifyDeployLine', () => {
  it('reads a CloudFormation event line: stack, progress, status', () => {
    const line = classifyDeployLine(
      'SqsJobsExample |  3/57 | 5:33:10 PM | CREATE_COMPLETE      | AWS::SQS::Queue | Lanes/high/Dlq (LanesHighDlq5A2B8C1D) ',
    );
    expect(line).toMatchObject({
      kind: 'event',
      stack: 'SqsJobsExample',
      done: 3,
      total: 57,
      status: 'CREATE_COMPLETE',
    });
  });

  it('counts updates and in-progress events as events too', () => {
    expect(
      classifyDeployLine(event(12, 'UPDATE_COMPLETE', 'AWS::Lambda::Function', 'Jobs/Worker')),
    ).toMatchObject({ kind: 'event', done: 12, total: 164, status: 'UPDATE_COMPLETE' });
    expect(
      classifyDeployLine(event(12, 'CREATE_IN_PROGRESS', 'AWS::DynamoDB::Table', 'Jobs/Ledger')).kind,
    ).toBe('event');
  });

  it('takes a progress column without a total (cdk does not always know it)', () => {
    expect(
      classifyDeployLine(
        'SqsJobsExample |   7 | 5:33:10 PM | CREATE_COMPLETE      | AWS::SQS::Queue | Lanes/high/Queue',
      ),
    ).toMatchObject({ kind: 'event', done: 7, total: undefined });
  });

  it('shows failed resources with their reason, but not the ones CloudFormation cancelled', () => {
    const failed = classifyDeployLine(
      event(
        20,
        'CREATE_FAILED',
        'AWS::Lambda::Function',
        'Jobs/Lane-high/Consumer (JobsLanehighConsumer1)',
        'Resource handler returned message: "Runtime nodejs99.x is not supported"',
      ),
    );
    expect(failed).toMatchObject({ kind: 'error', status: 'CREATE_FAILED', done: 20 });
    const cancelled = classifyDeployLine(
      event(21, 'CREATE_FAILED', 'AWS::SQS::Queue', 'Jobs/Lane-low/Queue', 'Resource creation cancelled'),
    );
    expect(cancelled.kind).toBe('event');
  });

  it("takes the lines of cdk's closing failure list, which have no progress column", () => {
    expect(
      classifyDeployLine(
        'SqsJobsExample | 5:34:02 PM | CREATE_FAILED        | AWS::Lambda::Function | Jobs/Worker (JobsWorker1) Internal error',
      ),
    ).toMatchObject({ kind: 'error', stack: 'SqsJobsExample', done: undefined });
  });

  it('shows a rollback starting as a warning', () => {
    expect(
      classifyDeployLine(
        event(
          22,
          'ROLLBACK_IN_PROGRESS',
          'AWS::CloudFormation::Stack',
          'SqsJobsExample',
          'The following resource(s) failed to create: [JobsWorker1].',
        ),
      ).kind,
    ).toBe('warning');
  });

  it('names the phases of bootstrap, synthesis and deploy', () => {
    const phases = [...BOOTSTRAP, ...SYNTH].filter((l) => classifyDeployLine(l).kind === 'phase');
    expect(phases.map((l) => l.trim())).toEqual([
      '⏳  Bootstrapping environment aws://000000000000/us-east-1...',
      'CDKToolkit: creating CloudFormation changeset...',
      'Bundling asset SqsJobsExample/Jobs/Lane-high/Consumer/Code/Stage...',
      '✨  Synthesis time: 21.04s',
      'SqsJobsExample: deploying... [1/1]',
      'SqsJobsExample: creating CloudFormation changeset...',
    ]);
  });

  it("drops esbuild's file list, asset publishing and cdk's notes", () => {
    for (const line of [...SYNTH.slice(1, 6), ...SYNTH.slice(7, 11), BOOTSTRAP[1], BOOTSTRAP[3]]) {
      expect(classifyDeployLine(line).kind, line).toBe('noise');
    }
  });

  it('reads the result, the outputs and drops the timings deploy.ts reports itself', () => {
    expect(DONE.map((l) => classifyDeployLine(l).kind)).toEqual([
      'result',
      'noise',
      'noise',
      'noise',
      'outputs',
      'output',
      'output',
      'noise',
      'noise',
      'noise',
      'noise',
    ]);
    expect(classifyDeployLine(' ✅  SqsJobsExample (no changes)').kind).toBe('result');
  });

  it('keeps warnings and errors from cdk, esbuild and node', () => {
    const cases: [string, string][] = [
      [
        '[Warning at /SqsJobsExample/Jobs/Lane-high/Consumer] maxConcurrency is below 2 [ack: @aws-cdk/aws-lambda-event-sources:maxConcurrency]',
        'warning',
      ],
      [
        '▲ [WARNING] "import.meta" is not available with the "cjs" output format [empty-import-meta]',
        'warning',
      ],
      ['(node:4242) Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable', 'warning'],
      ['✘ [ERROR] Could not resolve "zod"', 'error'],
      [' ❌  SqsJobsExample failed: ToolkitError: The stack named SqsJobsExample failed to deploy', 'error'],
      ['SqsJobsExample: fail: Bucket named cdk-hnb659fds-assets does not exist', 'error'],
      ['Error: connect ECONNREFUSED 127.0.0.1:4566', 'error'],
      ['Failed resources:', 'error'],
      ['Build failed with 1 error:', 'error'],
    ];
    for (const [line, kind] of cases) expect(classifyDeployLine(line).kind, line).toBe(kind);
  });

  it('strips colour codes', () => {
    expect(classifyDeployLine('\u001b[32m ✅  SqsJobsExample\u001b[39m')).toEqual({
      kind: 'result',
      text: '✅  SqsJobsExample',
    });
  });
});

describe('DeployReporter', () => {
  function reporter(options: { everyMs?: number; everyResources?: number } = {}) {
    const shown: string[] = [];
    let clock = 0;
    const r = new DeployReporter({ log: (l) => shown.push(l), now: () => clock, ...options });
    return {
      shown,
      r,
      at(ms: number, line: string) {
        clock = ms;
        r.line(line);
      },
    };
  }

  it('turns 164 event lines into a few progress lines and the final count', () => {
    // Prepare
    const { shown, r, at } = reporter();
    for (const line of SYNTH) r.line(line);
    // Act: one event every 500 ms
    for (let done = 0; done <= 164; done++) {
      at(done * 500, event(done, 'CREATE_COMPLETE', 'AWS::SQS::Queue', `Jobs/Queue${done}`));
    }
    for (const line of DONE) r.line(line);
    // Assess
    expect(shown).toEqual([
      'Bundling asset SqsJobsExample/Jobs/Lane-high/Consumer/Code/Stage...',
      '✨  Synthesis time: 21.04s',
      'SqsJobsExample: deploying... [1/1]',
      'SqsJobsExample: creating CloudFormation changeset...',
      // every 10 s (20 events) or every 41 resources (a quarter of 164), whichever comes first
      'SqsJobsExample: 20/164 resources done',
      'SqsJobsExample: 40/164 resources done',
      'SqsJobsExample: 60/164 resources done',
      'SqsJobsExample: 80/164 resources done',
      'SqsJobsExample: 100/164 resources done',
      'SqsJobsExample: 120/164 resources done',
      'SqsJobsExample: 140/164 resources done',
      'SqsJobsExample: 160/164 resources done',
      'SqsJobsExample: 164/164 resources done',
      '✅  SqsJobsExample',
      'Outputs:',
      expect.stringMatching(/^ {2}SqsJobsExample\.JobsConfig5E3E6D8A = \{"tableName".{60,}…$/),
      '  SqsJobsExample.SideEffectsTable = SqsJobsExample-SideEffects',
    ]);
    expect(shown[15].length).toBe(2 + 120);
  });

  it('reports every N resources when events come fast', () => {
    const { shown, at } = reporter({ everyResources: 50 });
    for (let done = 0; done <= 164; done++) {
      at(done, event(done, 'UPDATE_COMPLETE', 'AWS::Lambda::Function', `Jobs/Fn${done}`));
    }
    expect(shown).toEqual([
      'SqsJobsExample: 50/164 resources done',
      'SqsJobsExample: 100/164 resources done',
      'SqsJobsExample: 150/164 resources done',
    ]);
  });

  it('counts each stack of an app on its own', () => {
    const { shown, at } = reporter({ everyResources: 5 });
    const other = (done: number) =>
      `SqsJobsProducer | ${String(done).padStart(2)}/8 | 5:40:00 PM | CREATE_COMPLETE      | AWS::SQS::Queue | Q${done}`;
    for (let done = 1; done <= 12; done++)
      at(done, event(done, 'CREATE_COMPLETE', 'AWS::SQS::Queue', `Q${done}`));
    at(20, ' ✅  SqsJobsExample');
    for (let done = 1; done <= 8; done++) at(20 + done, other(done));
    at(40, ' ✅  SqsJobsProducer');
    expect(shown).toEqual([
      'SqsJobsExample: 5/164 resources done',
      'SqsJobsExample: 10/164 resources done',
      'SqsJobsExample: 12/164 resources done',
      '✅  SqsJobsExample',
      'SqsJobsProducer: 5/8 resources done',
      'SqsJobsProducer: 8/8 resources done',
      '✅  SqsJobsProducer',
    ]);
  });

  it('shows a failure as it happens, with the count it happened at', () => {
    const { shown, at } = reporter();
    at(0, event(1, 'CREATE_COMPLETE', 'AWS::SQS::Queue', 'Jobs/Dlq'));
    at(1000, event(2, 'CREATE_FAILED', 'AWS::Lambda::Function', 'Jobs/Worker', 'Internal error'));
    at(1500, event(3, 'CREATE_FAILED', 'AWS::SQS::Queue', 'Jobs/Queue', 'Resource creation cancelled'));
    at(2000, ' ❌  SqsJobsExample failed: ToolkitError: The stack named SqsJobsExample failed to deploy');
    expect(shown).toEqual([
      expect.stringMatching(/CREATE_FAILED +\| AWS::Lambda::Function +\| Jobs\/Worker Internal error$/),
      '❌  SqsJobsExample failed: ToolkitError: The stack named SqsJobsExample failed to deploy',
    ]);
  });

  it("passes on cdk's note on what is still in progress after a quiet spell", () => {
    const { shown, at } = reporter();
    at(0, event(5, 'CREATE_IN_PROGRESS', 'AWS::DynamoDB::Table', 'Jobs/Ledger'));
    at(31_000, ' 5/164 Currently in progress: JobsLedger1234, JobsWorker5678');
    expect(shown).toEqual(['5/164 Currently in progress: JobsLedger1234, JobsWorker5678']);
  });
});
