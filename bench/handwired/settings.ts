/**
 * What the comparison stack (./stack.ts) gives both consumers, and the names of its hand-wired
 * outputs; bench/e2e.ts reads both without loading the CDK app.
 */
/** What both consumers share. */
export const E2E_SETTINGS = {
  lane: 'high',
  memoryMb: 256,
  batchSize: 10,
  maxConcurrency: 4,
  timeoutSeconds: 10,
} as const;

/** Stack output names of the hand-wired side. */
export const HANDWIRED_OUTPUTS = {
  queueUrl: 'HandWiredQueueUrl',
  dlqUrl: 'HandWiredDlqUrl',
  functionName: 'HandWiredFunctionName',
  idempotencyTable: 'HandWiredIdempotencyTable',
} as const;
