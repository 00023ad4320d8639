/**
 * Resolves a synthesized template's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split) to the concrete names, URLs and ARNs CloudFormation would give its resources, so IAM
 * policies, Lambda environments and the config output can be compared and simulated. Every value
 * of one resource is derived from one physical name, so a policy's ARN and the config output's
 * URL for the same queue always agree, as they do once deployed.
 */

export interface DeployedEnv {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: Json; Description?: string }>;
}

/** Removed from lists and objects, as CloudFormation drops AWS::NoValue. */
const NO_VALUE = Symbol('AWS::NoValue');

export class TemplateResolver {
  private readonly names = new Map<string, string>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: DeployedEnv,
  ) {}

  /** The stack's id as AWS::StackId and DescribeStacks give it. */
  get stackId(): string {
    const { region, account, stackName } = this.env;
    return `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/00000000-0000-4000-8000-000000000000`;
  }

  resolve<T = unknown>(value: unknown): T {
    const out = this.walk(value as Json);
    if (out === NO_VALUE) throw new Error('AWS::NoValue at the top level');
    return out as T;
  }

  /** A queue URL → its ARN (what IAM evaluates for calls that name a QueueUrl). */
  static queueArnFromUrl(url: string): string {
    const m = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/(.+)$/.exec(url);
    if (!m) throw new Error(`Not an SQS queue URL: ${url}`);
    return `arn:aws:sqs:${m[1]}:${m[2]}:${m[3]}`;
  }

  private walk(value: Json): Json | typeof NO_VALUE {
    if (Array.isArray(value)) {
      return value.map((v) => this.walk(v)).filter((v): v is Json => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys;
      const arg = value[key];
      switch (key) {
        case 'Ref':
          return this.ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/);
          return this.getAtt(id, attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, Json[]];
          return (this.walk(parts) as Json[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.walk(list) as Json[])[Number(this.walk(index))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, Json];
          return String(this.walk(text)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg)
            ? (arg as [string, Record<string, Json>])
            : [arg as string, {}];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(this.walk(vars[name]));
            const [id, attr] = name.split(/\.(.*)/);
            return String(attr ? this.getAtt(id, attr) : this.ref(id));
          });
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`Unsupported intrinsic ${key}`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = this.walk(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private ref(id: string): Json | typeof NO_VALUE {
    const { account, region, stackName } = this.env;
    switch (id) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return this.stackId;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const type = this.resource(id).Type;
    switch (type) {
      case 'AWS::SQS::Queue':
        return this.getAtt(id, 'QueueUrl');
      case 'AWS::SNS::Topic':
        return this.getAtt(id, 'TopicArn');
      default:
        return this.physicalName(id);
    }
  }

  private getAtt(id: string, attr: string): string {
    const { account, region } = this.env;
    const type = this.resource(id).Type;
    const name = this.physicalName(id);
    const values: Record<string, Record<string, string>> = {
      'AWS::SQS::Queue': {
        Arn: `arn:aws:sqs:${region}:${account}:${name}`,
        QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
        QueueName: name,
      },
      'AWS::DynamoDB::Table': { Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}` },
      'AWS::IAM::Role': { Arn: `arn:aws:iam::${account}:role/${name}`, RoleId: `AROA${name.length}` },
      'AWS::Lambda::Function': { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` },
      'AWS::SNS::Topic': { TopicArn: `arn:aws:sns:${region}:${account}:${name}`, TopicName: name },
      'AWS::Logs::LogGroup': { Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` },
      'AWS::Scheduler::ScheduleGroup': {
        Arn: `arn:aws:scheduler:${region}:${account}:schedule-group/${name}`,
      },
      'AWS::S3::Bucket': { Arn: `arn:aws:s3:::${name}` },
      'AWS::Events::EventBus': { Arn: `arn:aws:events:${region}:${account}:event-bus/${name}`, Name: name },
    };
    const value = values[type]?.[attr];
    if (value === undefined) throw new Error(`No fake value for ${type} ${id}.${attr}`);
    return value;
  }

  /** The name CloudFormation would give: the one in the template, else a generated one. */
  private physicalName(id: string): string {
    const known = this.names.get(id);
    if (known) return known;
    const { Type: type, Properties: props = {} } = this.resource(id);
    const given: Record<string, string> = {
      'AWS::SQS::Queue': 'QueueName',
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::Scheduler::ScheduleGroup': 'Name',
      'AWS::S3::Bucket': 'BucketName',
      'AWS::Events::EventBus': 'Name',
    };
    const prop = given[type];
    let name = prop && props[prop] !== undefined ? String(this.walk(props[prop])) : undefined;
    if (name === undefined) {
      name = `${this.env.stackName}-${id}-GENERATED`;
      if (type === 'AWS::SQS::Queue' && props.FifoQueue === true) name += '.fifo';
    }
    this.names.set(id, name);
    return name;
  }

  private resource(id: string): CfnResource {
    const resource = this.template.Resources[id];
    if (!resource) throw new Error(`No resource ${id} in the template`);
    return resource;
  }
}
