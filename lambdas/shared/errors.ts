/**
 * The runtime's error hierarchy: every error a user can catch is a `JobsError`, and the consumer
 * classifies failures by class (permanent ones go to the DLQ at once, everything else retries).
 */

/**
 * Brands, as registered symbols: `Symbol.for` gives every copy of this module the same symbols,
 * so an error thrown by a second copy of the runtime (a user's registry that imports the built
 * package while the consumer was bundled from another path, a .ts registry loaded through tsx)
 * is still recognised where `instanceof` against this copy's classes says no.
 */
const JOBS_ERROR_BRAND = Symbol.for('sqs-jobs.error');
const PERMANENT_BRAND = Symbol.for('sqs-jobs.error.permanent');

/** Marks `error` with a brand; non-enumerable, so logs and JSON of the error do not change. */
function brand(error: Error, symbol: symbol): void {
  Object.defineProperty(error, symbol, { value: true, enumerable: false });
}

function hasBrand(value: unknown, symbol: symbol): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    (value as Record<symbol, unknown>)[symbol] === true
  );
}

/** Base class of every error the runtime throws on purpose. */
export class JobsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobsError';
    brand(this, JOBS_ERROR_BRAND);
  }
}

/**
 * Thrown by a handler (or by the runtime) when retrying cannot help: the message is dead-lettered
 * at once with the reason attached and never burns retries.
 */
export class PermanentJobError extends JobsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentJobError';
    brand(this, PERMANENT_BRAND);
  }
}

/** A message names a job type the registry does not know. Permanent. */
export class UnknownJobTypeError extends PermanentJobError {
  constructor(
    readonly jobType: string,
    known: readonly string[],
  ) {
    super(`Unknown job type '${jobType}'; the registry knows: ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownJobTypeError';
  }
}

/** A payload does not match its job's schema. Permanent when the consumer sees it. */
export class PayloadValidationError extends PermanentJobError {
  constructor(
    readonly jobType: string,
    /** Dotted path of the first failing field (`(root)` for the payload itself). */
    readonly path: string,
    readonly issue: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid payload for job '${jobType}' at '${path}': ${issue}`, options);
    this.name = 'PayloadValidationError';
  }
}

/** A message body is not JSON or not a job envelope. Permanent. */
export class MalformedMessageError extends PermanentJobError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedMessageError';
  }
}

/** An envelope version this runtime does not understand. Permanent. */
export class UnsupportedEnvelopeVersionError extends PermanentJobError {
  constructor(
    readonly version: unknown,
    supported: number,
  ) {
    super(`Unsupported envelope version ${JSON.stringify(version)}; this runtime supports ${supported}`);
    this.name = 'UnsupportedEnvelopeVersionError';
  }
}

/** A handler ran past its deadline (job timeout or the Lambda's remaining time). Retryable. */
export class JobTimeoutError extends JobsError {
  constructor(readonly timeoutMs: number) {
    super(`Job handler did not finish within ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/**
 * The job was cancelled while it ran (`JobClient.cancel`): the reason of the handler's abort
 * signal. A run that ends after it is recorded CANCELLED, not retried and not dead-lettered.
 */
export class JobCancelledError extends JobsError {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

/** A message would exceed the size limit; nothing was sent. */
export class PayloadTooLargeError extends JobsError {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    /** What the limit applies to, when it is not every message. */
    readonly limitFor?: string,
  ) {
    super(
      `Message is ${sizeBytes} bytes (body + attributes), over the limit of ${limitBytes} bytes` +
        (limitFor ? ` for ${limitFor}` : ''),
    );
    this.name = 'PayloadTooLargeError';
  }
}

/** The lane's backlog is over its configured limit; nothing was sent. */
export class BacklogLimitError extends JobsError {
  constructor(
    readonly lane: string,
    readonly depth: number,
    readonly limit: number,
  ) {
    super(`Lane '${lane}' has about ${depth} messages waiting, over its backlog limit of ${limit}`);
    this.name = 'BacklogLimitError';
  }
}

/** A lane name that the configuration does not define. */
export class UnknownLaneError extends JobsError {
  constructor(
    readonly lane: string,
    known: readonly string[],
  ) {
    super(`Unknown lane '${lane}'; configured lanes: ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownLaneError';
  }
}

/** Invalid configuration: names the setting, what is allowed and what was given. */
export class ConfigError extends JobsError {
  constructor(
    readonly setting: string,
    readonly allowed: string,
    readonly given: unknown,
    options?: ErrorOptions,
  ) {
    super(`${setting} must be ${allowed}; got ${JSON.stringify(given) ?? String(given)}`, options);
    this.name = 'ConfigError';
  }
}

/** A job definition or registry is inconsistent (duplicate type, bad option). */
export class JobDefinitionError extends JobsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobDefinitionError';
  }
}

