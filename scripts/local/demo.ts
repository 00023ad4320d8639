/**
 * The `npm start` demo: enqueue a workload across the lanes of the deployed example stack and
 * follow it live, then print a summary and where to look next.
 *
 * Workload: emails (high), reports with progress (low), a job that fails twice then succeeds, a
 * poison job, a permanent failure, a duplicate (same idempotency key twice), a delayed job and a
 * cron firing (delivered by the Scheduler stand-in, since LocalStack does not fire schedules).
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { registry } from '../../bin/jobs';
import { JobClient } from '../../lambdas/client';
import type { JobRecord } from '../../lambdas/shared/contract';
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import { SchedulerStandIn } from './scheduler-stand-in';

interface Tracked {
  readonly label: string;
  readonly jobId: string;
  readonly lane: string;
  record?: JobRecord;
}

const TERMINAL = new Set(['SUCCEEDED', 'DEAD']);

async function main(): Promise<void> {
  const stackName = process.env.SQS_JOBS_STACK ?? DEFAULT_STACK_NAME;
  // The registry types the payloads and routes each job to its lane.
  const client = await JobClient.fromStack(stackName, { registry });
  const { config } = client;
  const log = (line: string) => console.log(`[demo] ${line}`);
  log(`stack ${stackName}: lanes ${Object.keys(config.lanes).join(', ')}; ledger ${config.tableName}`);

  const tracked: Tracked[] = [];
  const track = (label: string, result: { jobId: string; lane: string; status: string }) => {
    tracked.push({ label, jobId: result.jobId, lane: result.lane });
    log(`enqueued ${label.padEnd(34)} → ${result.lane.padEnd(8)} ${result.status.padEnd(9)} ${result.jobId}`);
  };

  const runId = Date.now().toString(36);
  for (const to of ['ada@example.com', 'grace@example.com', 'alan@example.com']) {
    track(`send-email to ${to}`, await client.enqueue('send-email', { to, subject: 'Welcome' }));
  }
  track(
    'generate-report (5 pages)',
    await client.enqueue('generate-report', { reportId: `r-${runId}`, pages: 5 }),
  );
  track('flaky-task: fails twice, then succeeds', await client.enqueue('flaky-task', { failTimes: 2 }));
  track('flaky-task: poison (always fails)', await client.enqueue('flaky-task', { failTimes: 1_000 }));
  track('flaky-task: permanent error', await client.enqueue('flaky-task', { permanent: true }));
  const key = `welcome-${runId}`;
  const first = await client.enqueue(
    'send-email',
    { to: 'dup@example.com', subject: 'Once' },
    { idempotencyKey: key },
  );
  track('send-email with idempotency key', first);
  const again = await client.enqueue(
    'send-email',
    { to: 'dup@example.com', subject: 'Once' },
    { idempotencyKey: key },
  );
  log(
    `enqueued the same key again            → ${again.status} (same job id: ${again.jobId === first.jobId})`,
  );
  track('flaky-task delayed by 20 s', await client.enqueue('flaky-task', {}, { delaySeconds: 20 }));
  for (let seq = 0; seq < 3; seq++) {
    track(
      `ledger-entry #${seq} (FIFO group)`,
      await client.enqueue('ledger-entry', { account: `acct-${runId}`, seq }, { groupId: `acct-${runId}` }),
    );
  }
  const standIn = new SchedulerStandIn();
  for (const schedule of await standIn.list(config.scheduleGroup)) {
    if (!schedule.ScheduleExpression?.startsWith('cron(')) continue;
    const fired = await standIn.fire(config.scheduleGroup, schedule.Name ?? '');
    const prefix = JSON.parse(schedule.Target?.Input ?? '{}').id.split('<')[0];
    tracked.push({
      label: `cron ${schedule.ScheduleExpression} firing`,
      jobId: `${prefix}${fired.scheduledTime}`,
      lane: 'low',
    });
    log(
      `fired schedule ${schedule.Name} for ${fired.scheduledTime} (the stand-in for EventBridge Scheduler)`,
    );
  }

  log('following the jobs (Ctrl-C to stop) ...');
  const started = Date.now();
  const timeoutMs = Number(process.env.DEMO_TIMEOUT_SECONDS ?? 240) * 1000;
  for (;;) {
    await Promise.all(tracked.map(async (job) => (job.record = await client.getJob(job.jobId))));
    const lanes = [...new Set(tracked.map((job) => job.lane))];
    const parts = lanes.map((lane) => {
      const jobs = tracked.filter((job) => job.lane === lane);
      const count = (pred: (job: Tracked) => boolean) => jobs.filter(pred).length;
      return `${lane}: ${count((j) => !j.record || j.record.status === 'ENQUEUED')} queued, ${count((j) => j.record?.status === 'RUNNING')} running, ${count((j) => j.record?.status === 'SUCCEEDED')} ok, ${count((j) => (j.record?.attempts ?? 0) > 1 || j.record?.status === 'FAILED')} retried, ${count((j) => j.record?.status === 'DEAD')} dead`;
    });
    log(`${Math.round((Date.now() - started) / 1000)}s  ${parts.join(' | ')}`);
    if (tracked.every((job) => job.record?.status && TERMINAL.has(job.record.status))) break;
    if (Date.now() - started > timeoutMs) {
      log(`stopped following after ${timeoutMs / 1000} s; some jobs are still in flight`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }

  console.log('\nSummary');
  console.table(
    tracked.map((job) => ({
      job: job.label,
      lane: job.lane,
      status: job.record?.status ?? 'not started',
      attempts: job.record?.attempts ?? 0,
      outcome:
        job.record?.status === 'SUCCEEDED'
          ? JSON.stringify(job.record.result ?? null).slice(0, 60)
          : (job.record?.lastError ?? ''),
    })),
  );

  const sqs = new SQSClient({});
  console.log('\nDead-letter queues');
  for (const [lane, laneConfig] of Object.entries(config.lanes)) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: laneConfig.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    console.log(
      `  ${lane.padEnd(8)} ${Attributes?.ApproximateNumberOfMessages ?? '?'} message(s)  ${laneConfig.dlqUrl}`,
    );
  }
  const { MetricAlarms = [] } = await new CloudWatchClient({}).send(
    new DescribeAlarmsCommand({ MaxRecords: 100 }),
  );
  const ours = MetricAlarms.filter((a) => a.AlarmActions?.includes(config.alarmTopicArn));
  const byState: Record<string, number> = {};
  for (const alarm of ours) byState[alarm.StateValue ?? '?'] = (byState[alarm.StateValue ?? '?'] ?? 0) + 1;
  console.log(
    `\nAlarms: ${ours.length} (${Object.entries(byState)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}); LocalStack evaluates them every minute`,
  );
  console.log(`
Where to look next
  ledger:     aws dynamodb scan --table-name ${config.tableName}   (with AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL})
  a job:      npm run cli -- status <jobId>
  lanes:      npm run cli -- stats
  DLQ:        npm run cli -- dlq list default   then   npm run cli -- dlq redrive default
  web UI:     npm run console   (lanes, jobs, DLQs, schedules: retry or delete the dead jobs there)
  stop:       bash scripts/localstack/down.sh
The CLI finds this stack from any shell through .local/local-stack.json; where AWS is configured
(AWS_REGION, AWS_PROFILE, ~/.aws/config) add --local: npm run cli -- stats --local`);
}

main().catch((error) => {
  console.error(`[demo] failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
