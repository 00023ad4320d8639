/**
 * Gathers what `stats` and `top` show: per-lane depths (SQS attributes), age of the oldest
 * message (CloudWatch, the only place SQS publishes it) and the queue's alarm states.
 */
import {
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  GetMetricDataCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { Limits } from '../lambdas/ledger/limits';
import type { JobRegistry } from '../lambdas/registry/types';
import type { Lane, StackContext } from './context';
import { gatherLimits, type LimitStats, renderLimits } from './limits';
import { clip, duration, table } from './render';

export interface LaneStats {
  readonly lane: string;
  readonly fifo: boolean;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Seconds, from CloudWatch's latest ApproximateAgeOfOldestMessage; null when it has no data. */
  readonly oldestAgeSeconds: number | null;
  /** Messages in the lane's DLQ (visible + in flight). */
  readonly dlq: number;
}

export interface AlarmStatus {
  readonly name: string;
  readonly state: string;
  readonly reason?: string;
  readonly updatedAt?: string;
  /** The queues (QueueName dimension) or lanes (Lane dimension) the alarm watches, when it names any. */
  readonly dimensions?: { readonly queues: readonly string[]; readonly lanes: readonly string[] };
}

export interface Stats {
  readonly stack: string;
  readonly at: string;
  readonly lanes: readonly LaneStats[];
  readonly alarms: readonly AlarmStatus[];
  /**
   * The registry's rate limits, concurrency limits and debounce windows, with the state now of
   * those shared by the whole job type; empty when no job type declares one.
   */
  readonly limits?: readonly LimitStats[];
  /** Parts that could not be read (CloudWatch): the rest is still shown. */
  readonly warnings: readonly string[];
}

/** With a registry, its limits too (read from the ledger table). */
export async function gatherStats(stack: StackContext, registry?: JobRegistry): Promise<Stats> {
  const config = await stack.config();
  const lanes = await stack.lanes();
  const warnings: string[] = [];
  const now = stack.io.now();
  const [depths, ages, alarms, limits] = await Promise.all([
    Promise.all(lanes.map((lane) => laneDepths(stack, lane))),
    oldestAges(stack, lanes).catch((error: unknown) => {
      warnings.push(`age of oldest message unavailable: ${(error as Error).message}`);
      return new Map<string, number>();
    }),
    alarmStates(stack, config.alarmTopicArn).catch((error: unknown) => {
      warnings.push(`alarm states unavailable: ${(error as Error).message}`);
      return [];
    }),
    registry === undefined
      ? undefined
      : gatherLimits({
          registry,
          limits: async () =>
            new Limits({ client: stack.clients.dynamodb, tableName: config.tableName, now: () => now }),
          now,
          warn: (text) => warnings.push(text),
        }),
  ]);
  return {
    stack: stack.options.stack,
    at: new Date(now).toISOString(),
    lanes: depths.map((d, i) => ({ ...d, oldestAgeSeconds: ages.get(lanes[i].name) ?? null })),
    alarms,
    ...(limits === undefined ? {} : { limits }),
    warnings,
  };
}

async function laneDepths(stack: StackContext, lane: Lane): Promise<Omit<LaneStats, 'oldestAgeSeconds'>> {
  const [queue, dlq] = await Promise.all([
    attributes(stack, lane.queueUrl, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]),
    attributes(stack, lane.dlqUrl, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']),
  ]);
  return {
    lane: lane.name,
    fifo: lane.fifo,
    visible: queue.ApproximateNumberOfMessages,
    inFlight: queue.ApproximateNumberOfMessagesNotVisible,
    delayed: queue.ApproximateNumberOfMessagesDelayed,
    dlq: dlq.ApproximateNumberOfMessages + dlq.ApproximateNumberOfMessagesNotVisible,
  };
}

export async function attributes<N extends QueueAttributeName>(
  stack: StackContext,
  queueUrl: string,
  names: readonly N[],
): Promise<Record<N, number>> {
  const out = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }),
  );
  return Object.fromEntries(names.map((n) => [n, Number(out.Attributes?.[n] ?? 0)])) as Record<N, number>;
}

export function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

