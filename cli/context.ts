/**
 * Finds the stack's JobQueue config and builds the AWS clients every command shares, pointed at
 * the target `locateStack` (./locate) resolved: AWS as configured, or the local stack.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readStackConfig, type StackConfigError } from '../lambdas/client/config';
import { JobClient } from '../lambdas/client/job-client';
import type { JobRegistry } from '../lambdas/registry/types';
import type { JobQueueConfig, LaneConfig } from '../lambdas/shared/contract';
import { isJobsError } from '../lambdas/shared/errors';
import type { ErrorContext } from './classify';
import { NotFoundError } from './errors';
import type { CliIo } from './io';
import { clientConfig, type StackTarget, targetErrorContext } from './locate';

/** The resolved target and the output mode. */
export interface GlobalOptions extends StackTarget {
  readonly json: boolean;
}

export interface AwsClients {
  readonly cloudformation: CloudFormationClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly scheduler: SchedulerClient;
  readonly cloudwatch: CloudWatchClient;
}

export type Lane = LaneConfig & { readonly name: string };

export class StackContext {
  readonly clients: AwsClients;
  private client?: Promise<JobClient>;

  constructor(
    readonly options: GlobalOptions,
    readonly io: CliIo,
  ) {
    const config = clientConfig(options);
    this.clients = {
      cloudformation: new CloudFormationClient(config),
      sqs: new SQSClient(config),
      dynamodb: new DynamoDBClient(config),
      scheduler: new SchedulerClient(config),
      cloudwatch: new CloudWatchClient(config),
    };
  }

  /** For error messages. */
  errorContext(): ErrorContext {
    return targetErrorContext(this.options, this.io.env);
  }

  /** The JobClient for the stack's config output (untyped: no registry). */
  jobClient(): Promise<JobClient> {
    this.client ??= this.findConfig().then((config) => JobClient.fromConfig(config, { ...this.clients }));
    return this.client;
  }

  /**
   * The output described as CONFIG_OUTPUT_DESCRIPTION, like JobClient.fromStack; else the one
   * output whose value is a JobQueue config (LocalStack's DescribeStacks omits descriptions).
   */
  private async findConfig(): Promise<JobQueueConfig> {
    try {
      return await readStackConfig(this.clients.cloudformation, this.options.stack);
    } catch (error) {
      // By brand and name, not instanceof: the config reader may come from another copy of the runtime.
      if (!(isJobsError(error) && error.name === 'ConfigError')) throw error;
      const outputs = (error as Partial<StackConfigError>).outputKeys ?? [];
      throw new NotFoundError(`Stack '${this.options.stack}' has no single JobQueue config output`, {
        cause: error,
        hint: `Is this a stack with one JobQueue? Outputs found: ${outputs.join(', ') || '(none)'}`,
      });
    }
  }

  async config(): Promise<JobQueueConfig> {
    return (await this.jobClient()).config;
  }

  /** A client that validates payloads against `registry`, sharing this context's AWS clients. */
  async typedClient(registry: JobRegistry): Promise<JobClient> {
    const config = await this.config();
    return JobClient.fromConfig(config, { ...this.clients, registry });
  }

  async lane(name: string): Promise<Lane> {
    const config = await this.config();
    // Own keys only: '__proto__' or 'constructor' must not find Object.prototype's members.
    const lane = Object.hasOwn(config.lanes, name) ? config.lanes[name] : undefined;
    if (!lane) {
      throw new NotFoundError(
        `Unknown lane '${name}'; stack '${this.options.stack}' has lanes: ${Object.keys(config.lanes).join(', ')}`,
      );
    }
    return { ...lane, name };
  }

  async lanes(): Promise<Lane[]> {
    const config = await this.config();
    return Object.entries(config.lanes).map(([name, lane]) => ({ ...lane, name }));
  }

  destroy(): void {
    for (const client of Object.values(this.clients)) client.destroy();
  }
}
