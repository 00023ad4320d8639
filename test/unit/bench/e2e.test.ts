import { describe, expect, it } from 'vitest';
import {
  executorFailureLines,
  latencyFigures,
  type PathName,
  type PathRound,
  type RoundObservation,
  roundOrder,
  STALL_SECONDS,
  summarize,
  taintReasons,
} from '../../../bench/e2e';

const clean: RoundObservation = {
  jobs: 300,
  finished: 300,
  drained: true,
  retried: 0,
  dlqMessages: 0,
  executorFailures: [],
  exitedProcesses: 0,
  newProcesses: 0,
};

function pathRound(
  path: PathName,
  jobsPerSecond: number,
  cpuMsPerJob: number | null,
  taint: string[] = [],
  round = 1,
  emulatorCpuMsPerJob: number | null = null,
): PathRound {
  return {
    path,
    round,
    attempt: 1,
    jobs: 300,
    seconds: 300 / jobsPerSecond,
    jobsPerSecond,
    cpuMsPerJob,
    emulatorCpuMsPerJob,
    taint,
  };
}

describe('taintReasons', () => {
  it('has no reason for a clean round', () => {
    expect(taintReasons(clean)).toEqual([]);
  });

  it('names each thing that went wrong', () => {
    const reasons = taintReasons({
      ...clean,
      drained: false,
      drainTimeoutSeconds: 120,
      finished: 290,
      retried: 2,
      dlqMessages: 1,
      executorFailures: ['host-node: X request r1 timed out after 10s, killing the process', 'second'],
      exitedProcesses: 1,
      newProcesses: 3,
    });
    expect(reasons).toHaveLength(7);
    expect(reasons[0]).toBe('the queue did not drain in 120 s');
    expect(reasons[1]).toBe('only 290/300 jobs verified finished');
    expect(reasons[2]).toMatch(/^2 job\(s\) ran more than once/);
    expect(reasons[3]).toBe('1 message(s) in the DLQ');
    expect(reasons[4]).toMatch(/^2 executor failure line\(s\).*first: host-node: X request r1 timed out/);
    expect(reasons[5]).toMatch(/^1 consumer process\(es\) exited/);
    expect(reasons[6]).toMatch(/^3 consumer process\(es\) started/);
  });

  it('taints a drain whose queue depth stood still past the stall bound, not one that kept moving', () => {
    expect(taintReasons({ ...clean, stillSeconds: STALL_SECONDS + 55 })).toEqual([
      `the queue depth stood still for ${STALL_SECONDS + 55} s (messages received but not run: a batch waited out its visibility timeout)`,
    ]);
    expect(taintReasons({ ...clean, stillSeconds: STALL_SECONDS - 1 })).toEqual([]);
  });

  it('treats paths without a ledger or processes (hand-wired attempts, the floor) as clean on those counts', () => {
    const { retried: _r, exitedProcesses: _e, newProcesses: _n, ...rest } = clean;
    expect(taintReasons(rest)).toEqual([]);
  });
});

describe('executorFailureLines', () => {
  it('keeps executor failures, 5xx answers and warnings, not the ones the bench itself causes', () => {
    const log = [
      '2026-12-03T06:21:56.028  INFO --- [  asgi_gw_0] localstack.request.aws     : AWS sqs.ReceiveMessage => 200',
      '2026-12-03T06:21:56.028  WARN --- [t.reactor-59] l.s.lambda_.provider : Updating Lambda Event Source Mapping is in experimental state and not yet fully tested.',
      '2026-12-03T06:21:56.100  WARN --- [ poller] l.s.l.e.esm_worker : Invalid state Disabled for event source mapping b16be852.',
      '2026-12-03T06:21:57.000  INFO --- [ invoke] sqsjobs : host-node: fn request abc timed out after 10.0s, killing the process',
      '2026-12-03T06:21:57.100  INFO --- [ watch] sqsjobs : host-node: process of fn (env 1) exited (signal: killed)',
      '2026-12-03T06:21:57.200  INFO --- [ invoke] sqsjobs : host-node: invoke to http://127.0.0.1:1/invoke not taken (HTTP 409); retrying',
      '2026-12-03T06:21:57.300  INFO --- [  asgi_gw_1] localstack.request.aws     : AWS dynamodb.UpdateItem => 500 (InternalError)',
      '2026-12-03T06:21:57.400 ERROR --- [ poller] l.s.l.e.esm_worker : Error while polling messages',
      '',
    ].join('\n');
    const lines = executorFailureLines(log);
    expect(lines).toHaveLength(5);
    expect(lines.some((l) => l.includes('experimental state'))).toBe(false);
    expect(lines.some((l) => l.includes('Invalid state Disabled'))).toBe(false);
    expect(lines.some((l) => l.includes('=> 200'))).toBe(false);
  });

  it('finds nothing in a quiet log', () => {
    expect(executorFailureLines('')).toEqual([]);
    expect(
      executorFailureLines(
        '2026-12-03T06:21:56.028  INFO --- [gw] localstack.request.aws : AWS sqs.DeleteMessageBatch => 200',
      ),
    ).toEqual([]);
  });
});

