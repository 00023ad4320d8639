/** Backpressure: a lane's approximate depth, cached so enqueue does not call SQS every time. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BacklogLimitError } from '../shared/errors';

export class BacklogGuard {
  private readonly cache = new Map<string, { at: number; depth: Promise<number> }>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly limits: Readonly<Record<string, number>>,
    private readonly cacheMs: number,
    private readonly now: () => number,
  ) {}

  /** Throws BacklogLimitError when the lane's visible backlog is over its limit. */
  async check(lane: string, queueUrl: string): Promise<void> {
    const limit = this.limits[lane];
    if (limit === undefined) return;
    const depth = await this.depth(lane, queueUrl);
    if (depth > limit) throw new BacklogLimitError(lane, depth, limit);
  }

  private depth(lane: string, queueUrl: string): Promise<number> {
    const cached = this.cache.get(lane);
    if (cached && this.now() - cached.at < this.cacheMs) return cached.depth;
    const depth = this.sqs
      .send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      )
      .then((out) => Number(out.Attributes?.ApproximateNumberOfMessages ?? 0));
    // A failed lookup must not be cached: the next enqueue asks again.
    depth.catch(() => this.cache.delete(lane));
    this.cache.set(lane, { at: this.now(), depth });
    return depth;
  }
}
