/**
 * The chaos run's job registry (bundled into the chaos stack's consumers): one job type per way a
 * job can go wrong. Every handler counts what it did in the chaos effects table, which the audit
 * reads instead of trusting the ledger it audits.
 *
 * The effects table is reached on LocalStack's own endpoint (CHAOS_EFFECTS_ENDPOINT), never through
 * the fault proxy the runtime's calls go through: a reset after an applied counter update would
 * make the SDK retry it and count one run twice, and the audit would report a double run that
 * never happened.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { defineJob, defineRegistry, type JobContext, PermanentJobError } from '../../lambdas/jobs';

/** Environment of the chaos consumers (set by the chaos stack). */
export const CHAOS_ENV = {
  effectsTable: 'CHAOS_EFFECTS_TABLE',
  effectsEndpoint: 'CHAOS_EFFECTS_ENDPOINT',
} as const;

/** Attribute names of the effects table (partition key `pk`). */
export const EFFECT_ATTR = {
  pk: 'pk',
  /** Handler starts (every attempt that reached the handler). */
  starts: 'starts',
  /** The job's side effect: counted once per run that completed its work. */
  runs: 'runs',
  /** `<environment>:<attempt>` of each counted run, in order. */
  runBy: 'runBy',
  /** Epoch ms of the last counted run. */
  ranAt: 'ranAt',
} as const;

/** Effects-table key of the marker a crash job writes just before it kills its environment. */
export const crashMarkerKey = (environment: string) => `crash#${environment}`;

/** Handler deadline of the timeout and abort jobs, seconds (the consumer timeout is longer). */
export const CHAOS_JOB_TIMEOUT_SECONDS = 2;
/** Attempts before a poison job is dead-lettered. */
export const POISON_MAX_ATTEMPTS = 3;

/** One id per module instance: one per Lambda execution environment (process). */
export const environmentId = randomUUID();

let effectsClient: DynamoDBClient | undefined;
function effects(): { client: DynamoDBClient; table: string } {
  const table = process.env[CHAOS_ENV.effectsTable];
  if (!table) throw new PermanentJobError(`${CHAOS_ENV.effectsTable} is not set`);
  effectsClient ??= new DynamoDBClient({
    endpoint: process.env[CHAOS_ENV.effectsEndpoint] || undefined,
    maxAttempts: 8,
  });
  return { client: effectsClient, table };
}

async function countStart(ctx: JobContext): Promise<void> {
  const { client, table } = effects();
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { [EFFECT_ATTR.pk]: { S: ctx.jobId } },
      UpdateExpression: 'ADD #starts :one',
      ExpressionAttributeNames: { '#starts': EFFECT_ATTR.starts },
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
}

/** The job's side effect. Not idempotent on purpose: a second run counts twice. */
async function countRun(ctx: JobContext): Promise<void> {
  const { client, table } = effects();
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { [EFFECT_ATTR.pk]: { S: ctx.jobId } },
      UpdateExpression:
        'ADD #runs :one SET #runBy = list_append(if_not_exists(#runBy, :empty), :by), #ranAt = :now',
      ExpressionAttributeNames: {
        '#runs': EFFECT_ATTR.runs,
        '#runBy': EFFECT_ATTR.runBy,
        '#ranAt': EFFECT_ATTR.ranAt,
      },
      ExpressionAttributeValues: {
        ':one': { N: '1' },
        ':empty': { L: [] },
        ':by': { L: [{ S: `${environmentId}:${ctx.attempt}` }] },
        ':now': { N: String(Date.now()) },
      },
    }),
  );
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** A job's whole work: counted as started, then as done. */
async function doTheWork(ctx: JobContext): Promise<{ attempt: number }> {
  await countStart(ctx);
  await countRun(ctx);
  return { attempt: ctx.attempt };
}

/** Every chaos payload names its run, so one run's audit never counts another's messages. */
const base = z.object({ run: z.string().min(1).max(64) });

/** Completes its work and counts it. */
export const chaosSucceed = defineJob({
  type: 'chaos-succeed',
  idempotency: 'strict',
  schema: base,
  handler: (_payload, ctx) => doTheWork(ctx),
});

/** Same work in optimistic mode: two concurrent deliveries may both run (not a strict type). */
export const chaosOptimistic = defineJob({
  type: 'chaos-optimistic',
  idempotency: 'optimistic',
  schema: base,
  handler: (_payload, ctx) => doTheWork(ctx),
});