describe('summarize', () => {
  it('takes the median of the clean rounds per path and divides ours by the others', () => {
    const rounds = [
      pathRound('ours', 40, 6, [], 1, 20),
      pathRound('ours', 50, 5, [], 2, 22),
      pathRound('ours', 45, 7, [], 3, 21),
      pathRound('handWired', 40, 8, [], 1),
      pathRound('handWired', 44, 4, [], 2),
      pathRound('handWired', 42, 6, [], 3),
      pathRound('floor', 90, 3, [], 1),
      pathRound('floor', 100, 3, [], 2),
      pathRound('floor', 80, 3, [], 3),
    ];
    const s = summarize(rounds);
    expect(s.paths.ours).toEqual({
      jobsPerSecond: 45,
      cpuMsPerJob: 6,
      emulatorCpuMsPerJob: 21,
      cleanRounds: 3,
      taintedRounds: 0,
    });
    expect(s.paths.handWired.jobsPerSecond).toBe(42);
    expect(s.paths.handWired.cpuMsPerJob).toBe(6);
    expect(s.paths.floor.jobsPerSecond).toBe(90);
    expect(s.ratios.throughputVsHandWired).toBeCloseTo(45 / 42, 3);
    expect(s.ratios.cpuPerJobVsHandWired).toBe(1);
    expect(s.ratios.throughputVsFloor).toBe(0.5);
  });

  it('never counts a tainted round', () => {
    const rounds = [
      pathRound('ours', 1000, 0.1, ['1 message(s) in the DLQ']),
      pathRound('ours', 40, 6),
      pathRound('handWired', 1, 100, ['the queue did not drain']),
      pathRound('handWired', 50, 5),
      pathRound('floor', 100, 2),
    ];
    const s = summarize(rounds);
    expect(s.paths.ours).toEqual({
      jobsPerSecond: 40,
      cpuMsPerJob: 6,
      emulatorCpuMsPerJob: null,
      cleanRounds: 1,
      taintedRounds: 1,
    });
    expect(s.paths.handWired).toEqual({
      jobsPerSecond: 50,
      cpuMsPerJob: 5,
      emulatorCpuMsPerJob: null,
      cleanRounds: 1,
      taintedRounds: 1,
    });
    expect(s.ratios.throughputVsHandWired).toBe(0.8);
    expect(s.ratios.cpuPerJobVsHandWired).toBe(1.2);
  });

  it('has no figure and no ratio for a path without a clean round', () => {
    const s = summarize([pathRound('ours', 40, 6), pathRound('handWired', 40, 6, ['tainted'])]);
    expect(s.paths.handWired).toEqual({
      jobsPerSecond: null,
      cpuMsPerJob: null,
      emulatorCpuMsPerJob: null,
      cleanRounds: 0,
      taintedRounds: 1,
    });
    expect(s.paths.floor.cleanRounds).toBe(0);
    expect(s.ratios).toEqual({
      throughputVsHandWired: null,
      cpuPerJobVsHandWired: null,
      throughputVsFloor: null,
    });
  });

  it('leaves rounds without a CPU reading out of the CPU median only', () => {
    const s = summarize([
      pathRound('ours', 40, null),
      pathRound('ours', 50, 4),
      pathRound('ours', 60, 4),
      pathRound('handWired', 50, 8),
    ]);
    expect(s.paths.ours.jobsPerSecond).toBe(50);
    expect(s.paths.ours.cpuMsPerJob).toBe(4);
    expect(s.ratios.cpuPerJobVsHandWired).toBe(0.5);
  });
});

describe('roundOrder', () => {
  it('rotates the paths so each goes first once in three rounds', () => {
    expect(roundOrder(0)).toEqual(['ours', 'handWired', 'floor']);
    expect(roundOrder(1)).toEqual(['handWired', 'floor', 'ours']);
    expect(roundOrder(2)).toEqual(['floor', 'ours', 'handWired']);
    expect(roundOrder(3)).toEqual(roundOrder(0));
  });
});

describe('latencyFigures', () => {
  it('gives p50, p99 and the sample count, or nothing without samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    const f = latencyFigures(samples);
    expect(f?.samples).toBe(100);
    expect(f?.p50).toBeGreaterThanOrEqual(50);
    expect(f?.p50).toBeLessThanOrEqual(51);
    expect(f?.p99).toBeGreaterThanOrEqual(99);
    expect(latencyFigures([])).toBeUndefined();
  });
});
