/** Parsing the JobQueue config output (JobQueueConfig in contract.ts) with field-naming errors. */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { CONFIG_OUTPUT_DESCRIPTION, type JobQueueConfig } from '../shared/contract';
import { ConfigError } from '../shared/errors';

const laneSchema = z.object({
  queueUrl: z.string().min(1),
  queueArn: z.string().min(1),
  dlqUrl: z.string().min(1),
  dlqArn: z.string().min(1),
  fifo: z.boolean(),
  maxAttempts: z.number().int().min(1),
  // Absent in outputs of older versions.
  maxReceiveCount: z.number().int().min(1).optional(),
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
  ledgerTtlSeconds: z.number().int().min(1).optional(),
  // The ledger's search index (`jobSearch: true`); absent when the queue has none.
  searchIndex: z.string().min(1).optional(),
  resultsBucket: z.string().min(1).optional(),
  eventBusName: z.string().min(1).optional(),
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
  // Own keys only: `in` would find 'constructor' or 'toString' on Object.prototype.
  if (!Object.hasOwn(config.lanes, config.defaultLane)) {
    throw new ConfigError(
      "JobQueue config field 'defaultLane'",
      `one of ${Object.keys(config.lanes).join(', ')}`,
      config.defaultLane,
    );
  }
  return config;
}

/** A CloudFormation stack output, as DescribeStacks returns it. */
export interface StackOutput {
  readonly OutputKey?: string;
  readonly OutputValue?: string;
  readonly Description?: string;
}

function isJobQueueConfig(value: string | undefined): boolean {
  try {
    parseJobQueueConfig(value ?? '');
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the JobQueue config among a stack's outputs: the one described as
 * CONFIG_OUTPUT_DESCRIPTION, else the only output whose value is a JobQueue config (LocalStack's
 * DescribeStacks returns no output descriptions). Throws ConfigError naming what was found.
 */
export function configFromStackOutputs(stackName: string, outputs: readonly StackOutput[]): JobQueueConfig {
  const described = outputs.find((o) => o.Description === CONFIG_OUTPUT_DESCRIPTION);
  if (described?.OutputValue) return parseJobQueueConfig(described.OutputValue);
  const configs = outputs.filter((o) => isJobQueueConfig(o.OutputValue));
  if (configs.length === 1) return parseJobQueueConfig(configs[0].OutputValue ?? '');
  throw new ConfigError(
    `Stack '${stackName}' outputs`,
    configs.length > 1
      ? `one JobQueue config, or one described as '${CONFIG_OUTPUT_DESCRIPTION}' (several JobQueues found)`
      : `an output holding a JobQueue config (described as '${CONFIG_OUTPUT_DESCRIPTION}')`,
    outputs.map((o) => o.OutputKey),
  );
}

/**
 * The stack has no single readable JobQueue config output. The message is the ConfigError's;
 * `outputKeys` lists the stack's outputs, for a hint.
 */
export class StackConfigError extends ConfigError {
  constructor(
    readonly stackName: string,
    readonly outputKeys: readonly (string | undefined)[],
    error: ConfigError,
  ) {
    super(error.setting, error.allowed, error.given, { cause: error.cause });
  }
}

/**
 * Calls DescribeStacks and returns the stack's JobQueue config (see configFromStackOutputs). A
 * missing, ambiguous or malformed config output throws StackConfigError (a ConfigError); errors of
 * the call itself (no such stack, credentials) are thrown as the SDK gives them.
 */
export async function readStackConfig(cfn: CloudFormationClient, stackName: string): Promise<JobQueueConfig> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = out.Stacks?.[0]?.Outputs ?? [];
  try {
    return configFromStackOutputs(stackName, outputs);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new StackConfigError(
      stackName,
      outputs.map((o) => o.OutputKey),
      error,
    );
  }
}
