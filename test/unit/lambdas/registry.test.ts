import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { readConsumerConfig } from '../../../lambdas/consumer/config';
import { defineJob, defineRegistry, parsePayload } from '../../../lambdas/registry';
import type { JobContext, PayloadInputOf, PayloadOf } from '../../../lambdas/registry/types';
import { ENVELOPE_VERSION } from '../../../lambdas/shared/contract';
import { createEnvelope, jobIdForKey, readEnvelope } from '../../../lambdas/shared/envelope';
import { ConfigError, JobDefinitionError, PayloadValidationError } from '../../../lambdas/shared/errors';
import { consumerEnv } from './support/fixtures';

const sendEmail = defineJob({
  type: 'send-email',
  lane: 'high',
  schema: z.object({ to: z.string().email(), subject: z.string(), priority: z.number().default(1) }),
  handler: async (payload, ctx: JobContext) => {
    expectTypeOf(payload).toEqualTypeOf<{ to: string; subject: string; priority: number }>();
    return { messageId: `m-${ctx.jobId}` };
  },
});
const resize = defineJob({ type: 'resize', schema: z.object({ key: z.string() }), handler: async () => 1 });
const registry = defineRegistry([sendEmail, resize]);

describe('defineJob / defineRegistry', () => {
  it('flows the schema types to producers (input) and handlers (output)', () => {
    expectTypeOf<PayloadInputOf<typeof registry, 'send-email'>>().toEqualTypeOf<{
      to: string;
      subject: string;
      priority?: number | undefined;
    }>();
    expectTypeOf<PayloadOf<typeof registry, 'resize'>>().toEqualTypeOf<{ key: string }>();
    expectTypeOf(registry.types).toEqualTypeOf<readonly ('send-email' | 'resize')[]>();
  });

  it('defaults idempotency to strict and keeps the options', () => {
    expect(sendEmail.idempotency).toBe('strict');
    expect(sendEmail.lane).toBe('high');
    expect(registry.types).toEqual(['send-email', 'resize']);
    expect(registry.get('resize')).toBe(resize);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('rejects a duplicate job type', () => {
    expect(() => defineRegistry([resize, resize])).toThrow(JobDefinitionError);
    expect(() => defineRegistry([resize, resize])).toThrow(/'resize' is defined twice/);
  });

  it.each([
    [{ maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 1000; got 0/],
    [{ timeoutSeconds: 901 }, /timeoutSeconds must be an integer from 1 to 900; got 901/],
    [{ idempotency: 'sometimes' }, /idempotency must be one of strict, optimistic, none; got "sometimes"/],
    [{ type: 'has space' }, /type must be a string of 1-128 characters/],
    [{ backoff: { capSeconds: 50_000 } }, /backoff.capSeconds must be an integer from 0 to 43200; got 50000/],
  ])('names the field, the allowed values and the value given: %o', (bad, message) => {
    const spec = { type: 'x', schema: z.object({}), handler: async () => undefined, ...bad };
    expect(() => defineJob(spec as never)).toThrow(ConfigError);
    expect(() => defineJob(spec as never)).toThrow(message);
  });

  it('names the failing field path and zod message in PayloadValidationError', () => {
    // Act
    const attempt = () => parsePayload(sendEmail, { to: 'not-an-email', subject: 'hi' });

    // Assess
    expect(attempt).toThrow(PayloadValidationError);
    expect(attempt).toThrow(/Invalid payload for job 'send-email' at 'to': Invalid email/);
  });

  it('applies schema defaults when parsing', () => {
    expect(parsePayload(sendEmail, { to: 'a@b.co', subject: 's' })).toEqual({
      to: 'a@b.co',
      subject: 's',
      priority: 1,
    });
  });
});

describe('envelope', () => {
  it('round-trips an envelope and derives deterministic ids from keys', () => {
    // Prepare
    const envelope = createEnvelope({
      id: jobIdForKey('resize', 'k1'),
      type: 'resize',
      payload: { key: 'a' },
      key: 'k1',
    });

    // Act
    const read = readEnvelope(JSON.stringify(envelope));

    // Assess
    expect(read).toEqual({ ok: true, envelope });
    expect(envelope.v).toBe(ENVELOPE_VERSION);
    expect(jobIdForKey('resize', 'k1')).toBe(envelope.id);
    expect(jobIdForKey('resize', 'k2')).not.toBe(envelope.id);
    expect(jobIdForKey('other', 'k1')).not.toBe(envelope.id);
  });

  it.each([
    ['{oops', 'MalformedMessageError', /not valid JSON/],
    ['[1,2]', 'MalformedMessageError', /not a JSON object/],
    [
      '{"v":2,"id":"j","type":"t","payload":{},"enqueuedAt":"x"}',
      'UnsupportedEnvelopeVersionError',
      /version 2/,
    ],
    ['{"v":1,"type":"t","payload":{},"enqueuedAt":"x"}', 'MalformedMessageError', /'id'/],
    ['{"v":1,"id":"j","type":"t","enqueuedAt":"x"}', 'MalformedMessageError', /'payload' is missing/],
  ])('rejects %s as %s', (body, name, message) => {
    // Act
    const read = readEnvelope(body);

    // Assess
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error.name).toBe(name);
    expect(read.error.message).toMatch(message);
  });

  it('keeps the id and type of an envelope with an unknown version for the ledger', () => {
    const read = readEnvelope('{"v":9,"id":"job-9","type":"resize"}');
    expect(read).toMatchObject({ ok: false, id: 'job-9', type: 'resize' });
  });
});

describe('consumer config', () => {
  it('reads every CONSUMER_ENV variable', () => {
    const config = readConsumerConfig(consumerEnv({ JOBS_FIFO: 'true', JOBS_BATCH_PARALLELISM: '7' }));
    expect(config).toMatchObject({
      tableName: 'ledger',
      lane: 'default',
      fifo: true,
      batchParallelism: 7,
      maxAttempts: 5,
    });
    expect(config.backoff).toEqual({ baseSeconds: 2, capSeconds: 900 });
  });

  it.each([
    [{ JOBS_LEDGER_TABLE: '' }, /JOBS_LEDGER_TABLE must be set/],
    [
      { JOBS_BACKOFF_CAP_SECONDS: '50000' },
      /JOBS_BACKOFF_CAP_SECONDS must be an integer from 0 to 43200; got "50000"/,
    ],
    [{ JOBS_FIFO: 'yes' }, /JOBS_FIFO must be 'true' or 'false'; got "yes"/],
  ])('rejects %o', (bad, message) => {
    expect(() => readConsumerConfig(consumerEnv(bad))).toThrow(message);
  });
});
