/**
 * The example stack's job registry: the module a JobQueue's `registryEntry` points at.
 * It is bundled into the consumer Lambdas and imported by producers for typed enqueueing.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { defineJob, defineRegistry, groupSummarySchema, PermanentJobError } from '../lambdas/jobs';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** A user-facing email: high lane, strict idempotency so a duplicate delivery never sends twice. */
export const sendEmail = defineJob({
  type: 'send-email',
  lane: 'high',
  idempotency: 'strict',
  schema: z.object({ to: z.string().email(), subject: z.string().min(1).max(200) }),
  handler: async (payload, ctx) => {
    ctx.logger.info('sending email', { to: payload.to });
    return { messageId: `msg-${ctx.jobId.slice(-12)}`, to: payload.to };
  },
});

/** A batch report: low lane, reports progress, optimistic idempotency (1 read + 1 write). */
export const generateReport = defineJob({
  type: 'generate-report',
  lane: 'low',
  idempotency: 'optimistic',
  schema: z.object({ reportId: z.string().min(1), pages: z.number().int().min(1).max(50).default(3) }),
  handler: async (payload, ctx) => {
    for (let page = 1; page <= payload.pages; page++) {
      await sleep(50, ctx.signal);
      await ctx.progress(Math.round((100 * page) / payload.pages));
    }
    return { reportId: payload.reportId, pages: payload.pages };
  },
});

/**
 * A job whose failures are chosen by its payload, to show retries, backoff, dead-lettering and
 * redrive: fail the first `failTimes` attempts, fail until `failUntil`, fail permanently, or sleep.
 */
export const flakyTask = defineJob({
  type: 'flaky-task',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({
    failTimes: z.number().int().min(0).default(0),
    failUntil: z.string().datetime().optional(),
    permanent: z.boolean().default(false),
    sleepMs: z.number().int().min(0).max(60_000).default(0),
  }),
  handler: async (payload, ctx) => {
    if (payload.permanent) throw new PermanentJobError('payload asked for a permanent failure');
    if (payload.sleepMs > 0) await sleep(payload.sleepMs, ctx.signal);
    if (ctx.attempt <= payload.failTimes) {
      throw new Error(`planned failure ${ctx.attempt} of ${payload.failTimes}`);
    }
    if (payload.failUntil && Date.now() < Date.parse(payload.failUntil)) {
      throw new Error(`the downstream service is down until ${payload.failUntil}`);
    }
    return { attempt: ctx.attempt };
  },
});

/** An entry applied in order per account: runs on the FIFO lane. */
export const ledgerEntry = defineJob({
  type: 'ledger-entry',
  lane: 'ordered',
  idempotency: 'strict',
  schema: z.object({
    account: z.string().min(1),
    seq: z.number().int().min(0),
    failTimes: z.number().int().min(0).default(0),
  }),
  handler: async (payload, ctx) => {
    if (ctx.attempt <= payload.failTimes)
      throw new Error(`entry ${payload.seq} failed on attempt ${ctx.attempt}`);
    return { account: payload.account, seq: payload.seq, appliedAt: new Date().toISOString() };
  },
});

/** Fired by the nightly cron schedule. */
export const nightlyCleanup = defineJob({
  type: 'nightly-cleanup',
  lane: 'low',
  idempotency: 'strict',
  schema: z.object({ olderThanDays: z.number().int().min(1).default(30) }),
  handler: async (payload, ctx) => {
    ctx.logger.info('cleaning up', { olderThanDays: payload.olderThanDays });
    return { cleaned: 0, olderThanDays: payload.olderThanDays };
  },
});

/** One id per module instance, so one per Lambda execution environment. */
const environmentId = randomUUID();

/**
 * Sleeps, then reports which execution environment ran it and when (epoch ms): the lane tests
 * measure each lane's concurrency from these. Enqueue it with `lane` set to the lane to measure.
 */
export const laneProbe = defineJob({
  type: 'lane-probe',
  lane: 'default',
  idempotency: 'optimistic',
  schema: z.object({ sleepMs: z.number().int().min(0).max(5_000).default(0) }),
  handler: async (payload, ctx) => {
    const startedAt = Date.now();
    if (payload.sleepMs > 0) await sleep(payload.sleepMs, ctx.signal);
    return { environment: environmentId, lane: ctx.lane, startedAt, finishedAt: Date.now() };
  },
});

/**
 * Job control (README "Job control"): a per-tenant sync, with the tenant as the fair-queue group
 * and in per-tenant metrics; its two variants below add a concurrency and a rate limit. Reports
 * when it ran, so tests can check the limits from the outside.
 */
export const syncAccount = defineJob({
  type: 'sync-account',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({
    tenant: z.string().min(1).max(64),
    sleepMs: z.number().int().min(0).max(5_000).default(0),
  }),
  tenant: (payload) => payload.tenant,
  tenantMetrics: true,
  handler: async (payload, ctx) => {
    const startedAt = Date.now();
    if (payload.sleepMs > 0) await sleep(payload.sleepMs, ctx.signal);
    return { tenant: ctx.tenant, startedAt, finishedAt: Date.now() };
  },
});

