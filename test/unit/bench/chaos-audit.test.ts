/** The chaos audit on hand-built runs, and the CLI/README helpers of `npm run chaos`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AuditInput,
  audit,
  type ChaosAudit,
  type DlqMessage,
  type EffectCount,
  formatAudit,
  type TrackedJob,
} from '../../../bench/chaos/audit';
import { NO_FAULTS } from '../../../bench/chaos/fault-proxy';
import { type ChaosKind, DEAD_KINDS, DEAD_REASON } from '../../../bench/chaos/plan';
import {
  type ChaosResults,
  DEFAULT_RESULTS,
  DEFAULT_STACK,
  parseArgs,
  writeReadmeBlock,
} from '../../../bench/chaos/run';
import type { JobRecord } from '../../../lambdas/shared/contract';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** A job with its ledger record, effect and DLQ messages, all as its kind promises unless overridden. */
interface Case {
  job: TrackedJob;
  record?: JobRecord;
  effect?: EffectCount;
  dlq: DlqMessage[];
}

function jobOf(jobId: string, kind: ChaosKind, overrides: Partial<TrackedJob> = {}, latencyMs = 100): Case {
  const lane = overrides.lane ?? (kind === 'ordered' ? 'ordered' : 'default');
  const job: TrackedJob = {
    jobId,
    kind,
    lane,
    expect: DEAD_KINDS.has(kind) ? 'DEAD' : 'SUCCEEDED',
    enqueuedAtMs: T0,
    delaySeconds: 0,
    producerDied: false,
    ...overrides,
  };
  if (job.expect === 'DEAD') {
    return {
      job,
      record: { jobId, status: 'DEAD', attempts: 3, lastError: 'boom' },
      dlq: [{ lane: job.lane, jobId, errorType: DEAD_REASON[kind], error: 'boom' }],
    };
  }
  return {
    job,
    record: {
      jobId,
      status: 'SUCCEEDED',
      attempts: 1,
      finishedAt: new Date(T0 + latencyMs).toISOString(),
    },
    effect: { starts: 1, runs: 1, runBy: ['env-a:1'], ranAtMs: T0 + latencyMs },
    dlq: [],
  };
}

function inputOf(cases: Case[], overrides: Partial<AuditInput> = {}): AuditInput {
  const ledger = new Map<string, JobRecord>();
  const effects = new Map<string, EffectCount>();
  for (const c of cases) {
    if (c.record) ledger.set(c.job.jobId, c.record);
    if (c.effect) effects.set(c.job.jobId, c.effect);
  }
  return {
    jobs: cases.map((c) => c.job),
    ledger,
    effects,
    crashedEnvironments: new Set(),
    dlq: cases.flatMap((c) => c.dlq),
    failedEnqueueIds: [],
    faultsInjected: NO_FAULTS,
    proxyRequests: 0,
    wallSeconds: 10,
    drained: true,
    ...overrides,
  };
}

/** Every problem counter, so a test can assert that only the one it provokes moved. */
function problems(result: ChaosAudit) {
  return {
    lost: result.lost,
    doubleRun: result.doubleRun,
    rerunAfterCrash: result.rerunAfterCrash,
    doubleRunOptimistic: result.doubleRunOptimistic,
    deadWithoutReason: result.deadWithoutReason,
    inDlqButNotDead: result.inDlqButNotDead,
    notInDlqButDead: result.notInDlqButDead,
    unexpectedOutcome: result.unexpectedOutcome,
    dlqDuplicateMessages: result.dlqDuplicateMessages,
    fifoOrderViolations: result.fifoOrderViolations,
    failedEnqueuesThatRan: result.failedEnqueuesThatRan,
  };
}

const CLEAN = {
  lost: 0,
  doubleRun: 0,
  rerunAfterCrash: 0,
  doubleRunOptimistic: 0,
  deadWithoutReason: 0,
  inDlqButNotDead: 0,
  notInDlqButDead: 0,
  unexpectedOutcome: 0,
  dlqDuplicateMessages: 0,
  fifoOrderViolations: 0,
  failedEnqueuesThatRan: 0,
};

