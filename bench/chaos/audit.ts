/**
 * The chaos audit: every job the run enqueued accounted for from three sources that do not
 * depend on each other — the ledger (what the runtime says), the effects table (what the
 * handlers did, written past the fault proxy) and the DLQ messages (what was dead-lettered).
 * Pure: run.ts gathers the data, this decides.
 */
import type { JobRecord } from '../../lambdas/shared/contract';
import { percentile, round } from '../lib/stats';
import type { FaultKind } from './fault-proxy';
import { CHAOS_KINDS, type ChaosKind, DEAD_REASON, STRICT_KINDS } from './plan';

/** One job as the producer saw it. */
export interface TrackedJob {
  readonly jobId: string;
  readonly kind: ChaosKind;
  readonly lane: string;
  readonly expect: 'SUCCEEDED' | 'DEAD';
  /** Epoch ms when the producer started enqueueing it. */
  readonly enqueuedAtMs: number;
  readonly delaySeconds: number;
  readonly producerDied: boolean;
  /** FIFO group and sequence number (ordered kind). */
  readonly groupId?: string;
  readonly seq?: number;
}

export interface EffectCount {
  readonly starts: number;
  readonly runs: number;
  /** `<environment>:<attempt>` of each counted run, in order. */
  readonly runBy: readonly string[];
  readonly ranAtMs?: number;
}

export interface DlqMessage {
  readonly lane: string;
  readonly jobId?: string;
  readonly errorType?: string;
  readonly error?: string;
}

export interface AuditInput {
  readonly jobs: readonly TrackedJob[];
  readonly ledger: ReadonlyMap<string, JobRecord>;
  readonly effects: ReadonlyMap<string, EffectCount>;
  /** Environments a crash job killed (their marker was written just before the kill). */
  readonly crashedEnvironments: ReadonlySet<string>;
  readonly dlq: readonly DlqMessage[];
  /** Job ids of enqueues that failed at the producer (which then retried with a new job). */
  readonly failedEnqueueIds: readonly string[];
  readonly faultsInjected: Readonly<Record<FaultKind, number>>;
  readonly proxyRequests: number;
  /** Enqueue start to drained, seconds. */
  readonly wallSeconds: number;
  readonly drained: boolean;
}

export interface KindSummary {
  jobs: number;
  succeeded: number;
  dead: number;
  lost: number;
  doubleRun: number;
  unexpected: number;
}

export interface ChaosAudit {
  readonly jobs: number;
  readonly succeeded: number;
  readonly dead: number;
  /** Neither SUCCEEDED in the ledger nor in a DLQ. */
  readonly lost: number;
  /** Strict job types: the side effect counted more than once, not explained by a crash. */
  readonly doubleRun: number;
  /**
   * Strict job types: a second counted run after the first run's environment was SIGKILLed
   * between the side effect and the SUCCEEDED write (at-least-once; no runtime can close that
   * window for an effect outside the ledger).
   */
  readonly rerunAfterCrash: number;
  /** Optimistic job type: concurrent deliveries may both run (not a strict type). */
  readonly doubleRunOptimistic: number;
  readonly deadWithoutReason: number;
  readonly inDlqButNotDead: number;
  readonly notInDlqButDead: number;
  /** A job whose end differs from its kind's (e.g. a flaky job DEAD, a poison job in the wrong DLQ). */
  readonly unexpectedOutcome: number;
  /** More than one DLQ message for one job (a DLQ send retried after it was applied). */
  readonly dlqDuplicateMessages: number;
  /** FIFO jobs whose side effect ran before an earlier job of their group. */
  readonly fifoOrderViolations: number;
  /** Failed producer enqueues (retried as new jobs) whose job ran anyway. */
  readonly failedEnqueues: number;
  readonly failedEnqueuesThatRan: number;
  readonly faultsInjected: Readonly<Record<FaultKind, number>>;
  readonly faultsInjectedTotal: number;
  readonly proxyRequests: number;
  readonly drained: boolean;
  readonly wallSeconds: number;
  readonly jobsPerSecond: number;
  /** Enqueue to finish (ledger finishedAt) of SUCCEEDED jobs enqueued without delay, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly samples: number };
  readonly byKind: Readonly<Record<ChaosKind, KindSummary>>;
  /** Up to 20 job ids per problem, for following up. */
  readonly examples: Readonly<Record<string, readonly string[]>>;
  /**
   * Lost and unexpected jobs (up to 20): what the producer, the ledger, the effects table and the
   * DLQs each knew of it, so that a failed run explains itself without a second run.
   */
  readonly problems: readonly ProblemJob[];
}

