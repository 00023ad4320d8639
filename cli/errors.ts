/**
 * The CLI's error hierarchy and exit codes. Every failure leaves `main` as a CliError whose
 * `exitCode` a script can test; `toCliError` maps runtime and AWS SDK errors onto it.
 */

/** Exit codes, documented in README.md, "Operating it: the `sqs-jobs` CLI" → "Exit codes". */
export const EXIT = {
  ok: 0,
  /** The command ran and failed (a move task already running, a failed send, ...). */
  failure: 1,
  /** Bad command line: unknown command or flag, a flag value outside its allowed values, missing argument, --yes missing. */
  usage: 2,
  /** Unknown stack, lane, job id, or a stack without a JobQueue config output. */
  notFound: 3,
  /** Malformed payload JSON, a schema violation, unknown job type, payload too large. */
  validation: 4,
  /** AWS: missing credentials or region, unreachable endpoint, access denied, service errors. */
  aws: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions & { readonly hint?: string },
  ) {
    super(message, options);
    this.name = 'CliError';
    this.hint = options?.hint;
  }
  readonly hint?: string;
}

export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions & { readonly hint?: string }) {
    super(message, EXIT.usage, options);
    this.name = 'UsageError';
  }
}

export class NotFoundError extends CliError {
  constructor(message: string, options?: ErrorOptions & { readonly hint?: string }) {
    super(message, EXIT.notFound, options);
    this.name = 'NotFoundError';
  }
}

export class ValidationError extends CliError {
  constructor(message: string, options?: ErrorOptions & { readonly hint?: string }) {
    super(message, EXIT.validation, options);
    this.name = 'ValidationError';
  }
}

export class AwsError extends CliError {
  constructor(message: string, options?: ErrorOptions & { readonly hint?: string }) {
    super(message, EXIT.aws, options);
    this.name = 'AwsError';
  }
}

/** A message move task already runs on the DLQ: SQS allows one per source queue. */
export class MoveTaskRunningError extends CliError {
  constructor(message: string, options?: ErrorOptions & { readonly hint?: string }) {
    super(message, EXIT.failure, options);
    this.name = 'MoveTaskRunningError';
  }
}
