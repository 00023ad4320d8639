/**
 * Rate limits and concurrency limits shared by every consumer, kept as items in the ledger table
 * (partition keys start with LIMIT_ITEM_PREFIX, so they never collide with a job id). Like the
 * ledger, every decision is a conditional write: no read-modify-write, so any number of consumers
 * can race on one item and the limit still holds. Only `ConditionalCheckFailedException` is
 * caught (it means "the limit said no", and the item it returns tells us why); everything else,
 * throttling included, propagates.
 *
 * Rate: GCRA (a token bucket stored as one number, the theoretical arrival time `tat`).
 * Concurrency: one item whose `holders` map names each holder and when its lease ends.
 * Items carry `expiresAt` (the table's TTL), so idle limiters disappear on their own.
 */
import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_ATTR as A, LIMIT_ITEM_PREFIX } from '../shared/contract';
import { ConfigError } from '../shared/errors';
import type { Item } from './codec';
import { N, Update } from './update';

export interface LimitsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Clock in epoch ms (tests pin it). @default Date.now */
  readonly now?: () => number;
}

/** Short attribute names: limiter items are written on every job, so they stay tiny. */
const TAT = 'tat';
const HOLDERS = 'holders';

/** Concurrency limits are per item, and a map of 100 holders stays well under 4 KB of writes. */
const MAX_CONCURRENCY = 100;
/** Idle concurrency items outlive their last lease by this long before TTL deletes them. */
const SLOT_TTL_SLACK_SECONDS = 3600;
/** Idle rate items outlive the moment their bucket is full again by this long. */
const RATE_TTL_SLACK_SECONDS = 60;
/** A denied acquire is retried after the earliest lease ends, within these bounds. */
const MIN_SLOT_RETRY_MS = 1000;
const MAX_SLOT_RETRY_MS = 60_000;

/**
 * Partition key of a limiter item: `~rate#<type>#<hash>` / `~conc#<type>#<hash>`. The user key is
 * hashed (sha256, first 32 hex) so it never appears in the table (keys may be tenant ids or
 * e-mail addresses) and any key fits the key size; without a key the limit is the type's own.
 */