/** `sync-account` under a concurrency limit: at most 2 running at once per tenant. */
export const syncAccountConcurrent = defineJob({
  ...syncAccount,
  type: 'sync-account-concurrent',
  concurrency: { limit: 2, key: (payload) => payload.tenant },
});

/** `sync-account` under a rate limit: at most 2 starts per 20 s per tenant (a token bucket). */
export const syncAccountRated = defineJob({
  ...syncAccount,
  type: 'sync-account-rated',
  rateLimit: { limit: 2, perSeconds: 20, key: (payload) => payload.tenant },
});

/**
 * A long job that can be cancelled while it runs: it checks for a cancel request every second
 * (`heartbeatSeconds: 1`) and stops at its abort signal.
 */
export const longTask = defineJob({
  type: 'long-task',
  lane: 'default',
  idempotency: 'strict',
  heartbeatSeconds: 1,
  schema: z.object({ sleepMs: z.number().int().min(0).max(6_000).default(6_000) }),
  handler: async (payload, ctx) => {
    await sleep(payload.sleepMs, ctx.signal);
    return { sleptMs: payload.sleepMs };
  },
});

/**
 * Debounced: many enqueues for one search index within 5 s run once, with the last version
 * (`keep: 'last'`), when the window ends.
 */
export const reindexSearch = defineJob({
  type: 'reindex-search',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({ index: z.string().min(1).max(64), version: z.number().int().min(0) }),
  debounce: { key: (payload) => payload.index, seconds: 5 },
  handler: async (payload) => ({ index: payload.index, version: payload.version }),
});

/** Throttled: the first enqueue per user within 5 s runs at once, the rest are dropped (`keep: 'first'`). */
export const notifyUser = defineJob({
  type: 'notify-user',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({ user: z.string().min(1).max(64), message: z.string().max(200) }),
  debounce: { key: (payload) => payload.user, seconds: 5, keep: 'first' },
  handler: async (payload) => ({ user: payload.user, message: payload.message }),
});

/**
 * An export whose result is larger than the ledger keeps inline (400 bytes of JSON): the consumer
 * stores it in the results bucket and `getJob` reads it back.
 */
export const exportRows = defineJob({
  type: 'export-rows',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({ rows: z.number().int().min(1).max(10_000) }),
  handler: async (payload) => ({
    rows: Array.from({ length: payload.rows }, (_, i) => ({
      id: i,
      name: `row-${String(i).padStart(6, '0')}`,
    })),
  }),
});

/** The example stack's side-effect table (its consumers' SIDE_EFFECTS_TABLE). */
const SIDE_EFFECTS_TABLE = 'SIDE_EFFECTS_TABLE';
let dynamodb: DynamoDBClient | undefined;

/**
 * A side effect: counts one run of `jobId` in the side-effect table, an item `{ id, runs }`. What
 * "ran exactly once" is measured by, from outside the ledger. A no-op where the table is not set.
 */
async function recordRun(jobId: string): Promise<void> {
  const table = process.env[SIDE_EFFECTS_TABLE];
  if (!table) return;
  dynamodb ??= new DynamoDBClient({});
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { id: { S: jobId } },
      UpdateExpression: 'ADD #runs :one',
      ExpressionAttributeNames: { '#runs': 'runs' },
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
}

/** A member of a group (README "Groups and chains"): records its run, optionally sleeps or fails for good. */
export const tally = defineJob({
  type: 'tally',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({
    n: z.number().int(),
    fail: z.boolean().default(false),
    sleepMs: z.number().int().min(0).max(8_000).default(0),
  }),
  handler: async (payload, ctx) => {
    if (payload.sleepMs > 0) await sleep(payload.sleepMs, ctx.signal);
    await recordRun(ctx.jobId);
    if (payload.fail) throw new PermanentJobError(`member ${payload.n} refused`);
    return { n: payload.n };
  },
});

/** A group's callback: gets the group's counts and failed ids under `group`, records its run. */
export const groupReport = defineJob({
  type: 'group-report',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({ label: z.string(), group: groupSummarySchema }),
  handler: async (payload, ctx) => {
    await recordRun(ctx.jobId);
    const { succeeded, dead, cancelled, total } = payload.group;
    return { label: payload.label, total, succeeded, dead, cancelled };
  },
});

/** A step of a chain: adds to the total the step before passed along (`ctx.chain.input`). */
export const pipelineStep = defineJob({
  type: 'pipeline-step',
  lane: 'default',
  idempotency: 'strict',
  schema: z.object({ add: z.number(), fail: z.boolean().default(false) }),
  handler: async (payload, ctx) => {
    await recordRun(ctx.jobId);
    if (payload.fail) throw new PermanentJobError('this step refuses');
    const before = (ctx.chain?.input as { total?: number } | undefined)?.total ?? 0;
    return { total: before + payload.add, step: ctx.chain?.index };
  },
});

export const registry = defineRegistry([
  sendEmail,
  generateReport,
  flakyTask,
  ledgerEntry,
  nightlyCleanup,
  laneProbe,
  syncAccount,
  syncAccountConcurrent,
  syncAccountRated,
  longTask,
  reindexSearch,
  notifyUser,
  exportRows,
  tally,
  groupReport,
  pipelineStep,
]);
