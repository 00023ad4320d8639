/**
 * DynamoDB clients for the bench: pointed at DynamoDB Local, with a middleware that counts every
 * call and asks for ReturnConsumedCapacity so write and read units can be added up per job.
 *
 * DynamoDB Local reports ConsumedCapacity on successful calls but not on a conditional write that
 * fails (DynamoDB bills those too: the size of the larger of the existing and the new item). For
 * those the middleware estimates the units from the size of the item the call returned
 * (ReturnValuesOnConditionCheckFailure ALL_OLD; both our ledger and Powertools ask for it).
 */
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';

export interface DdbCounter {
  calls: number;
  byCommand: Record<string, number>;
  /** Summed wall time of the calls by command, ms (latency as the client sees it). */
  msByCommand: Record<string, number>;
  writeUnits: number;
  readUnits: number;
  /** Conditional writes that failed; their units are estimated from the returned item size. */
  failedConditionalWrites: number;
}

export const newCounter = (): DdbCounter => ({
  calls: 0,
  byCommand: {},
  msByCommand: {},
  writeUnits: 0,
  readUnits: 0,
  failedConditionalWrites: 0,
});

export function snapshot(c: DdbCounter): DdbCounter {
  return { ...c, byCommand: { ...c.byCommand }, msByCommand: { ...c.msByCommand } };
}

export function diff(after: DdbCounter, before: DdbCounter): DdbCounter {
  const sub = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(a)) {
      const d = v - (b[k] ?? 0);
      if (d) out[k] = d;
    }
    return out;
  };
  return {
    calls: after.calls - before.calls,
    byCommand: sub(after.byCommand, before.byCommand),
    msByCommand: sub(after.msByCommand, before.msByCommand),
    writeUnits: after.writeUnits - before.writeUnits,
    readUnits: after.readUnits - before.readUnits,
    failedConditionalWrites: after.failedConditionalWrites - before.failedConditionalWrites,
  };
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers ~1 byte per 2 digits + 1). */
export function itemBytes(item: Record<string, AttributeValue> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueBytes(value);
  return size;
}

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/[-.]/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) return 3 + itemBytes(v.M);
  if (v.L !== undefined) return 3 + v.L.reduce((a, x) => a + 1 + valueBytes(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((a, x) => a + Buffer.byteLength(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, x) => a + Math.ceil(x.length / 2) + 1, 0);
  return 0;
}

export function countedClient(
  endpoint: string,
  counter: DdbCounter,
  config: DynamoDBClientConfig = {},
): DynamoDBClient {
  const client = new DynamoDBClient({
    ...config,
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counter.calls++;
      counter.byCommand[command] = (counter.byCommand[command] ?? 0) + 1;
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const t0 = performance.now();
      const took = () => {
        counter.msByCommand[command] = (counter.msByCommand[command] ?? 0) + performance.now() - t0;
      };
      try {
        const result = await next(args);
        took();
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } })
          .ConsumedCapacity;
        const units = consumed?.CapacityUnits ?? 0;
        if (READS.has(command)) counter.readUnits += units;
        else counter.writeUnits += units;
        return result;
      } catch (error) {
        took();
        if ((error as Error).name === 'ConditionalCheckFailedException') {
          counter.failedConditionalWrites++;
          const old = (error as { Item?: Record<string, AttributeValue> }).Item;
          counter.writeUnits += Math.max(1, Math.ceil(itemBytes(old) / 1024));
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'benchDdbCounter' },
  );
  return client;
}

/** A fresh on-demand table keyed by one string attribute. */
export async function recreateTable(client: DynamoDBClient, name: string, key: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/**
 * A DynamoDB client that answers every call at once with an empty success (a new item, no
 * conflict): measures the consumer's own CPU per job with the database taken out.
 */
export function stubClient(counter: DdbCounter): DynamoDBClient {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  client.middlewareStack.add(
    (_next, context) => async () => {
      const command = context.commandName ?? 'unknown';
      counter.calls++;
      counter.byCommand[command] = (counter.byCommand[command] ?? 0) + 1;
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'benchDdbStub' },
  );
  return client;
}
