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

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AwsError(`No AWS credentials found (${message})`, {
      cause: error,
      hint: 'Set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for LocalStack any non-empty test keys work.',
    });
  }
  if (/Region is missing/i.test(message)) {
    return new AwsError('No AWS region configured', {
      cause: error,
      hint: 'Set AWS_REGION (or --region), or a region in your AWS profile.',
    });
  }
  const code = networkCode(error);
  if (code) {
    return new AwsError(`Cannot reach ${where} (${code})`, {
      cause: error,
      hint: ctx.endpoint
        ? 'Is LocalStack (or the endpoint) running? Check AWS_ENDPOINT_URL / --endpoint-url.'
        : 'Check your network, proxy and region.',
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
    return new NotFoundError(`${stack} not found at ${where}`, {
      cause: error,
      hint: 'Pass --stack <name> or set SQS_JOBS_STACK; check --region / --profile / AWS_ENDPOINT_URL.',
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

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
