/**
 * Outcome log levels: the happy path (SUCCEEDED, DUPLICATE) is debug, so the default INFO level
 * (the construct's `consumerLogLevel`) drops it; everything an operator acts on stays visible.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { BatchTelemetry, type JobOutcomeStatus } from '../../../lambdas/consumer/telemetry';
import { quietTelemetry } from './support/fixtures';

function levelOf(status: JobOutcomeStatus): string | undefined {
  const t = quietTelemetry();
  const spies = {
    debug: vi.spyOn(t.logger, 'debug').mockImplementation(() => undefined),
    info: vi.spyOn(t.logger, 'info').mockImplementation(() => undefined),
    warn: vi.spyOn(t.logger, 'warn').mockImplementation(() => undefined),
    error: vi.spyOn(t.logger, 'error').mockImplementation(() => undefined),
  };
  new BatchTelemetry(t.logger, t.metrics, 'default', () => true).record({
    messageId: 'm1',
    status,
    itemFailure: false,
    jobId: 'job-1',
    type: 'ok',
    attempt: 1,
  });
  const used = Object.entries(spies).filter(([, spy]) => spy.mock.calls.some((c) => c[0] === 'job outcome'));
  expect(used).toHaveLength(1);
  return used[0]?.[0];
}

describe('job outcome log levels', () => {
  it.each<[JobOutcomeStatus, string]>([
    ['SUCCEEDED', 'debug'],
    ['DUPLICATE', 'debug'],
    ['CANCELLED', 'info'],
    ['SUPERSEDED', 'info'],
    ['LIMITED', 'info'],
    ['COMPLETION_RECORDED', 'info'],
    ['RETRY', 'warn'],
    ['DEFERRED', 'warn'],
    ['FIFO_BLOCKED', 'warn'],
    ['DEAD', 'error'],
    ['DLQ_SEND_FAILED', 'error'],
    ['ERROR', 'error'],
  ])('logs %s at %s', (status, level) => {
    expect(levelOf(status)).toBe(level);
  });

  it('writes no success line at the default INFO level, and one at DEBUG', () => {
    // Prepare: real loggers writing to a buffer, as in Lambda
    const written = (logLevel: 'INFO' | 'DEBUG') => {
      const lines: string[] = [];
      const logger = new Logger({ serviceName: 'test', logLevel });
      // Lambda keeps both streams (Powertools writes warnings and errors to stderr).
      const capture = (chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      };
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      try {
        const { metrics } = quietTelemetry();
        const telemetry = new BatchTelemetry(logger, metrics, 'default', () => true);
        // Act
        telemetry.record({ messageId: 'm1', status: 'SUCCEEDED', itemFailure: false, attempt: 1 });
        telemetry.record({ messageId: 'm2', status: 'RETRY', itemFailure: true, attempt: 1 });
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
      return lines.join('');
    };

    // Assess
    expect(written('INFO')).not.toContain('"SUCCEEDED"');
    expect(written('INFO')).toContain('"RETRY"');
    expect(written('DEBUG')).toContain('"SUCCEEDED"');
  });
});
