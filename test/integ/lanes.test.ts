/** Lane behaviour on the deployed stack: weighted capacity across lanes, FIFO ordering. */
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../lambdas/shared/contract';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

/** What a `lane-probe` job reports: the environment that ran it, and when (epoch ms). */
interface ProbeRun {
  readonly lane: string;
  readonly environment: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** Enqueues `count` probe jobs on `lane`; returns their job ids. */
async function enqueueProbes(lane: string, count: number, sleepMs: number): Promise<string[]> {
  const results = await stack.client.enqueueBatch(
    Array.from({ length: count }, () => ({
      type: 'lane-probe' as const,
      payload: { sleepMs },
      options: { lane },
    })),
  );
  const failed = results.filter((r) => !r.ok);
  expect(failed, `enqueue failures on ${lane}`).toEqual([]);
  return results.map((r) => (r.ok ? r.jobId : ''));
}

/** Visible (not yet received) and in-flight messages in a lane's queue. */
async function depth(lane: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.config.lanes[lane].queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/**
 * Waits until the lanes' queues are empty (cheap to poll), then until every job is SUCCEEDED in
 * the ledger, and returns the probe results. Ledger reads go 25 at a time and only for jobs still
 * pending.
 */
async function probeRuns(
  what: string,
  lanes: readonly string[],
  jobIds: readonly string[],
  timeoutMs: number,
): Promise<ProbeRun[]> {
  const deadline = Date.now() + timeoutMs;
  await waitFor(
    `${what}: the lanes to drain`,
    async () => {
      const depths = await Promise.all(lanes.map(depth));
      return depths.every((d) => d.visible + d.inFlight === 0) ? true : undefined;
    },
    { timeoutMs, intervalMs: 1_000 },
  );
  const done = new Map<string, JobRecord>();
  await waitFor(
    `${what}: every job SUCCEEDED`,
    async () => {
      const pending = jobIds.filter((id) => !done.has(id));
      for (let i = 0; i < pending.length; i += 25) {
        const records = await Promise.all(pending.slice(i, i + 25).map((id) => stack.client.getJob(id)));
        for (const record of records) if (record?.status === 'SUCCEEDED') done.set(record.jobId, record);
      }
      return done.size === jobIds.length ? true : undefined;
    },
    { timeoutMs: Math.max(60_000, deadline - Date.now()), intervalMs: 5_000 },
  );
  return jobIds.map((id) => done.get(id)?.result as ProbeRun);
}

/**
 * The most environments of one lane running a probe at the same moment within [from, to].
 * An environment runs one invocation at a time, and the jobs of one invocation run side by side,
 * so a lane's environments busy at once is its number of concurrent invocations.
 */
function peakConcurrency(runs: readonly ProbeRun[], from: number, to: number): number {
  const byEnvironment = new Map<string, ProbeRun[]>();
  for (const run of runs)
    byEnvironment.set(run.environment, [...(byEnvironment.get(run.environment) ?? []), run]);
  const edges: [number, number][] = [];
  for (const envRuns of byEnvironment.values()) {
    // Merge the environment's overlapping runs into busy intervals, each counted once.
    envRuns.sort((a, b) => a.startedAt - b.startedAt);
    let start = envRuns[0].startedAt;
    let end = envRuns[0].finishedAt;
    const close = () => {
      const s = Math.max(start, from);
      const e = Math.min(end, to);
      if (s < e) edges.push([s, 1], [e, -1]);
    };
    for (const run of envRuns.slice(1)) {
      if (run.startedAt <= end) end = Math.max(end, run.finishedAt);
      else {
        close();
        start = run.startedAt;
        end = run.finishedAt;
      }
    }
    close();
  }
  // Ends before starts at the same instant: touching intervals do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    current += delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

describe('lanes', () => {
  it('keeps order within a FIFO group when one of its jobs fails', async () => {
    const account = `acct-${Date.now()}`;
    const ids: string[] = [];
    for (let seq = 0; seq < 5; seq++) {
      const { jobId } = await stack.client.enqueue(
        'ledger-entry',
        { account, seq, failTimes: seq === 2 ? 1 : 0 },
        { groupId: account },
      );
      ids.push(jobId);
    }
    const records = await Promise.all(ids.map((id) => waitForStatus(stack, id, ['SUCCEEDED'], 300_000)));
    const applied = records.map((r) => (r.result as { seq: number; appliedAt: string }).appliedAt);
    expect([...applied].sort()).toEqual(applied);
    expect(records[2].attempts).toBe(2);
  });

  it('gives each lane capacity by its weight under a backlog in every lane: high runs more at once than low, within its cap, and low keeps moving', async () => {
    // The deployed event source mappings carry the weights (total 20, weights 6:3:1:1) ...
    const lambda = new LambdaClient({});
    const expected: Record<string, number> = { high: 10, default: 5, low: 2, ordered: 2 };
    for (const [lane, maxConcurrency] of Object.entries(expected)) {
      const { EventSourceMappings = [] } = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: stack.config.lanes[lane].functionName }),
      );
      expect(EventSourceMappings[0]?.ScalingConfig?.MaximumConcurrency).toBe(maxConcurrency);
    }

    // ... and shape capacity (on LocalStack, the host executor runs MaximumConcurrency pollers per
    // SQS mapping, as AWS runs that many batches at once). What the design promises is a cap on
    // each lane's concurrent batches, by weight, with every lane getting some: that is what is
    // measured here, from when and where each job ran, not from how fast the machine drains.
    // On a saturated CPU every job takes longer, but a lane still cannot run more batches at once
    // than it has pollers, and the high lane's ten pollers still hold more batches than low's two.
    const lanes = ['high', 'default', 'low'] as const;
    const batchSize = 10;

    // Warm-up: a round per lane that fills every poller, so the measured round does not count
    // execution environments starting (seconds each on a busy machine) against any lane.
    const warmUp = (
      await Promise.all(lanes.map((lane) => enqueueProbes(lane, expected[lane] * batchSize, 1_000)))
    ).flat();
    const warmed = await probeRuns('the warm-up round', lanes, warmUp, 300_000);
    const warmEnvironments = lanes.map(
      (lane) => new Set(warmed.filter((r) => r.lane === lane).map((r) => r.environment)).size,
    );

    // The measured round: the same backlog in every lane, enqueued side by side. Jobs sleep 2 s,
    // so a batch's run is mostly waiting, not CPU.
    const perLane = 300;
    const from = Date.now();
    const jobIds = (await Promise.all(lanes.map((lane) => enqueueProbes(lane, perLane, 2_000)))).flat();
    // Every lane stays backlogged until the first one has handed out its last message; the
    // window ends there. (Waited for by condition: no lane can run out before a few of its
    // batches have run, whatever the machine's speed.)
    const to = await waitFor(
      'a lane to hand out its last message',
      async () =>
        (await Promise.all(lanes.map(depth))).some((d) => d.visible === 0) ? Date.now() : undefined,
      { timeoutMs: 600_000, intervalMs: 250 },
    );
    // Every job runs to SUCCEEDED.
    const runs = await probeRuns('the measured round', lanes, jobIds, 600_000);

    const figures = Object.fromEntries(
      lanes.map((lane, i) => {
        const laneRuns = runs.filter((r) => r.lane === lane);
        return [
          lane,
          {
            peak: peakConcurrency(laneRuns, from, to),
            peakOverall: peakConcurrency(laneRuns, 0, Number.MAX_SAFE_INTEGER),
            started: laneRuns.filter((r) => r.startedAt >= from && r.startedAt <= to).length,
            finished: laneRuns.filter((r) => r.finishedAt >= from && r.finishedAt <= to).length,
            environments: new Set(laneRuns.map((r) => r.environment)).size,
            warmEnvironments: warmEnvironments[i],
          },
        ];
      }),
    ) as unknown as Record<(typeof lanes)[number], Record<string, number>>;
    console.log(
      `[integ] lane capacity over a ${((to - from) / 1000).toFixed(1)} s window with every lane backlogged: ${lanes
        .map(
          (l) =>
            `${l} peak ${figures[l].peak}/${expected[l]} at once (overall ${figures[l].peakOverall}), ` +
            `${figures[l].started} started, ${figures[l].finished} finished, ` +
            `${figures[l].environments} environments (${figures[l].warmEnvironments} warmed)`,
        )
        .join('; ')}`,
    );

    // No lane ever runs more batches at once than its weight allows ...
    for (const lane of lanes) expect(figures[lane].peakOverall).toBeLessThanOrEqual(expected[lane]);
    // ... the high lane runs more at once than the low lane and gets the larger share of the
    // runs while every lane is backlogged ...
    expect(figures.high.peak).toBeGreaterThan(figures.low.peak);
    expect(figures.high.started).toBeGreaterThan(figures.low.started);
    // ... and the low lane is never starved: it runs jobs while the others are backlogged.
    expect(figures.low.peak).toBeGreaterThanOrEqual(1);
    expect(figures.low.started).toBeGreaterThan(0);
  }, 1_500_000);
});
