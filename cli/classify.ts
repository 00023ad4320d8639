/**
 * Maps whatever a command threw onto a CliError with an exit code. Runtime errors are matched by
 * `name`, not `instanceof`: a .ts registry loaded through tsx brings its own copy of the runtime.
 */
import { AwsError, CliError, EXIT, NotFoundError, ValidationError } from './errors';

/** Where the CLI was talking to, for messages. */
export interface ErrorContext {
  readonly stackName?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  /** Where the stack name, endpoint and region came from: `--region`, `AWS_REGION`, `recorded local stack state (<file>)`. */
  readonly stackFrom?: string;
  readonly endpointFrom?: string;
  readonly regionFrom?: string;
  /** What was looked at to find the target (StackTarget.tried), listed in the hint. */
  readonly tried?: readonly string[];
  /** LocalStack, chosen by --local ('local') or by the record npm start left ('recorded'). */
  readonly local?: 'local' | 'recorded';
  /** AWS was configured (flags, variables or ~/.aws files): the ways out then leave AWS_REGION alone. */
  readonly awsConfigured?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const CREDENTIAL_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);

const ACCESS_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError']);

const NOT_FOUND_ERRORS = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'ResourceNotFoundException',
]);

export function toCliError(error: unknown, ctx: ErrorContext = {}): CliError {
  if (error instanceof CliError) return error;
  const e = asRecord(error);
  const name = typeof e.name === 'string' ? e.name : '';
  const message = error instanceof Error ? error.message : String(error);

  switch (name) {
    case 'UnknownLaneError':
      return new NotFoundError(message, { cause: error });
    case 'UnknownJobTypeError':
    case 'PayloadValidationError':
    case 'PayloadTooLargeError':
    case 'IdempotencyKeyConflictError':
      return new ValidationError(message, { cause: error });
    case 'ConfigError':
      // From enqueue options (delay, FIFO group) or a malformed config output.
      return new ValidationError(message, { cause: error });
    case 'EnqueueError':
      if (e.cause !== undefined) {
        const inner = toCliError(e.cause, ctx);
        return new CliError(`${message}: ${inner.message}`, inner.exitCode, {
          cause: error,
          hint: inner.hint,
        });
      }
      return new CliError(message, EXIT.failure, { cause: error });
    case 'BacklogLimitError':
      return new CliError(message, EXIT.failure, { cause: error });
  }

  const aws = awsError(error, ctx);
  if (aws) return aws;
  return new CliError(message || name || 'Unknown error', EXIT.failure, { cause: error });
}