async function oldestAges(stack: StackContext, lanes: readonly Lane[]): Promise<Map<string, number>> {
  const now = stack.io.now();
  const out = await stack.clients.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 15 * 60_000),
      EndTime: new Date(now),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: lanes.map((lane, i) => ({
        Id: `age${i}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: queueName(lane.queueUrl) }],
          },
          Period: 60,
          Stat: 'Maximum',
        },
      })),
    }),
  );
  const ages = new Map<string, number>();
  for (const result of out.MetricDataResults ?? []) {
    const index = Number(result.Id?.slice(3));
    const latest = latestValue(result.Timestamps ?? [], result.Values ?? []);
    if (latest !== undefined && lanes[index]) ages.set(lanes[index].name, latest);
  }
  return ages;
}

function latestValue(timestamps: readonly Date[], values: readonly number[]): number | undefined {
  let best: number | undefined;
  let bestAt = -1;
  values.forEach((v, i) => {
    const at = new Date(timestamps[i] ?? 0).getTime();
    if (at > bestAt) {
      bestAt = at;
      best = v;
    }
  });
  return best;
}

/** Alarms that notify the queue's alarm topic, or are named after the stack. */
async function alarmStates(stack: StackContext, topicArn: string): Promise<AlarmStatus[]> {
  const prefix = `${stack.options.stack}-`;
  const alarms: AlarmStatus[] = [];
  let token: string | undefined;
  do {
    const page: DescribeAlarmsCommandOutput = await stack.clients.cloudwatch.send(
      new DescribeAlarmsCommand({ NextToken: token, MaxRecords: 100 }),
    );
    for (const a of page.MetricAlarms ?? []) {
      const actions = [...(a.AlarmActions ?? []), ...(a.OKActions ?? [])];
      const ours = (topicArn !== '' && actions.includes(topicArn)) || a.AlarmName?.startsWith(prefix);
      if (!ours || !a.AlarmName) continue;
      alarms.push({
        name: a.AlarmName,
        state: a.StateValue ?? 'UNKNOWN',
        reason: a.StateReason,
        updatedAt: a.StateUpdatedTimestamp ? new Date(a.StateUpdatedTimestamp).toISOString() : undefined,
        ...alarmDimensions(a),
      });
    }
    token = page.NextToken;
  } while (token);
  // Firing alarms first, then by name.
  const rank = (s: string) => (s === 'ALARM' ? 0 : s === 'INSUFFICIENT_DATA' ? 1 : 2);
  return alarms.sort((a, b) => rank(a.state) - rank(b.state) || a.name.localeCompare(b.name));
}

/** The QueueName and Lane dimensions of an alarm's metric (or of its metric math's metrics). */
function alarmDimensions(a: MetricAlarm): Pick<AlarmStatus, 'dimensions'> {
  const all = [
    ...(a.Dimensions ?? []),
    ...(a.Metrics ?? []).flatMap((m) => m.MetricStat?.Metric?.Dimensions ?? []),
  ];
  const values = (name: string) => [
    ...new Set(all.filter((d) => d.Name === name && d.Value).map((d) => d.Value as string)),
  ];
  const queues = values('QueueName');
  const lanes = values('Lane');
  return queues.length || lanes.length ? { dimensions: { queues, lanes } } : {};
}

/**
 * The state of the alarms that watch one lane (its queue, its DLQ, or its Lane metrics): ALARM
 * when any fires, else INSUFFICIENT_DATA when any has too little data, else OK; none when no alarm watches it.
 */
export function laneAlarmState(
  lane: { readonly name: string; readonly queueUrl: string; readonly dlqUrl: string },
  alarms: readonly AlarmStatus[],
): { state: 'ALARM' | 'INSUFFICIENT_DATA' | 'OK' | 'NONE'; firing: string[]; count: number } {
  const queues = new Set([queueName(lane.queueUrl), queueName(lane.dlqUrl)]);
  const watching = alarms.filter(
    (a) => a.dimensions?.queues.some((q) => queues.has(q)) || a.dimensions?.lanes.includes(lane.name),
  );
  const firing = watching.filter((a) => a.state === 'ALARM').map((a) => a.name);
  const state =
    watching.length === 0
      ? 'NONE'
      : firing.length
        ? 'ALARM'
        : watching.some((a) => a.state === 'INSUFFICIENT_DATA')
          ? 'INSUFFICIENT_DATA'
          : 'OK';
  return { state, firing, count: watching.length };
}

export function renderStats(stats: Stats): string {
  const lanes = table(
    ['LANE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'OLDEST', 'DLQ'],
    stats.lanes.map((l) => [
      l.fifo ? `${l.lane} (fifo)` : l.lane,
      l.visible,
      l.inFlight,
      l.delayed,
      l.oldestAgeSeconds === null ? undefined : duration(l.oldestAgeSeconds),
      l.dlq,
    ]),
  );
  // People need what is firing; the full list (every state) is in --json.
  const firing = stats.alarms.filter((a) => a.state === 'ALARM');
  const counts = ['ALARM', 'OK', 'INSUFFICIENT_DATA']
    .map((state) => [state, stats.alarms.filter((a) => a.state === state).length] as const)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const alarms =
    stats.alarms.length === 0
      ? 'no alarms found\n'
      : firing.length === 0
        ? ''
        : table(
            ['ALARM', 'STATE', 'SINCE', 'REASON'],
            firing.map((a) => [a.name, a.state, a.updatedAt, clip(a.reason, 70)]),
          );
  const warnings = stats.warnings.map((w) => `warning: ${w}\n`).join('');
  return `${lanes}${renderLimits(stats.limits ?? [])}\nalarms: ${firing.length} firing of ${stats.alarms.length}${counts ? ` (${counts})` : ''}\n${alarms}${warnings}`;
}