/** Fails retryably on its first `failTimes` attempts, then completes. */
export const chaosFlaky = defineJob({
  type: 'chaos-flaky',
  idempotency: 'strict',
  schema: base.extend({ failTimes: z.number().int().min(1).max(3) }),
  handler: async (payload, ctx) => {
    await countStart(ctx);
    if (ctx.attempt <= payload.failTimes) {
      throw new Error(`planned retryable failure ${ctx.attempt} of ${payload.failTimes}`);
    }
    await countRun(ctx);
    return { attempt: ctx.attempt };
  },
});

/** Always fails retryably: dead-lettered once its attempts are used up. */
export const chaosPoison = defineJob({
  type: 'chaos-poison',
  idempotency: 'strict',
  maxAttempts: POISON_MAX_ATTEMPTS,
  schema: base,
  handler: async (_payload, ctx) => {
    await countStart(ctx);
    throw new Error(`poison: fails on every attempt (this was ${ctx.attempt})`);
  },
});

/** Fails permanently on its first attempt: dead-lettered at once, never retried. */
export const chaosPermanent = defineJob({
  type: 'chaos-permanent',
  idempotency: 'strict',
  schema: base,
  handler: async (_payload, ctx) => {
    await countStart(ctx);
    throw new PermanentJobError('permanent: this input can never succeed');
  },
});

/**
 * Exceeds its deadline once and ignores the abort signal (a handler stuck in a call that takes no
 * signal), then finishes its work late. The runtime must keep the retry from overlapping it.
 */
export const chaosTimeout = defineJob({
  type: 'chaos-timeout',
  idempotency: 'strict',
  timeoutSeconds: CHAOS_JOB_TIMEOUT_SECONDS,
  schema: base,
  handler: async (_payload, ctx) => {
    await countStart(ctx);
    if (ctx.attempt === 1) await sleep(CHAOS_JOB_TIMEOUT_SECONDS * 1000 + 3000);
    await countRun(ctx);
    return { attempt: ctx.attempt };
  },
});

/** Outlasts its deadline once but honours the abort signal: stops at once, retried, then completes. */
export const chaosAbort = defineJob({
  type: 'chaos-abort',
  idempotency: 'strict',
  timeoutSeconds: CHAOS_JOB_TIMEOUT_SECONDS,
  schema: base,
  handler: async (_payload, ctx) => {
    await countStart(ctx);
    if (ctx.attempt === 1) await sleep(CHAOS_JOB_TIMEOUT_SECONDS * 1000 + 3000, ctx.signal);
    await countRun(ctx);
    return { attempt: ctx.attempt };
  },
});

/**
 * Kills its consumer process with SIGKILL on its first attempt (an out-of-memory kill, say): the
 * whole environment dies with the batch it was running. Writes a marker first, so the audit can
 * tell a re-run of a job whose environment died under it from a double run.
 */
export const chaosCrash = defineJob({
  type: 'chaos-crash',
  idempotency: 'strict',
  schema: base,
  handler: async (_payload, ctx) => {
    await countStart(ctx);
    if (ctx.attempt === 1) {
      const { client, table } = effects();
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            [EFFECT_ATTR.pk]: { S: crashMarkerKey(environmentId) },
            [EFFECT_ATTR.ranAt]: { N: String(Date.now()) },
          },
        }),
      );
      process.kill(process.pid, 'SIGKILL');
      await sleep(60_000); // never reached: the signal cannot be caught
    }
    await countRun(ctx);
    return { attempt: ctx.attempt };
  },
});

/** Completes; the run also sends its envelope a second time straight to the queue. */
export const chaosDuplicate = defineJob({
  type: 'chaos-duplicate',
  idempotency: 'strict',
  schema: base,
  handler: (_payload, ctx) => doTheWork(ctx),
});

/** FIFO lane, one group per account; fails retryably `failTimes` times, in order within its group. */
export const chaosOrdered = defineJob({
  type: 'chaos-ordered',
  lane: 'ordered',
  idempotency: 'strict',
  schema: base.extend({ seq: z.number().int().min(0), failTimes: z.number().int().min(0).max(2) }),
  handler: async (payload, ctx) => {
    await countStart(ctx);
    if (ctx.attempt <= payload.failTimes) throw new Error(`ordered entry ${payload.seq} failed once`);
    await countRun(ctx);
    return { seq: payload.seq };
  },
});

export const chaosRegistry = defineRegistry([
  chaosSucceed,
  chaosOptimistic,
  chaosFlaky,
  chaosPoison,
  chaosPermanent,
  chaosTimeout,
  chaosAbort,
  chaosCrash,
  chaosDuplicate,
  chaosOrdered,
]);