export interface ProblemJob {
  readonly problem: string;
  readonly job: TrackedJob;
  readonly ledger?: JobRecord;
  readonly effect?: EffectCount;
  readonly dlq: readonly DlqMessage[];
}

export function audit(input: AuditInput): ChaosAudit {
  const dlqByJob = new Map<string, DlqMessage[]>();
  let dlqDuplicateMessages = 0;
  let deadWithoutReason = 0;
  for (const message of input.dlq) {
    if (!message.jobId) continue;
    const list = dlqByJob.get(message.jobId) ?? [];
    if (list.length > 0) dlqDuplicateMessages++;
    list.push(message);
    dlqByJob.set(message.jobId, list);
    if (!message.errorType || !message.error) deadWithoutReason++;
  }
  const examples: Record<string, string[]> = {};
  const note = (problem: string, jobId: string) => {
    const list = examples[problem] ?? [];
    examples[problem] = list;
    if (list.length < 20) list.push(jobId);
  };
  const byKind = Object.fromEntries(
    CHAOS_KINDS.map((kind) => [
      kind,
      { jobs: 0, succeeded: 0, dead: 0, lost: 0, doubleRun: 0, unexpected: 0 },
    ]),
  ) as Record<ChaosKind, KindSummary>;

  let succeeded = 0;
  let dead = 0;
  let lost = 0;
  let doubleRun = 0;
  let rerunAfterCrash = 0;
  let doubleRunOptimistic = 0;
  let inDlqButNotDead = 0;
  let notInDlqButDead = 0;
  let unexpectedOutcome = 0;
  const latencies: number[] = [];
  const problems: ProblemJob[] = [];

  for (const job of input.jobs) {
    const summary = byKind[job.kind];
    summary.jobs++;
    const record = input.ledger.get(job.jobId);
    const status = record?.status;
    const inDlq = dlqByJob.get(job.jobId) ?? [];
    const effect = input.effects.get(job.jobId);

    if (status === 'SUCCEEDED') {
      succeeded++;
      summary.succeeded++;
      if (job.delaySeconds === 0 && !job.producerDied && record?.finishedAt) {
        latencies.push(Date.parse(record.finishedAt) - job.enqueuedAtMs);
      }
    } else if (status === 'DEAD') {
      dead++;
      summary.dead++;
      if (!record?.lastError) {
        deadWithoutReason++;
        note('deadWithoutReason', job.jobId);
      }
    }
    const isLost = status !== 'SUCCEEDED' && inDlq.length === 0;
    if (isLost) {
      lost++;
      summary.lost++;
      note('lost', job.jobId);
    }
    if (inDlq.length > 0 && status !== 'DEAD') {
      inDlqButNotDead++;
      note('inDlqButNotDead', job.jobId);
    }
    if (status === 'DEAD' && inDlq.length === 0) {
      notInDlqButDead++;
      note('notInDlqButDead', job.jobId);
    }

    // The end its kind promises: SUCCEEDED with its work done once, or DEAD in its own lane's DLQ
    // with its reason and no work done.
    const expectedReason = DEAD_REASON[job.kind];
    const unexpected =
      job.expect === 'SUCCEEDED'
        ? status !== 'SUCCEEDED' || (effect?.runs ?? 0) < 1
        : status !== 'DEAD' ||
          (effect?.runs ?? 0) > 0 ||
          !inDlq.some((m) => m.lane === job.lane && (!expectedReason || m.errorType === expectedReason));
    if (unexpected) {
      unexpectedOutcome++;
      summary.unexpected++;
      note(`unexpected:${job.kind}`, job.jobId);
    }
    if ((isLost || unexpected) && problems.length < 20) {
      const problem = isLost ? 'lost' : `unexpected:${job.kind}`;
      problems.push({ problem, job, ledger: record, effect, dlq: inDlq });
    }

    const runs = effect?.runs ?? 0;
    if (runs > 1) {
      if (!STRICT_KINDS.has(job.kind)) {
        doubleRunOptimistic++;
      } else if (explainedByCrash(effect as EffectCount, input.crashedEnvironments)) {
        rerunAfterCrash++;
        note('rerunAfterCrash', job.jobId);
      } else {
        doubleRun++;
        summary.doubleRun++;
        note('doubleRun', job.jobId);
      }
    }
  }

  const fifoOrderViolations = countOrderViolations(input.jobs, input.effects, note);
  const failedEnqueuesThatRan = input.failedEnqueueIds.filter(
    (id) => (input.effects.get(id)?.runs ?? 0) > 0 || input.ledger.get(id)?.status === 'SUCCEEDED',
  ).length;
  const faultsInjectedTotal = Object.values(input.faultsInjected).reduce((a, b) => a + b, 0);
  return {
    jobs: input.jobs.length,
    succeeded,
    dead,
    lost,
    doubleRun,
    rerunAfterCrash,
    doubleRunOptimistic,
    deadWithoutReason,
    inDlqButNotDead,
    notInDlqButDead,
    unexpectedOutcome,
    dlqDuplicateMessages,
    fifoOrderViolations,
    failedEnqueues: input.failedEnqueueIds.length,
    failedEnqueuesThatRan,
    faultsInjected: input.faultsInjected,
    faultsInjectedTotal,
    proxyRequests: input.proxyRequests,
    drained: input.drained,
    wallSeconds: round(input.wallSeconds, 1),
    jobsPerSecond: round(input.jobs.length / Math.max(input.wallSeconds, 0.001), 1),
    latencyMs: {
      p50: latencies.length ? Math.round(percentile(latencies, 50)) : 0,
      p99: latencies.length ? Math.round(percentile(latencies, 99)) : 0,
      samples: latencies.length,
    },
    byKind,
    examples,
    problems,
  };
}