/** One job of every kind, each ending as its kind promises, plus a second poison job. */
function cleanRun(): Case[] {
  return [
    jobOf('s1', 'succeed'),
    jobOf('o1', 'optimistic'),
    jobOf('f1', 'flaky'),
    jobOf('p1', 'poison', { lane: 'high' }),
    jobOf('p2', 'poison', { lane: 'low' }),
    jobOf('pm1', 'permanent'),
    jobOf('t1', 'timeout'),
    jobOf('a1', 'abort'),
    jobOf('c1', 'crash'),
    jobOf('d1', 'duplicate'),
    jobOf('q0', 'ordered', { groupId: 'acct-0', seq: 0 }, 100),
    jobOf('q1', 'ordered', { groupId: 'acct-0', seq: 1 }, 200),
  ];
}

/** cleanRun with the job `id` replaced by `replacement`. */
function withCase(id: string, replacement: (c: Case) => Case): Case[] {
  return cleanRun().map((c) => (c.job.jobId === id ? replacement(c) : c));
}

describe('audit', () => {
  it('finds no problem in a clean run', () => {
    // Act
    const result = audit(
      inputOf(cleanRun(), { faultsInjected: { ...NO_FAULTS, latency: 3, sqsThrottle: 2 } }),
    );

    // Assess
    expect(problems(result)).toEqual(CLEAN);
    expect(result.problems).toEqual([]);
    expect(result.jobs).toBe(12);
    expect(result.succeeded).toBe(9);
    expect(result.dead).toBe(3);
    expect(result.faultsInjectedTotal).toBe(5);
    expect(result.jobsPerSecond).toBe(1.2);
    expect(result.examples).toEqual({});
    expect(result.byKind.poison).toEqual({
      jobs: 2,
      succeeded: 0,
      dead: 2,
      lost: 0,
      doubleRun: 0,
      unexpected: 0,
    });
    expect(result.byKind.succeed).toEqual({
      jobs: 1,
      succeeded: 1,
      dead: 0,
      lost: 0,
      doubleRun: 0,
      unexpected: 0,
    });
  });

  it('counts a job neither SUCCEEDED nor in a DLQ as lost (and unexpected)', () => {
    // Arrange
    const cases = withCase('s1', (c) => ({ ...c, record: { jobId: 's1', status: 'RUNNING', attempts: 1 } }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, lost: 1, unexpectedOutcome: 1 });
    expect(result.byKind.succeed.lost).toBe(1);
    expect(result.examples.lost).toEqual(['s1']);
    expect(result.succeeded).toBe(8);
    // What each source knew of it, for following up without a second run.
    expect(result.problems).toEqual([
      expect.objectContaining({
        problem: 'lost',
        job: expect.objectContaining({ jobId: 's1', kind: 'succeed' }),
        ledger: { jobId: 's1', status: 'RUNNING', attempts: 1 },
        dlq: [],
      }),
    ]);
  });

  it('counts a job with no ledger record and no DLQ message as lost', () => {
    // Arrange
    const cases = withCase('f1', (c) => ({ job: c.job, dlq: [] }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, lost: 1, unexpectedOutcome: 1 });
    expect(result.examples.lost).toEqual(['f1']);
  });

  it('counts a DEAD job missing from the DLQs as notInDlqButDead and lost', () => {
    // Arrange
    const cases = withCase('p1', (c) => ({ ...c, dlq: [] }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, lost: 1, notInDlqButDead: 1, unexpectedOutcome: 1 });
    expect(result.examples.notInDlqButDead).toEqual(['p1']);
    expect(result.examples.lost).toEqual(['p1']);
  });

  it('counts a dead-lettered job the ledger says SUCCEEDED as inDlqButNotDead', () => {
    // Arrange
    const cases = withCase('s1', (c) => ({
      ...c,
      dlq: [{ lane: 'default', jobId: 's1', errorType: 'AttemptsExhaustedError', error: 'x' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, inDlqButNotDead: 1 });
    expect(result.examples.inDlqButNotDead).toEqual(['s1']);
  });

  it('counts a DEAD record without lastError as deadWithoutReason', () => {
    // Arrange
    const cases = withCase('pm1', (c) => ({ ...c, record: { jobId: 'pm1', status: 'DEAD', attempts: 1 } }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, deadWithoutReason: 1 });
    expect(result.examples.deadWithoutReason).toEqual(['pm1']);
  });

  it('counts a DLQ message without errorType as deadWithoutReason (and unexpected: its reason is missing)', () => {
    // Arrange
    const cases = withCase('pm1', (c) => ({ ...c, dlq: [{ lane: 'default', jobId: 'pm1', error: 'x' }] }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, deadWithoutReason: 1, unexpectedOutcome: 1 });
  });

  it('counts a DLQ message without error text as deadWithoutReason', () => {
    // Arrange
    const cases = withCase('pm1', (c) => ({
      ...c,
      dlq: [{ lane: 'default', jobId: 'pm1', errorType: 'PermanentJobError' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, deadWithoutReason: 1 });
  });

  it('counts a missing lastError and a reasonless DLQ message of one job twice', () => {
    // Arrange
    const cases = withCase('pm1', (c) => ({
      ...c,
      record: { jobId: 'pm1', status: 'DEAD', attempts: 1 },
      dlq: [{ lane: 'default', jobId: 'pm1' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(result.deadWithoutReason).toBe(2);
  });

  it('counts a second run of a strict kind as doubleRun', () => {
    // Arrange
    const cases = withCase('s1', (c) => ({
      ...c,
      effect: { starts: 2, runs: 2, runBy: ['env-a:1', 'env-b:2'], ranAtMs: T0 + 100 },
    }));

    // Act
    const result = audit(inputOf(cases, { crashedEnvironments: new Set(['env-b']) }));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, doubleRun: 1 });
    expect(result.byKind.succeed.doubleRun).toBe(1);
    expect(result.examples.doubleRun).toEqual(['s1']);
  });

  it('counts a second run as rerunAfterCrash when every earlier run was by a crashed environment', () => {
    // Arrange
    const cases = withCase('c1', (c) => ({
      ...c,
      effect: { starts: 3, runs: 3, runBy: ['env-a:1', 'env-b:2', 'env-c:3'], ranAtMs: T0 + 100 },
    }));

    // Act
    const result = audit(inputOf(cases, { crashedEnvironments: new Set(['env-a', 'env-b']) }));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, rerunAfterCrash: 1 });
    expect(result.byKind.crash.doubleRun).toBe(0);
    expect(result.examples.rerunAfterCrash).toEqual(['c1']);
  });

  it('counts a rerun as doubleRun when only some earlier runs were by crashed environments', () => {
    // Arrange
    const cases = withCase('c1', (c) => ({
      ...c,
      effect: { starts: 3, runs: 3, runBy: ['env-a:1', 'env-b:2', 'env-c:3'], ranAtMs: T0 + 100 },
    }));

    // Act
    const result = audit(inputOf(cases, { crashedEnvironments: new Set(['env-a']) }));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, doubleRun: 1 });
  });

  it('counts a second run of the optimistic kind only as doubleRunOptimistic', () => {
    // Arrange
    const cases = withCase('o1', (c) => ({
      ...c,
      effect: { starts: 2, runs: 2, runBy: ['env-a:1', 'env-b:1'], ranAtMs: T0 + 100 },
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, doubleRunOptimistic: 1 });
    expect(result.byKind.optimistic.doubleRun).toBe(0);
  });

  it('counts a poison job in another lane’s DLQ as unexpected', () => {
    // Arrange
    const cases = withCase('p1', (c) => ({
      ...c,
      dlq: [{ lane: 'low', jobId: 'p1', errorType: 'AttemptsExhaustedError', error: 'x' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, unexpectedOutcome: 1 });
    expect(result.byKind.poison.unexpected).toBe(1);
    expect(result.examples['unexpected:poison']).toEqual(['p1']);
  });

  it('counts a poison job dead-lettered with the wrong errorType as unexpected', () => {
    // Arrange
    const cases = withCase('p1', (c) => ({
      ...c,
      dlq: [{ lane: 'high', jobId: 'p1', errorType: 'PermanentJobError', error: 'x' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, unexpectedOutcome: 1 });
  });

  it('counts a DEAD job whose side effect ran as unexpected', () => {
    // Arrange
    const cases = withCase('p1', (c) => ({ ...c, effect: { starts: 1, runs: 1, runBy: ['env-a:1'] } }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, unexpectedOutcome: 1 });
  });

  it('counts a flaky job that ended DEAD in its DLQ as unexpected only', () => {
    // Arrange
    const cases = withCase('f1', (c) => ({
      job: c.job,
      record: { jobId: 'f1', status: 'DEAD', attempts: 3, lastError: 'flaky' },
      dlq: [{ lane: 'default', jobId: 'f1', errorType: 'AttemptsExhaustedError', error: 'flaky' }],
    }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, unexpectedOutcome: 1 });
    expect(result.byKind.flaky).toEqual({
      jobs: 1,
      succeeded: 0,
      dead: 1,
      lost: 0,
      doubleRun: 0,
      unexpected: 1,
    });
    expect(result.examples['unexpected:flaky']).toEqual(['f1']);
  });

  it('counts a SUCCEEDED job whose side effect never ran as unexpected', () => {
    // Arrange
    const cases = withCase('s1', (c) => ({ ...c, effect: undefined }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, unexpectedOutcome: 1 });
  });

  it('counts a second DLQ message for one job once', () => {
    // Arrange
    const cases = withCase('p1', (c) => ({ ...c, dlq: [c.dlq[0], { ...c.dlq[0] }] }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, dlqDuplicateMessages: 1 });
    expect(result.dead).toBe(3);
  });

  it('ignores DLQ messages without a job id', () => {
    // Act
    const result = audit(inputOf(cleanRun(), { dlq: [...inputOf(cleanRun()).dlq, { lane: 'high' }] }));

    // Assess
    expect(problems(result)).toEqual(CLEAN);
  });

  it('counts a FIFO job that ran before an earlier job of its group as an order violation', () => {
    // Arrange: seq 1 ran (at +200) before seq 0 (at +300); another group in order.
    const cases = [
      ...cleanRun().filter((c) => c.job.kind !== 'ordered'),
      jobOf('q0', 'ordered', { groupId: 'acct-0', seq: 0 }, 300),
      jobOf('q1', 'ordered', { groupId: 'acct-0', seq: 1 }, 200),
      jobOf('r0', 'ordered', { groupId: 'acct-1', seq: 0 }, 100),
      jobOf('r1', 'ordered', { groupId: 'acct-1', seq: 1 }, 150),
    ];

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, fifoOrderViolations: 1 });
    expect(result.examples.fifoOrderViolation).toEqual(['q1']);
  });

  it('orders a FIFO group by seq, not by the order the jobs were tracked', () => {
    // Arrange: tracked seq 1 first; they ran in seq order.
    const cases = [
      jobOf('q1', 'ordered', { groupId: 'acct-0', seq: 1 }, 200),
      jobOf('q0', 'ordered', { groupId: 'acct-0', seq: 0 }, 100),
    ];

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(result.fifoOrderViolations).toBe(0);
  });

  it('counts failed enqueues whose job ran anyway', () => {
    // Arrange: ran (effect), ran (ledger SUCCEEDED only), never ran.
    const effects = new Map(inputOf(cleanRun()).effects);
    effects.set('lost-1', { starts: 1, runs: 1, runBy: ['env-a:1'] });
    const ledger = new Map(inputOf(cleanRun()).ledger);
    ledger.set('lost-2', { jobId: 'lost-2', status: 'SUCCEEDED', attempts: 1 });
    ledger.set('lost-3', { jobId: 'lost-3', status: 'ENQUEUED', attempts: 0 });

    // Act
    const result = audit(
      inputOf(cleanRun(), { effects, ledger, failedEnqueueIds: ['lost-1', 'lost-2', 'lost-3', 'lost-4'] }),
    );

    // Assess
    expect(problems(result)).toEqual({ ...CLEAN, failedEnqueuesThatRan: 2 });
    expect(result.failedEnqueues).toBe(4);
  });

  it('takes latency only from undelayed SUCCEEDED jobs whose producer did not die', () => {
    // Arrange
    const cases = [
      jobOf('a', 'succeed', {}, 100),
      jobOf('b', 'succeed', {}, 300),
      jobOf('c', 'flaky', {}, 200),
      jobOf('delayed', 'succeed', { delaySeconds: 5 }, 90_000),
      jobOf('died', 'succeed', { producerDied: true }, 80_000),
      jobOf('dead', 'permanent'),
    ];
    cases[5].record = { ...(cases[5].record as JobRecord), finishedAt: new Date(T0 + 70_000).toISOString() };

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(result.latencyMs).toEqual({ p50: 200, p99: 300, samples: 3 });
  });

  it('reports zero latency without samples', () => {
    // Act
    const result = audit(inputOf([jobOf('dead', 'permanent')]));

    // Assess
    expect(result.latencyMs).toEqual({ p50: 0, p99: 0, samples: 0 });
  });

  it('caps the examples of a problem at 20 but counts them all', () => {
    // Arrange
    const cases = Array.from({ length: 25 }, (_, i) => ({ job: jobOf(`j${i}`, 'succeed').job, dlq: [] }));

    // Act
    const result = audit(inputOf(cases));

    // Assess
    expect(result.lost).toBe(25);
    expect(result.examples.lost).toEqual(Array.from({ length: 20 }, (_, i) => `j${i}`));
    expect(result.examples['unexpected:succeed']).toHaveLength(20);
  });
});

describe('formatAudit', () => {
  it('has a row for every figure and a row per kind', () => {
    // Arrange
    const result = audit(
      inputOf(cleanRun(), { faultsInjected: { ...NO_FAULTS, dynamodbThrottle: 7 }, proxyRequests: 70 }),
    );

    // Act
    const text = formatAudit(result);

    // Assess
    for (const label of [
      'jobs',
      'succeeded',
      'dead (in DLQ)',
      'lost',
      'doubleRun (strict types)',
      'rerunAfterCrash',
      'doubleRun (optimistic type)',
      'deadWithoutReason',
      'inDlqButNotDead',
      'notInDlqButDead',
      'unexpectedOutcome',
      'dlqDuplicateMessages',
      'fifoOrderViolations',
      'failed enqueues (retried) / ran anyway',
      'faults injected',
      '  dynamodbThrottle',
      '  resetAfterForward',
      'drained',
      'wall time',
      'jobs/s',
      'enqueue→finish p50 / p99',
    ]) {
      expect(text).toContain(label);
    }
    expect(text).toMatch(/^faults injected +7 of 70 requests$/m);
    expect(text).toMatch(/^drained +yes$/m);
    expect(text).toMatch(/^poison +2 +0 +2 +0 +0 +0$/m);
    expect(text).toMatch(/^ordered +2 +2 +0 +0 +0 +0$/m);
  });

  it('says when the run did not drain', () => {
    expect(formatAudit(audit(inputOf(cleanRun(), { drained: false })))).toMatch(
      /^drained +NO \(bounded wait ended\)$/m,
    );
  });
});

describe('parseArgs', () => {
  it('defaults to 10,000 jobs, seed 1, the README and the default stack', () => {
    expect(parseArgs([])).toEqual({
      jobs: 10_000,
      seed: 1,
      rates: {},
      drainTimeoutSeconds: undefined,
      out: DEFAULT_RESULTS,
      readme: true,
      stackName: DEFAULT_STACK,
    });
  });

  it('reads flags with separate values', () => {
    expect(
      parseArgs(['--jobs', '250', '--seed', '7', '--reset-after-forward', '0.05', '--no-readme']),
    ).toEqual({
      jobs: 250,
      seed: 7,
      rates: { resetAfterForward: 0.05 },
      drainTimeoutSeconds: undefined,
      out: DEFAULT_RESULTS,
      readme: false,
      stackName: DEFAULT_STACK,
    });
  });

  it('reads the short --reset-before / --reset-after flags', () => {
    expect(parseArgs(['--reset-before', '0.02', '--reset-after', '0.05', '--no-readme']).rates).toEqual({
      resetBeforeForward: 0.02,
      resetAfterForward: 0.05,
    });
  });

  it('refuses an unknown flag, naming it and the flags it knows', () => {
    expect(() => parseArgs(['--job', '250'])).toThrow(/unknown flag --job; flags: --jobs .*--reset-after/);
  });

  it('reads --flag=value and the other flags', () => {
    expect(
      parseArgs(['--jobs=300', '--drain-timeout=120', '--out', '/tmp/x.json', '--stack=S', '--latency=0']),
    ).toEqual({
      jobs: 300,
      seed: 1,
      rates: { latency: 0 },
      drainTimeoutSeconds: 120,
      out: '/tmp/x.json',
      readme: true,
      stackName: 'S',
    });
  });

  it.each([
    [['--jobs', '5'], "--jobs must be an integer from 10 to 1000000, got '5'"],
    [['--jobs', 'abc'], "--jobs must be an integer from 10 to 1000000, got 'abc'"],
    [['--jobs=2.5'], "--jobs must be an integer from 10 to 1000000, got '2.5'"],
    [['--seed', '-1'], "--seed must be an integer from 0 to 2147483648, got '-1'"],
    [['--drain-timeout', '59'], "--drain-timeout must be an integer from 60 to 86400, got '59'"],
    [['--latency', '2'], '--latency must be a number between 0 and 1 (got "2")'],
    [['250'], "unexpected argument '250' (flags look like --jobs 10000)"],
    [['--jobs'], '--jobs needs a value'],
  ])('rejects %j naming the flag, the range and the value', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('writeReadmeBlock', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function results(): ChaosResults {
    const base = audit(
      inputOf(cleanRun(), { faultsInjected: { ...NO_FAULTS, sqsServerError: 4 }, proxyRequests: 99 }),
    );
    return {
      ...base,
      generatedAt: '2026-03-04T05:06:07.000Z',
      run: 'run-abc',
      stackName: DEFAULT_STACK,
      seed: 7,
      faultRates: { ...NO_FAULTS },
      proxy: { byService: {}, injectedByService: {} },
      producer: {
        enqueueCalls: 1,
        batchCalls: 1,
        enqueueRetries: 2,
        producerDeaths: 3,
        resentAfterDeath: 3,
        duplicatesSent: 4,
        schedulesFired: 5,
      },
      machine: { cpus: 8, platform: 'linux', node: 'v22' },
    };
  }

  function readme(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-readme-'));
    dirs.push(dir);
    const file = path.join(dir, 'README.md');
    fs.writeFileSync(file, text);
    return file;
  }

  it('replaces only what is between the markers', () => {
    // Arrange
    const before = '# Title\n\nintro\n\n<!-- chaos:start -->';
    const after = '<!-- chaos:end -->\n\n## Next\n\ntail\n';
    const file = readme(`${before}\nold table\n| a | b |\n${after}`);

    // Act
    const written = writeReadmeBlock(file, results());

    // Assess
    expect(written).toBe(true);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith(`${before}\nRun run-abc on 2026-03-04 (8 cores, seed 7);`)).toBe(true);
    expect(
      text.endsWith(`as the producer enqueues faster than LocalStack drains) | 100 / 200 ms |\n${after}`),
    ).toBe(true);
    expect(text).not.toContain('old table');
    expect(text).toContain('| jobs | 12 |');
    expect(text).toContain('| **lost** | 0 |');
    expect(text).toContain('| faults injected | 4 of 99 requests: 0 DynamoDB throttles, 4 SQS 5xx,');
    expect(text).toContain(
      '| producer | 3 deaths between ledger write and send (all resent), 4 envelopes sent twice,',
    );
  });

  it('writes the same README twice to the same text', () => {
    // Arrange
    const file = readme('a\n<!-- chaos:start -->\n<!-- chaos:end -->\nb\n');

    // Act
    writeReadmeBlock(file, results());
    const once = fs.readFileSync(file, 'utf8');
    writeReadmeBlock(file, results());

    // Assess
    expect(fs.readFileSync(file, 'utf8')).toBe(once);
  });

  it.each([
    ['no markers', '# Title\n\nno table here\n'],
    ['only the start marker', '# Title\n<!-- chaos:start -->\n'],
    ['the markers the wrong way round', '<!-- chaos:end -->\nx\n<!-- chaos:start -->\n'],
  ])('returns false and leaves a README with %s untouched', (_, text) => {
    // Arrange
    const file = readme(text);

    // Act
    const written = writeReadmeBlock(file, results());

    // Assess
    expect(written).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