function awsError(error: unknown, ctx: ErrorContext): CliError | undefined {
  const e = asRecord(error);
  const name = typeof e.name === 'string' ? e.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const where = endpointText(ctx);
  const origins = originText(ctx);

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AwsError(
      `No AWS credentials found for ${where} (${message}${origins ? `; ${origins}` : ''})`,
      {
        cause: error,
        hint: withTried(
          ctx,
          'Set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for LocalStack any non-empty test keys work.',
        ),
      },
    );
  }
  if (/Region is missing/i.test(message)) {
    const endpoint = ctx.endpoint
      ? `endpoint ${ctx.endpoint}${ctx.endpointFrom ? ` from ${ctx.endpointFrom}` : ''}`
      : "endpoint: AWS's own for the region";
    return new AwsError(`No AWS region configured (${endpoint}; region: none given)`, {
      cause: error,
      hint: withTried(ctx, 'Set AWS_REGION (or --region), or a region in your AWS profile.'),
    });
  }
  const code = networkCode(error);
  if (code) {
    return new AwsError(`Cannot reach ${where} (${code}${origins ? `; ${origins}` : ''})`, {
      cause: error,
      hint: withTried(
        ctx,
        ctx.local === 'recorded'
          ? `Is LocalStack still running at ${ctx.endpoint}? npm start starts it and deploys the stack again; or set AWS_REGION to use AWS.`
          : ctx.local === 'local'
            ? `Is LocalStack running at ${ctx.endpoint}? npm start starts it and deploys the stack.`
            : ctx.endpoint
              ? 'Is LocalStack (or the endpoint) running? Check AWS_ENDPOINT_URL / --endpoint-url.'
              : 'Check your network, proxy and region.',
      ),
    });
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return new AwsError(`AWS rejected the credentials: ${name}: ${message}`, {
      cause: error,
      hint: 'Refresh or fix your credentials (aws sso login, AWS_PROFILE, access keys).',
    });
  }
  if (ACCESS_ERRORS.has(name)) {
    return new AwsError(`Access denied: ${message}`, { cause: error });
  }
  if (name === 'ValidationError' && /does not exist/i.test(message)) {
    const stack = ctx.stackName ? `Stack '${ctx.stackName}'` : 'The stack';
    const from = [
      ctx.stackFrom ? `stack name from ${ctx.stackFrom}` : undefined,
      origins || undefined,
    ].filter(Boolean);
    return new NotFoundError(`${stack} not found at ${where}${from.length ? ` (${from.join('; ')})` : ''}`, {
      cause: error,
      hint: ctx.local
        ? 'Pass --stack <name> or set SQS_JOBS_STACK; npm start deploys the example stack again.'
        : 'Pass --stack <name> or set SQS_JOBS_STACK; check --region / --profile / AWS_ENDPOINT_URL.',
    });
  }
  if (/PurgeQueueInProgress/.test(name)) {
    return new CliError(`A purge of this queue is already in progress: ${message}`, EXIT.failure, {
      cause: error,
      hint: 'SQS allows one PurgeQueue per queue every 60 seconds; try again in a minute.',
    });
  }
  if (NOT_FOUND_ERRORS.has(name) || /NonExistentQueue/.test(name)) {
    return new NotFoundError(`${name}: ${message}`, {
      cause: error,
      hint: 'Is the stack deployed completely? Its outputs name a resource that does not exist.',
    });
  }
  if (isServiceError(error)) {
    return new AwsError(`${name || 'AWS error'}: ${message}`, { cause: error });
  }
  return undefined;
}

/** The Node/undici network error code hiding in an SDK error, if any. */
export function networkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'TimeoutError';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = networkCode(inner, depth + 1);
      if (code) return code;
    }
  }
  const fromMessage =
    typeof e.message === 'string' && /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/.exec(e.message);
  if (fromMessage) return fromMessage[1];
  return networkCode(e.cause, depth + 1);
}

function isServiceError(error: unknown): boolean {
  const e = asRecord(error);
  const meta = e.$metadata as { httpStatusCode?: number } | undefined;
  return e.$fault === 'client' || e.$fault === 'server' || meta?.httpStatusCode !== undefined;
}

function endpointText(ctx: ErrorContext): string {
  if (ctx.endpoint) return `the AWS endpoint ${ctx.endpoint}`;
  return ctx.region ? `AWS in ${ctx.region}` : 'AWS';
}

/** `endpoint from --endpoint-url, region us-east-1 from AWS_REGION`, or '' when nothing is known. */
function originText(ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.endpoint && ctx.endpointFrom) parts.push(`endpoint from ${ctx.endpointFrom}`);
  if (ctx.regionFrom) parts.push(`region ${ctx.region ? `${ctx.region} ` : ''}from ${ctx.regionFrom}`);
  return parts.join(', ');
}

/**
 * The hint, then what was tried and the ways out: `tried: flags (none); AWS environment (...);
 * local stack state (...) — run npm start, or pass --local, or set AWS_REGION`.
 */
function withTried(ctx: ErrorContext, hint: string): string {
  if (!ctx.tried?.length) return hint;
  const ways = ctx.local
    ? ''
    : ctx.awsConfigured
      ? ' — for the local stack npm start deployed, pass --local'
      : ' — run npm start, or pass --local, or set AWS_REGION';
  return `${hint}\ntried: ${ctx.tried.join('; ')}${ways}`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