/** Every counted run but the last was done by an environment a crash job killed afterwards. */
function explainedByCrash(effect: EffectCount, crashed: ReadonlySet<string>): boolean {
  const earlier = effect.runBy.slice(0, -1);
  return earlier.length > 0 && earlier.every((by) => crashed.has(by.split(':')[0]));
}

/** Per FIFO group, the first counted run of each job must come in sequence order. */
function countOrderViolations(
  jobs: readonly TrackedJob[],
  effects: ReadonlyMap<string, EffectCount>,
  note: (problem: string, jobId: string) => void,
): number {
  const groups = new Map<string, TrackedJob[]>();
  for (const job of jobs) {
    if (job.groupId === undefined || job.seq === undefined) continue;
    groups.set(job.groupId, [...(groups.get(job.groupId) ?? []), job]);
  }
  let violations = 0;
  for (const group of groups.values()) {
    let latest = Number.NEGATIVE_INFINITY;
    let latestJob = '';
    for (const job of [...group].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))) {
      const at = effects.get(job.jobId)?.ranAtMs;
      if (at === undefined) continue;
      if (at < latest) {
        violations++;
        note('fifoOrderViolation', job.jobId);
        // The earlier job of the group that ran after it, to follow up both.
        note('fifoOrderViolationRanAfter', latestJob);
      } else {
        latest = at;
        latestJob = job.jobId;
      }
    }
  }
  return violations;
}

/** The audit as a fixed-width table for the terminal. */
export function formatAudit(result: ChaosAudit): string {
  const rows: [string, string | number][] = [
    ['jobs', result.jobs],
    ['succeeded', result.succeeded],
    ['dead (in DLQ)', result.dead],
    ['lost', result.lost],
    ['doubleRun (strict types)', result.doubleRun],
    ['rerunAfterCrash', result.rerunAfterCrash],
    ['doubleRun (optimistic type)', result.doubleRunOptimistic],
    ['deadWithoutReason', result.deadWithoutReason],
    ['inDlqButNotDead', result.inDlqButNotDead],
    ['notInDlqButDead', result.notInDlqButDead],
    ['unexpectedOutcome', result.unexpectedOutcome],
    ['dlqDuplicateMessages', result.dlqDuplicateMessages],
    ['fifoOrderViolations', result.fifoOrderViolations],
    ['failed enqueues (retried) / ran anyway', `${result.failedEnqueues} / ${result.failedEnqueuesThatRan}`],
    ['faults injected', `${result.faultsInjectedTotal} of ${result.proxyRequests} requests`],
    ...Object.entries(result.faultsInjected).map(([kind, n]): [string, number] => [`  ${kind}`, n]),
    ['drained', result.drained ? 'yes' : 'NO (bounded wait ended)'],
    ['wall time', `${result.wallSeconds} s`],
    ['jobs/s', result.jobsPerSecond],
    ['enqueue→finish p50 / p99', `${result.latencyMs.p50} / ${result.latencyMs.p99} ms`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  lines.push(
    '',
    `${'kind'.padEnd(11)} ${['jobs', 'ok', 'dead', 'lost', 'double', 'unexpected'].map((h) => h.padStart(7)).join('')}`,
  );
  for (const [kind, s] of Object.entries(result.byKind)) {
    lines.push(
      `${kind.padEnd(11)} ${[s.jobs, s.succeeded, s.dead, s.lost, s.doubleRun, s.unexpected].map((n) => String(n).padStart(7)).join('')}`,
    );
  }
  return lines.join('\n');
}