export function limitItemId(kind: 'rate' | 'concurrency', type: string, key?: string): string {
  const base = `${LIMIT_ITEM_PREFIX}${kind === 'rate' ? 'rate' : 'conc'}#${type}`;
  if (key === undefined) return base;
  return `${base}#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * The GCRA emission interval T of a rate limit: `intervalMs / limit` rounded up to a whole ms (at
 * least 1), so `tat` stays an integer and DynamoDB's exact decimal sums never disagree with JS
 * floats at the boundary. `takeToken` and the CLI's `stats` both count with it.
 */
export function emissionIntervalMs(limit: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(intervalMs / limit));
}

/**
 * Tokens a bucket holds at `now` given its theoretical arrival time `tat`: by the rule `takeToken`
 * applies (a token may be taken while tat <= now + (limit - 1) * T, each moving tat by T).
 */
export function tokensAt(limit: number, intervalMs: number, tat: number | undefined, now: number): number {
  if (tat === undefined || tat <= now) return limit;
  const t = emissionIntervalMs(limit, intervalMs);
  return Math.min(limit, Math.max(0, Math.floor((now + limit * t - tat) / t)));
}

export type TokenDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

export type SlotDecision =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly running: number; readonly retryAfterMs: number };

export class Limits {
  private readonly client: DynamoDBClient;
  readonly tableName: string;
  private readonly now: () => number;

  constructor(options: LimitsOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /**
   * Token bucket: at most `limit` per `intervalMs`, burst up to `limit` (GCRA). With the emission
   * interval T (`emissionIntervalMs`), a request is allowed while `tat <= now + (limit - 1) * T`: a full bucket lets `limit` through at once,
   * after that one per T. Costs 1 write when the bucket was idle, 2 when it was partly used (or
   * when a racer took the last token), 1 when denied outright.
   */
  async takeToken(input: {
    readonly id: string;
    readonly limit: number;
    readonly intervalMs: number;
  }): Promise<TokenDecision> {
    if (!Number.isInteger(input.limit) || input.limit < 1) {
      throw new ConfigError('takeToken limit', 'an integer >= 1', input.limit);
    }
    if (!Number.isFinite(input.intervalMs) || input.intervalMs <= 0) {
      throw new ConfigError('takeToken intervalMs', 'a number of ms > 0', input.intervalMs);
    }
    const now = Math.floor(this.now());
    const t = emissionIntervalMs(input.limit, input.intervalMs);
    const max = now + (input.limit - 1) * t;
    const ttl = (tat: number) => N(Math.ceil((tat + input.intervalMs) / 1000) + RATE_TTL_SLACK_SECONDS);

    // 1. Idle bucket (no item, or its tat already passed): start over from now. No read first.
    const idle = new Update()
      .set(TAT, N(now + t))
      .set(A.expiresAt, ttl(now + t))
      .name(TAT)
      .value(':now', { N: String(now) });
    const seen = await this.conditionalUpdate(
      input.id,
      idle,
      `attribute_not_exists(#${TAT}) OR #${TAT} <= :now`,
    );
    if (seen === true) return { allowed: true };
    const tat = numberOf(seen?.[TAT]);
    if (tat === undefined) return denied(1); // only TTL deleting it in between: try again at once
    if (tat > max) return denied(tat - max);

    // 2. Tokens left: push tat by T. The condition re-checks against the stored tat, so racers
    //    that read the same tat cannot take more than the bucket holds. TTL covers the latest
    //    tat this write can leave (max + T).
    const take = new Update()
      .set(TAT, N(t), `#${TAT} + :${TAT}`)
      .set(A.expiresAt, ttl(max + t))
      .value(':max', { N: String(max) });
    const raced = await this.conditionalUpdate(input.id, take, `#${TAT} <= :max`);
    if (raced === true) return { allowed: true };
    // 3. A racer took the last token: the item it left says when the next one frees up.
    return denied((numberOf(raced?.[TAT]) ?? max + 1) - max);
  }

  /**
   * Lease counter: at most `limit` holders at once; a holder's lease ends at now + leaseMs.
   * Re-acquiring (or an SDK retry of an applied acquire) succeeds and extends the lease.
   * Leases that ended are removed when they would deny someone. Costs 1 write when acquired
   * on an existing item, 2 on a new item, and 1 when denied (3 when it first removed expired
   * leases and then acquired or was still denied).
   */
  async acquireSlot(input: {
    readonly id: string;
    readonly limit: number;
    readonly holder: string;
    readonly leaseMs: number;
  }): Promise<SlotDecision> {
    if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > MAX_CONCURRENCY) {
      throw new ConfigError('acquireSlot limit', `an integer from 1 to ${MAX_CONCURRENCY}`, input.limit);
    }
    if (!Number.isFinite(input.leaseMs) || input.leaseMs <= 0) {
      throw new ConfigError('acquireSlot leaseMs', 'a number of ms > 0', input.leaseMs);
    }
    if (typeof input.holder !== 'string' || input.holder.length === 0) {
      throw new ConfigError('acquireSlot holder', 'a non-empty string', input.holder);
    }
    const now = this.now();
    const until = now + input.leaseMs;
    const expiresAt = { N: String(Math.ceil(until / 1000) + SLOT_TTL_SLACK_SECONDS) };
    const names = { '#holders': HOLDERS, '#me': input.holder, '#expiresAt': A.expiresAt };
    const acquire = () =>
      this.updateOrItem(input.id, {
        UpdateExpression: 'SET #holders.#me = :until, #expiresAt = :expiresAt',
        // The second half: our own lease (a re-acquire, or the SDK retrying an applied acquire).
        ConditionExpression: 'size(#holders) < :limit OR attribute_exists(#holders.#me)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':until': { N: String(until) },
          ':expiresAt': expiresAt,
          ':limit': { N: String(input.limit) },
        },
      });
    // No map yet (no item: DynamoDB Local fails the condition and returns no item; an item
    // without `holders` fails it too): write the map with us in it, unless a racer just did.
    const create = () =>
      this.updateOrItem(input.id, {
        UpdateExpression: 'SET #holders = :holders, #expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(#holders)',
        ExpressionAttributeNames: { '#holders': HOLDERS, '#expiresAt': A.expiresAt },
        ExpressionAttributeValues: {
          ':holders': { M: { [input.holder]: { N: String(until) } } },
          ':expiresAt': expiresAt,
        },
      });

    let seen = await acquire();
    if (seen === true) return { acquired: true };
    if (seen?.[HOLDERS]?.M === undefined) {
      const created = await create();
      if (created === true) return { acquired: true };
      seen = await acquire();
      if (seen === true) return { acquired: true };
    }
    const holders = holdersOf(seen);
    const expired = holders.filter((h) => h.until < now);
    if (expired.length > 0) {
      await this.removeExpired(input.id, expired);
      seen = await acquire();
      if (seen === true) return { acquired: true };
    }
    const live = holdersOf(seen).filter((h) => h.until >= now);
    const earliest = Math.min(...live.map((h) => h.until));
    const wait = Number.isFinite(earliest) ? earliest - now : 0;
    return {
      acquired: false,
      running: live.length,
      retryAfterMs: Math.min(MAX_SLOT_RETRY_MS, Math.max(MIN_SLOT_RETRY_MS, Math.ceil(wait))),
    };
  }

  /**
   * Frees the holder's slot (idempotent: releasing twice or an unknown holder is fine). The
   * condition is what keeps it idempotent: without it, a missing item answers ValidationException
   * (the map path does not exist) rather than creating anything. 1 write either way.
   */
  async releaseSlot(input: { readonly id: string; readonly holder: string }): Promise<void> {
    await this.updateOrItem(input.id, {
      UpdateExpression: 'REMOVE #holders.#me',
      ConditionExpression: 'attribute_exists(#holders.#me)',
      ExpressionAttributeNames: { '#holders': HOLDERS, '#me': input.holder },
    });
  }

  /** For the CLI's `stats`: the bucket's tat (epoch ms) without writing; undefined when idle-deleted. */
  async readRate(id: string): Promise<{ readonly nextFreeAt?: number } | undefined> {
    const item = await this.read(id);
    if (!item) return undefined;
    const tat = numberOf(item[TAT]);
    return tat === undefined ? {} : { nextFreeAt: tat };
  }

  /** For the CLI's `stats`: every holder and its lease end (ended ones too), earliest first. */
  async readSlots(
    id: string,
  ): Promise<{ readonly holders: readonly { holder: string; until: number }[] } | undefined> {
    const item = await this.read(id);
    if (!item) return undefined;
    return { holders: holdersOf(item).sort((a, b) => a.until - b.until) };
  }

  /**
   * Removes exactly the leases seen as ended, each only while it still has the value seen, so a
   * holder that re-acquired in between keeps its slot. Losing that race is fine: the acquire
   * that follows sees the current map.
   */
  private async removeExpired(id: string, expired: readonly Holder[]): Promise<void> {
    // Bounded so the expressions stay far below DynamoDB's 4 KB limit.
    const batch = expired.slice(0, MAX_CONCURRENCY);
    const names: Record<string, string> = { '#holders': HOLDERS };
    const values: Record<string, AttributeValue> = {};
    batch.forEach((h, i) => {
      names[`#h${i}`] = h.holder;
      values[`:v${i}`] = { N: String(h.until) };
    });
    await this.updateOrItem(id, {
      UpdateExpression: `REMOVE ${batch.map((_, i) => `#holders.#h${i}`).join(', ')}`,
      ConditionExpression: batch.map((_, i) => `#holders.#h${i} = :v${i}`).join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  private conditionalUpdate(id: string, u: Update, condition: string): Promise<true | Item | undefined> {
    return this.updateOrItem(id, {
      UpdateExpression: u.expression(),
      ConditionExpression: condition,
      ExpressionAttributeNames: u.names,
      ExpressionAttributeValues: u.values,
    });
  }

  /**
   * One conditional UpdateItem: true when applied; when its condition failed, the item as it is
   * (ALL_OLD on failure, so no read), or undefined when there is none.
   */
  private async updateOrItem(
    id: string,
    request: {
      readonly UpdateExpression: string;
      readonly ConditionExpression: string;
      readonly ExpressionAttributeNames: Record<string, string>;
      readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
    },
  ): Promise<true | Item | undefined> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(id),
          ...request,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item as Item | undefined;
      return item && Object.keys(item).length > 0 ? item : undefined;
    }
  }

  /** Strongly consistent read (1 read unit: limiter items are far under 4 KB). */
  private async read(id: string): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }),
    );
    return out.Item;
  }
}

interface Holder {
  readonly holder: string;
  readonly until: number;
}

function holdersOf(item: Item | undefined): Holder[] {
  return Object.entries(item?.[HOLDERS]?.M ?? {}).flatMap(([holder, value]) => {
    const until = numberOf(value);
    return until === undefined ? [] : [{ holder, until }];
  });
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

function denied(waitMs: number): TokenDecision {
  return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(waitMs)) };
}

function key(id: string): Item {
  return { [A.jobId]: { S: id } };
}
