/**
 * Turns SDK calls recorded by aws-sdk-client-mock into the IAM requests AWS authorizes (action,
 * resource ARN, context keys), and evaluates them against a principal's synthesized policies with
 * a real IAM policy evaluator (@cloud-copilot/iam-simulate).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AwsStub } from 'aws-sdk-client-mock';
import { type CfnTemplate, type DeployedEnv, TemplateResolver } from './cfn-resolve';

/** One IAM authorization a call needs. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
  /** The SDK command that needs it, for failure messages. */
  readonly via: string;
}

interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: unknown;
}
interface PolicyDocument {
  readonly Version: string;
  readonly Statement: PolicyStatement[];
}

/** Batch APIs are authorized as their single-message action (SQS API reference, "Permissions"). */
const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  DeleteMessageBatch: 'DeleteMessage',
};

// biome-ignore lint/suspicious/noExplicitAny: the stubs of different clients share no input type
type AnyStub = AwsStub<any, any, any>;

/**
 * Every call the stubs saw, as IAM requests. Unknown commands map to `<service>:<name>` on the
 * resource their input names; a command whose resource cannot be derived fails the test.
 */
export function recordedRequests(stubs: Readonly<Record<string, AnyStub>>, env: DeployedEnv): IamRequest[] {
  const requests: IamRequest[] = [];
  for (const [service, stub] of Object.entries(stubs)) {
    for (const call of stub.calls()) {
      const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      requests.push(
        ...toRequests(service, command.constructor.name.replace(/Command$/, ''), command.input, env),
      );
    }
  }
  return requests;
}

function toRequests(
  service: string,
  name: string,
  input: Record<string, unknown>,
  env: DeployedEnv,
): IamRequest[] {
  const { region, account } = env;
  const via = `${service}:${name}`;
  const one = (action: string, resource: string, context?: Record<string, string>): IamRequest => ({
    action,
    resource,
    context,
    via,
  });
  switch (service) {
    case 'sqs': {
      if (name === 'StartMessageMoveTask') {
        // The caller needs these on the source and the destination (SQS developer guide,
        // "Configure queue permissions for dead-letter queue redrive").
        const source = String(input.SourceArn);
        const destination = String(input.DestinationArn);
        return [
          one('sqs:StartMessageMoveTask', source),
          one('sqs:ReceiveMessage', source),
          one('sqs:DeleteMessage', source),
          one('sqs:GetQueueAttributes', source),
          one('sqs:SendMessage', destination),
        ];
      }
      if (name === 'ListMessageMoveTasks') return [one('sqs:ListMessageMoveTasks', String(input.SourceArn))];
      const action = `sqs:${SQS_BATCH_ACTIONS[name] ?? name}`;
      return [one(action, TemplateResolver.queueArnFromUrl(String(input.QueueUrl)))];
    }
    case 'dynamodb': {
      const table = (tableName: unknown) =>
        `arn:aws:dynamodb:${region}:${account}:table/${String(tableName)}`;
      if (name === 'BatchGetItem' || name === 'BatchWriteItem') {
        return Object.keys((input.RequestItems ?? {}) as object).map((t) =>
          one(`dynamodb:${name}`, table(t)),
        );
      }
      // A Query or Scan of an index is authorized on the index's ARN, not the table's.
      const index = input.IndexName === undefined ? '' : `/index/${String(input.IndexName)}`;
      return [one(`dynamodb:${name}`, `${table(input.TableName)}${index}`)];
    }
    case 'scheduler': {
      if (name === 'ListSchedules') return [one('scheduler:ListSchedules', '*')];
      const schedule = `arn:aws:scheduler:${region}:${account}:schedule/${String(input.GroupName ?? 'default')}/${String(input.Name)}`;
      const requests = [one(`scheduler:${name}`, schedule)];
      const roleArn = (input.Target as { RoleArn?: string } | undefined)?.RoleArn;
      // Handing the target role to Scheduler is an iam:PassRole by the caller.
      if (roleArn) {
        requests.push(one('iam:PassRole', roleArn, { 'iam:PassedToService': 'scheduler.amazonaws.com' }));
      }
      return requests;
    }
    case 'cloudformation':
      return [
        one(
          `cloudformation:${name}`,
          input.StackName === undefined
            ? '*'
            : `arn:aws:cloudformation:${region}:${account}:stack/${String(input.StackName)}/00000000-0000-4000-8000-000000000000`,
        ),
      ];
    case 'cloudwatch':
      // GetMetricData has no resource-level permissions; DescribeAlarms without names reads every alarm.
      return [
        one(
          `cloudwatch:${name}`,
          name === 'DescribeAlarms' ? `arn:aws:cloudwatch:${region}:${account}:alarm:*` : '*',
        ),
      ];
    case 's3':
      // Object actions are authorized on the object's ARN (GetObject, PutObject).
      return [one(`s3:${name}`, `arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`)];
    case 'eventBridge': {
      // PutEvents is authorized on each event bus its entries name (the default bus when none).
      const buses = new Set(
        ((input.Entries ?? []) as { EventBusName?: string }[]).map((e) => e.EventBusName ?? 'default'),
      );
      return [...buses].map((bus) =>
        one(
          'events:PutEvents',
          bus.startsWith('arn:') ? bus : `arn:aws:events:${region}:${account}:event-bus/${bus}`,
        ),
      );
    }
    default:
      throw new Error(`No IAM mapping for ${via}`);
  }
}

