/** Parsing the JobQueue config output (JobQueueConfig in contract.ts) with field-naming errors. */
import { z } from 'zod';
import type { JobQueueConfig } from '../shared/contract';
import { ConfigError } from '../shared/errors';

const laneSchema = z.object({
  queueUrl: z.string().min(1),
  queueArn: z.string().min(1),
  dlqUrl: z.string().min(1),
  dlqArn: z.string().min(1),
  fifo: z.boolean(),
  maxAttempts: z.number().int().min(1),
  functionName: z.string(),
});

const configSchema = z.object({
  version: z.literal(1),
  tableName: z.string().min(1),
  defaultLane: z.string().min(1),
  lanes: z.record(z.string(), laneSchema),
  scheduleGroup: z.string().min(1),
  schedulerRoleArn: z.string().min(1),
  scheduleDlqArn: z.string(),
  alarmTopicArn: z.string(),
});

/** Accepts the output's JSON text or the parsed object. */
export function parseJobQueueConfig(input: string | JobQueueConfig): JobQueueConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (cause) {
      throw new ConfigError('JobQueue config', 'the JSON of the stack config output', input.slice(0, 80), {
        cause,
      });
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || '(root)';
    const given = issue?.path.reduce<unknown>(
      (o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k],
      raw,
    );
    throw new ConfigError(`JobQueue config field '${field}'`, issue?.message ?? 'valid', given, {
      cause: parsed.error,
    });
  }
  const config = parsed.data as JobQueueConfig;
  if (!(config.defaultLane in config.lanes)) {
    throw new ConfigError(
      "JobQueue config field 'defaultLane'",
      `one of ${Object.keys(config.lanes).join(', ')}`,
      config.defaultLane,
    );
  }
  return config;
}
