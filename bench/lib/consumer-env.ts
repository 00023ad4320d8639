/**
 * A lane consumer's environment exactly as the synthesized template gives it to the Lambda, with
 * the CloudFormation references resolved to bench stand-ins, plus the variables Lambda itself sets.
 */
import { CONSUMER_ENV } from '../../lambdas/shared/contract';
import type { CfnTemplate } from '../cost-model';

export interface ConsumerFunction {
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
}

export function consumerFunction(
  template: CfnTemplate,
  lane: string,
  resolve: { readonly tableName: string },
): ConsumerFunction {
  const fn = Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.JOBS_LANE === lane,
  );
  if (!fn) throw new Error(`no consumer for lane '${lane}' in the template`);
  const [id, resource] = fn;
  const p = resource.Properties ?? {};
  const vars = (p.Environment as { Variables: Record<string, unknown> }).Variables;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value === 'string') env[name] = value;
    else if (name === 'JOBS_LEDGER_TABLE') env[name] = resolve.tableName;
    // Queue URLs: the bench stubs SQS, any well-formed URL will do.
    else if (name.endsWith('_URL'))
      env[name] = `https://sqs.us-east-1.amazonaws.com/123456789012/bench-${lane}-${name.toLowerCase()}`;
    else env[name] = `bench-${name.toLowerCase()}`;
  }
  const memoryMb = Number(p.MemorySize ?? 128);
  Object.assign(env, {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: id,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${id}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'bench',
  });
  return { env, timeoutMs: Number(p.Timeout ?? 3) * 1000, memoryMb };
}

/**
 * The lane's environment as a `JobQueue` lane has it by default: without the search index and the
 * lifecycle events the example stack opts into (`jobSearch`, `lifecycleEvents`). Part 1 compares
 * our consumer with Powertools doing the same work, and Powertools does neither; part 6 prices
 * both features. Also removed from `process.env`, where an earlier part may have set them.
 */
export function defaultLaneEnv(env: Record<string, string>): Record<string, string> {
  const optIn: readonly string[] = [CONSUMER_ENV.searchIndex, CONSUMER_ENV.eventBus];
  for (const name of optIn) delete process.env[name];
  return Object.fromEntries(Object.entries(env).filter(([name]) => !optIn.includes(name)));
}
