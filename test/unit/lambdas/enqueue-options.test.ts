/** Bad enqueue options: each fails with the option, the allowed values and the value given, and nothing is sent. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../../lambdas/client';
import type { EnqueueOptions } from '../../../lambdas/client/types';
import {
  MAX_CORRELATION_ID_LENGTH,
  MAX_DELAY_SECONDS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  validateEnqueueOptions,
} from '../../../lambdas/client/validate-options';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { ConfigError, PayloadValidationError, UnknownLaneError } from '../../../lambdas/shared/errors';
import { testClientConfig } from './support/client-config';

const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const scheduler = mockClient(SchedulerClient);

const config = testClientConfig();
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

const ping = defineJob({ type: 'ping', schema: z.object({ n: z.number() }), handler: async () => undefined });
const keyed = defineJob({
  type: 'keyed',
  schema: z.object({ id: z.string() }),
  idempotencyKey: (p) => p.id,
  handler: async () => undefined,
});
const loose = defineJob({ type: 'loose', schema: z.unknown(), handler: async () => undefined });
const registry = defineRegistry([ping, keyed, loose]);

function client() {
  return JobClient.fromConfig(config, { registry, now: () => NOW, sleep: async () => undefined });
}

function nothingSent(): void {
  expect(sqs.calls()).toHaveLength(0);
  expect(ddb.calls()).toHaveLength(0);
  expect(scheduler.calls()).toHaveLength(0);
}

beforeEach(() => {
  sqs.reset();
  ddb.reset();
  scheduler.reset();
});

type Case = [
  label: string,
  options: unknown,
  error: typeof ConfigError | typeof UnknownLaneError,
  field: RegExp,
  allowed: RegExp,
  given: RegExp,
];

const longKey = 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1);
// One row per bad input: label, options, error class, then what the message must name.
// biome-ignore format: a table reads better one row per line
const cases: Case[] = [
  ['an empty idempotency key', { idempotencyKey: '' }, ConfigError, /options\.idempotencyKey/, /1-512 characters/, /got ""/],
  ['a whitespace idempotency key', { idempotencyKey: '  \t' }, ConfigError, /options\.idempotencyKey/, /not only whitespace/, /got " {2}\\t"/],
  ['a too-long idempotency key', { idempotencyKey: longKey }, ConfigError, /options\.idempotencyKey/, /1-512 characters/, /513 characters/],
  ['a numeric idempotency key', { idempotencyKey: 42 }, ConfigError, /options\.idempotencyKey/, /a string/, /got 42/],
  ['a negative delay', { delaySeconds: -5 }, ConfigError, /options\.delaySeconds/, /from 0 to 31536000/, /got -5/],
  ['a fractional delay', { delaySeconds: 1.5 }, ConfigError, /options\.delaySeconds/, /whole number/, /got 1\.5/],
  ['a delay over a year', { delaySeconds: MAX_DELAY_SECONDS + 1 }, ConfigError, /options\.delaySeconds/, /365 days/, /got 31536001/],
  ['a delay in milliseconds by mistake', { delaySeconds: 60_000_000_000 }, ConfigError, /options\.delaySeconds/, /31536000/, /got 60000000000/],
  ['a NaN delay', { delaySeconds: Number.NaN }, ConfigError, /options\.delaySeconds/, /whole number/, /got "NaN"/],
  ['an infinite delay', { delaySeconds: Number.POSITIVE_INFINITY }, ConfigError, /options\.delaySeconds/, /whole number/, /got "Infinity"/],
  ['a string delay', { delaySeconds: '60' }, ConfigError, /options\.delaySeconds/, /whole number/, /got "60"/],
  ['an invalid runAt', { runAt: new Date('nope') }, ConfigError, /options\.runAt must/, /a valid Date/, /got "Invalid Date"/],
  ['a runAt string', { runAt: '2025-06-02T00:00:00Z' }, ConfigError, /options\.runAt must/, /a valid Date/, /got "2025-06-02T00:00:00Z"/],
  ['a runAt over a year ahead', { runAt: new Date(NOW + 366 * 86_400_000) }, ConfigError, /options\.runAt must/, /365 days ahead \(until 2026-06-01/, /got "2026-06-02T12:00:00.000Z"/],
  ['both delaySeconds and runAt', { delaySeconds: 60, runAt: new Date(NOW + 60_000) }, ConfigError, /options\.delaySeconds and options\.runAt/, /one or the other/, /"delaySeconds":60/],
  ['lane __proto__', { lane: '__proto__' }, UnknownLaneError, /lane '__proto__'/, /high, default, ordered/, /__proto__/],
  ['lane constructor', { lane: 'constructor' }, UnknownLaneError, /lane 'constructor'/, /high, default, ordered/, /constructor/],
  ['lane toString', { lane: 'toString' }, UnknownLaneError, /lane 'toString'/, /high, default, ordered/, /toString/],
  ['an unknown lane', { lane: 'urgent' }, UnknownLaneError, /lane 'urgent'/, /high, default, ordered/, /urgent/],
  ['an empty lane', { lane: '' }, ConfigError, /options\.lane/, /a non-empty lane name/, /got ""/],
  ['a numeric lane', { lane: 1 }, ConfigError, /options\.lane/, /a non-empty lane name/, /got 1/],
  ['a numeric correlationId', { correlationId: 123 }, ConfigError, /options\.correlationId/, /a non-empty string of at most 256/, /got 123/],
  ['an object correlationId', { correlationId: { id: 'x' } }, ConfigError, /options\.correlationId/, /string/, /got \{"id":"x"\}/],
  ['an empty correlationId', { correlationId: '' }, ConfigError, /options\.correlationId/, /non-empty/, /got ""/],
  ['a too-long correlationId', { correlationId: 'c'.repeat(MAX_CORRELATION_ID_LENGTH + 1) }, ConfigError, /options\.correlationId/, /at most 256/, /257 characters/],
  ['a groupId with spaces', { lane: 'ordered', groupId: 'tenant 1' }, ConfigError, /options\.groupId/, /1-128 characters.*no spaces/, /got "tenant 1"/],
  ['an empty groupId', { lane: 'ordered', groupId: '' }, ConfigError, /options\.groupId/, /1-128 characters/, /got ""/],
  ['a too-long groupId', { lane: 'ordered', groupId: 'g'.repeat(129) }, ConfigError, /options\.groupId/, /1-128 characters/, /129 characters/],
  ['a non-ASCII groupId', { lane: 'ordered', groupId: 'grüße' }, ConfigError, /options\.groupId/, /letters, digits and punctuation/, /got "grüße"/],
  ['no groupId on a FIFO lane', { lane: 'ordered' }, ConfigError, /options\.groupId/, /set \(or a tenant, which then is the group\): lane 'ordered' is FIFO/, /got undefined/],
  ['a misspelt option', { delay: 60 }, ConfigError, /options\.delay must/, /known options are lane, idempotencyKey/, /got 60/],
  ['a non-boolean rerun', { idempotencyKey: 'a', rerun: 'yes' }, ConfigError, /options\.rerun/, /true or false/, /got "yes"/],
  ['null options', null, ConfigError, /enqueue\("ping"\) options must/, /an object/, /got null/],
];

describe('JobClient.enqueue with bad options', () => {
  it.each(cases)(
    'refuses %s, naming the field, the allowed values and the value given',
    async (_label, options, error, field, allowed, given) => {
      // Act
      const failure = await client()
        .enqueue('ping', { n: 1 }, options as EnqueueOptions)
        .catch((e: unknown) => e);

      // Assess
      expect(failure).toBeInstanceOf(error);
      const message = (failure as Error).message;
      expect(message).toMatch(field);
      expect(message).toMatch(allowed);
      expect(message).toMatch(given);
      nothingSent();
    },
  );

  // enqueueBatch reads `item.options ?? {}`: null options there mean none.
  const batchCases = cases.filter(([, options]) => options !== null);

  it.each(batchCases)(
    'fails only that item of a batch for %s, and sends nothing for it',
    async (_label, options, error, field) => {
      // Act
      const [result] = await client().enqueueBatch([
        { type: 'ping', payload: { n: 1 }, options: options as EnqueueOptions },
      ]);

      // Assess
      expect(result.ok).toBe(false);
      const failure = result.ok ? undefined : result.error;
      expect(failure).toBeInstanceOf(error);
      expect(failure?.message).toMatch(field);
      nothingSent();
    },
  );

  it('refuses a key the job derives when it is empty, naming the job’s idempotencyKey function', async () => {
    // Act
    const failure = await client()
      .enqueue('keyed', { id: '' })
      .catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(
      /defineJob\('keyed'\)\.idempotencyKey\(payload\) must be a string of 1-512/,
    );
    nothingSent();
  });

  it.each([
    ['undefined', undefined, /at '\(root\)': a JSON value is required; got undefined/],
    ['a BigInt', { n: 10n }, /at '\(root\)': a JSON-serialisable value \(.*BigInt/],
  ])('refuses a payload of %s that JSON cannot carry', async (_label, payload, pattern) => {
    // Act
    const failure = await client()
      .enqueue('loose', payload)
      .catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(PayloadValidationError);
    expect((failure as Error).message).toMatch(pattern);
    nothingSent();
  });

  it('refuses a type an untyped client could not route, before any call', async () => {
    // Prepare
    const untyped = JobClient.fromConfig(config, { now: () => NOW });

    // Act
    const failure = await untyped.enqueue('', { n: 1 }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(
      /enqueue\(""\) type must be a string of 1-128 characters .*; got ""/,
    );
    nothingSent();
  });
});

describe('JobClient config with a prototype name as its default lane', () => {
  it('refuses defaultLane constructor when the config is read, naming the lanes', () => {
    // Act
    const act = () => JobClient.fromConfig({ ...config, defaultLane: 'constructor' });

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(
      /JobQueue config field 'defaultLane' must be one of high, default, ordered; got "constructor"/,
    );
  });
});

describe('JobClient.enqueue with limits that are allowed', () => {
  it('runs a past runAt now, and ignores options set to undefined', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    const result = await client().enqueue(
      'ping',
      { n: 1 },
      { runAt: new Date(NOW - 3_600_000), lane: undefined, ...({ extra: undefined } as object) },
    );

    // Assess
    expect(result.status).toBe('enqueued');
    expect(sqs.commandCalls(SendMessageCommand)[0].args[0].input.DelaySeconds).toBeUndefined();
  });

  it('accepts the longest delay, key and correlation id', () => {
    // Act
    const valid = validateEnqueueOptions(
      'ping',
      {
        delaySeconds: MAX_DELAY_SECONDS,
        idempotencyKey: 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH),
        correlationId: 'c'.repeat(MAX_CORRELATION_ID_LENGTH),
        groupId: `!~${'g'.repeat(126)}`,
      },
      { now: NOW },
    );

    // Assess
    expect(valid.delaySeconds).toBe(MAX_DELAY_SECONDS);
  });

  it('rounds a runAt up to whole seconds from now', () => {
    // Act
    const valid = validateEnqueueOptions('ping', { runAt: new Date(NOW + 1500) }, { now: NOW });

    // Assess
    expect(valid.delaySeconds).toBe(2);
  });
});
