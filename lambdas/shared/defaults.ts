/**
 * The one source of every default the construct, the consumer and the producer share. Pure (no
 * SDK, no aws-cdk-lib): `lib/` turns these into `Duration`s, the runtime reads them as seconds.
 * Change a default here and all three follow.
 */
export const DEFAULTS = {
  /** Upper bound of the first retry's delay (full jitter); doubles with each attempt. */
  backoffBaseSeconds: 5,
  /** Largest delay between two attempts. */
  backoffCapSeconds: 15 * 60,
  /** How long a ledger item lives after its last write. */
  ledgerTtlSeconds: 30 * 24 * 3600,
  /** Consumer Lambda timeout. */
  consumerTimeoutSeconds: 60,
  /** Consumer memory in MB. */
  consumerMemoryMb: 256,
  /** Attempts per job (the lane's default). */
  maxAttempts: 5,
  /** Messages per consumer invocation. */
  batchSize: 10,
  /** Jobs of one batch run at once inside a consumer. */
  batchParallelism: 10,
  /** Concurrency budget shared by all lanes by weight. */
  totalConcurrency: 20,
  /** CloudWatch namespace of the job metrics. */
  metricsNamespace: 'SqsJobs',
} as const;

/** The example app's stack: what `npm start` deploys and the `sqs-jobs` CLI looks for by default. */
export const DEFAULT_STACK_NAME = 'SqsJobsExample';
