/**
 * AWS list prices the cost model uses: us-east-1, on-demand, free tiers ignored. The one place to
 * change a price. Every figure names the page it comes from; the per-job arithmetic they produce
 * is checked against ANCHORS.md in test/unit/bench/cost.test.ts.
 *
 * Recorded 2026-11-23 from the AWS pricing pages below (DynamoDB on-demand as cut on 2024-11-01);
 * prices change, so re-check the pages before quoting a figure to someone who pays the bill.
 */
export const PRICES = {
  region: 'us-east-1',
  recorded: '2026-11-23',

  /** https://aws.amazon.com/sqs/pricing/ */
  sqs: {
    /** Standard queue, per request (first 1M/month free, ignored). */
    standardPerMillionRequests: 0.4,
    /** FIFO queue, per request. */
    fifoPerMillionRequests: 0.5,
    /** Every 64 KB chunk of a payload is billed as one request. */
    billedChunkBytes: 64 * 1024,
  },

  /** https://aws.amazon.com/lambda/pricing/ */
  lambda: {
    perMillionRequests: 0.2,
    /** Per GB-second of duration, by architecture (first tier). */
    perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  },

  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamodb: {
    /** On-demand write request unit: one write of up to 1 KB. */
    perMillionWriteUnits: 0.625,
    /** On-demand read request unit: one strongly consistent read of up to 4 KB (eventual: half). */
    perMillionReadUnits: 0.125,
    /** Table storage, standard table class. */
    storagePerGbMonth: 0.25,
    /** Continuous backups (point-in-time recovery), per GB-month of table size. */
    pitrPerGbMonth: 0.2,
    writeUnitBytes: 1024,
    readUnitBytes: 4096,
  },

  /** https://aws.amazon.com/cloudwatch/pricing/ */
  cloudwatch: {
    /** Standard-resolution alarm, per metric it evaluates, per month. */
    alarmMetricPerMonth: 0.1,
    /** Per dashboard per month (the first 3 per account are free, ignored). */
    dashboardPerMonth: 3,
    /** Custom metrics (EMF included), per metric (name + dimension set) per month, first tier. */
    customMetricPerMonth: 0.3,
    /** Logs ingestion (standard class), per GB. */
    logsIngestionPerGb: 0.5,
  },

  /** https://aws.amazon.com/eventbridge/pricing/ (Scheduler): first 14M invocations/month free, ignored. */
  scheduler: { perMillionInvocations: 1 },
} as const;

/**
 * Assumptions that are not prices, kept next to them because the model needs them. Each can be
 * overridden on the `npm run cost` command line where a flag is named.
 */
export const ASSUMPTIONS = {
  /** Job message size (ANCHORS.md: 1-KB jobs). `--job-bytes` */
  jobBytes: 1024,
  /** Consumer billed duration per batch (ANCHORS.md: 100 ms). `--batch-ms` */
  batchMs: 100,
  /** Ledger item size; LEDGER_LIMITS keeps items under 1 KB. `--item-bytes` */
  ledgerItemBytes: 400,
  /** Consumer log bytes per job (ANCHORS.md: ~0.5 KB); the bench replaces it with the measured figure. `--log-bytes` */
  logBytesPerJob: 512,
  /**
   * Consumer log bytes per job that succeeds, by what the template says (bench part 6 measured
   * 294 at DEBUG, 31 at INFO: the batch's EMF document, 0 at INFO without job metrics); used when
   * no `--log-bytes` is given. WARN and ERROR write what INFO does on the happy path.
   */
  logBytesPerJobByLevel: { debug: 300, infoWithMetrics: 31, infoWithoutMetrics: 0 },
  /** Lambda platform lines (START/END/REPORT) per invocation, bytes. */
  platformLogBytesPerInvocation: 350,
  /**
   * Idle long polling by an SQS event source mapping: Lambda keeps 5 pollers per queue, each
   * a 20-second ReceiveMessage: 5 × 3/min × 43,800 min = 657,000 requests/lane/month ≈ $0.26
   * (ANCHORS.md: $0.10–0.26 per lane; this takes the upper end).
   */
  idlePollersPerLane: 5,
  longPollSeconds: 20,
  /** Custom metrics the consumer can emit per job type (JOB_METRICS.names). */
  metricsPerJobType: 6,
  hoursPerMonth: 730,
} as const;