/** Sending to SQS / creating a schedule failed after retries. */
export class EnqueueError extends JobsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnqueueError';
  }
}

/**
 * An idempotency key reused with another payload: the key names one business operation, so the
 * second payload is refused rather than silently ignored. Nothing was written or sent.
 */
export class IdempotencyKeyConflictError extends JobsError {
  constructor(
    readonly jobType: string,
    readonly jobId: string,
    readonly existing: { readonly status?: string; readonly enqueuedAt?: string },
  ) {
    super(
      `Idempotency key of job '${jobType}' (job ${jobId}) was enqueued before with another payload ` +
        `(status ${existing.status ?? 'unknown'}, enqueued ${existing.enqueuedAt ?? 'unknown'}); ` +
        'use a new key for a new operation, or set checkKeyPayload: false on the job definition',
    );
    this.name = 'IdempotencyKeyConflictError';
  }
}

/**
 * A message used up its queue's receive budget (the redrive `maxReceiveCount`) on deferrals that
 * were not the job's fault (ledger throttling, another run's lease, no time left, FIFO order)
 * before its attempts ran out. The consumer dead-letters it itself, so the ledger says DEAD with
 * this reason instead of SQS moving it silently. Permanent.
 */
export class ReceiveBudgetExhaustedError extends PermanentJobError {
  constructor(
    readonly receives: number,
    readonly attempts: number,
    readonly lastReason: string,
  ) {
    super(
      `Gave up after ${receives} receives (the queue's maxReceiveCount) with ${attempts} attempt(s) run; last: ${lastReason}`,
    );
    this.name = 'ReceiveBudgetExhaustedError';
  }
}

/** The job ran out of attempts (runs of its handler, counted by the ledger). Permanent. */
export class AttemptsExhaustedError extends PermanentJobError {
  constructor(
    readonly attempts: number,
    readonly maxAttempts: number,
    lastError: { readonly message: string },
    options?: ErrorOptions,
  ) {
    super(`Gave up after ${attempts} attempts (maxAttempts ${maxAttempts}): ${lastError.message}`, options);
    this.name = 'AttemptsExhaustedError';
  }
}

/** `JobClient.waitFor` gave up: the job did not finish (SUCCEEDED, DEAD or CANCELLED) in time. */
export class WaitTimeoutError extends JobsError {
  constructor(
    /** The job waited for. */
    readonly jobId: string,
    /** The last status `getJob` returned (undefined: the ledger did not know the job yet). */
    readonly lastStatus: string | undefined,
    /** How long it waited, ms. */
    readonly waitedMs: number,
  ) {
    super(
      `Timed out after ${waitedMs} ms waiting for job ${jobId} to finish; last status: ${lastStatus ?? 'unknown (not in the ledger yet)'}`,
    );
    this.name = 'WaitTimeoutError';
  }
}

/** A result stored in S3 (over the ledger's inline limit) could not be read back. */
export class ResultReadError extends JobsError {
  constructor(
    /** The job whose result could not be read. */
    readonly jobId: string,
    /** The result's object key in the results bucket. */
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(
      `Could not read the result of job ${jobId} from S3 (key ${key}): ${describeError(options?.cause).message}`,
      options,
    );
    this.name = 'ResultReadError';
  }
}

/** Short, single-line description of any thrown value for logs and the ledger. */
export function describeError(error: unknown): { type: string; message: string } {
  if (error instanceof Error) return { type: error.name, message: error.message };
  return {
    type: 'NonError',
    message: typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error)),
  };
}

/** True for any `JobsError`, from this copy of the runtime or another one (by brand). */
export function isJobsError(error: unknown): error is JobsError {
  return error instanceof JobsError || hasBrand(error, JOBS_ERROR_BRAND);
}

/**
 * True when the failure must not be retried: a `PermanentJobError` (or subclass) from this copy
 * of the runtime or another one (by brand).
 */
export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentJobError || hasBrand(error, PERMANENT_BRAND);
}