/** The resolved identity policy statements attached to a role (AWS::IAM::Policy resources). */
export function rolePolicy(resolver: TemplateResolver, roleLogicalId: string): PolicyDocument {
  const statements: PolicyStatement[] = [];
  for (const resource of Object.values(resolver.template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles ?? []) as { Ref?: string }[];
    if (!roles.some((role) => role.Ref === roleLogicalId)) continue;
    const document = resolver.resolve<PolicyDocument>(resource.Properties?.PolicyDocument);
    statements.push(...document.Statement);
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Every action a policy allows, as written (a wildcard stays a wildcard and fails a set comparison). */
export function grantedActions(policy: PolicyDocument): Set<string> {
  return new Set(
    policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]),
  );
}

/** Queue ARN → its resolved queue policy (the TLS-only deny), so the simulation sees it too. */
export function queuePolicies(resolver: TemplateResolver): Map<string, PolicyDocument> {
  const policies = new Map<string, PolicyDocument>();
  for (const resource of Object.values(resolver.template.Resources)) {
    if (resource.Type !== 'AWS::SQS::QueuePolicy') continue;
    const document = resolver.resolve<PolicyDocument>(resource.Properties?.PolicyDocument);
    for (const url of resolver.resolve<string[]>(resource.Properties?.Queues)) {
      policies.set(TemplateResolver.queueArnFromUrl(url), document);
    }
  }
  return policies;
}

export interface Decision {
  readonly request: IamRequest;
  readonly result: string;
}

/**
 * Evaluates each distinct request as the role would be authorized over TLS in its own account.
 * Returns the decisions that are not `Allowed` (simulation errors included, with their message).
 */
export async function denied(
  requests: readonly IamRequest[],
  principalArn: string,
  identity: PolicyDocument,
  resourcePolicies: ReadonlyMap<string, PolicyDocument>,
  env: DeployedEnv,
): Promise<Decision[]> {
  const distinct = new Map(requests.map((r) => [JSON.stringify([r.action, r.resource, r.context]), r]));
  const failures: Decision[] = [];
  for (const request of distinct.values()) {
    const response = await runSimulation(
      {
        request: {
          principal: principalArn,
          action: request.action,
          resource: { resource: request.resource, accountId: env.account },
          contextVariables: { 'aws:SecureTransport': 'true', ...request.context },
        },
        identityPolicies: [{ name: 'grants', policy: identity }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: resourcePolicies.get(request.resource),
      },
      {},
    );
    const result =
      response.resultType === 'error' ? `error: ${JSON.stringify(response.errors)}` : response.overallResult;
    if (result !== 'Allowed') failures.push({ request, result });
  }
  return failures;
}

export { type CfnTemplate, TemplateResolver };
