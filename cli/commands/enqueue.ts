/** `enqueue <type>`: through JobClient, validated by the same registry and schema as applications. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { EnqueueOptions } from '../../lambdas/client/types';
import { parsePayload, requireJob } from '../../lambdas/registry/define-job';
import { UsageError, ValidationError } from '../errors';
import { defaultRegistryPath, loadRegistry, REGISTRY_ENV } from '../registry-loader';
import { json, keyValues } from '../render';
import type { CommandSpec } from './types';

export const enqueueCommand: CommandSpec = {
  name: 'enqueue',
  args: ['<type>'],
  summary: 'Enqueue a job, validated against the job registry',
  description: [
    'The payload is validated by the registry schema before anything is sent, then enqueued with the',
    'same JobClient applications use (lane, delay, idempotency key). Registry: --registry, else',
    `$${REGISTRY_ENV}, else this package's bin/jobs.ts. A .ts registry is loaded through tsx.`,
  ].join('\n'),
  options: {
    payload: {
      type: 'string',
      short: 'p',
      valueName: 'json|@file',
      description: 'Payload as JSON, or @path to a JSON file (default {})',
    },
    lane: {
      type: 'string',
      valueName: 'lane',
      description: "Lane (default: the job's lane, else the default lane)",
    },
    delay: {
      type: 'string',
      valueName: 'seconds',
      description: 'Delay in whole seconds; over 900 uses a one-time schedule',
    },
    key: {
      type: 'string',
      valueName: 'key',
      description: 'Idempotency key: same key (per type) = same job id',
    },
    group: {
      type: 'string',
      valueName: 'id',
      description: 'Message group (FIFO lanes only, required there)',
    },
    'correlation-id': {
      type: 'string',
      valueName: 'id',
      description: 'Carried into every log line of the job',
    },
    registry: {
      type: 'string',
      valueName: 'path',
      description: `Module exporting the job registry (default $${REGISTRY_ENV} or bin/jobs.ts)`,
    },
    'dry-run': { type: 'boolean', description: 'Validate and print the parsed payload; send nothing' },
  },
  examples: [
    `sqs-jobs enqueue send-email --payload '{"to":"a@example.com","subject":"hi"}'`,
    'sqs-jobs enqueue flaky-task --payload @job.json --delay 60 --key order-42',
  ],
  async run({ args, values, io, stack, globals, out }) {
    const type = args[0];
    const payload = readPayload(values.payload as string | undefined, io.cwd);
    const options: EnqueueOptions = {
      lane: values.lane as string | undefined,
      delaySeconds: parseDelay(values.delay as string | undefined),
      idempotencyKey: values.key as string | undefined,
      groupId: values.group as string | undefined,
      correlationId: values['correlation-id'] as string | undefined,
    };
    const registryPath =
      (values.registry as string | undefined) ?? io.env[REGISTRY_ENV] ?? defaultRegistryPath();
    const registry = await loadRegistry(registryPath, io.cwd);
    // Validate before any AWS call, with the function the client itself uses.
    const parsed = parsePayload(requireJob(registry, type), payload);
    if (values['dry-run']) {
      out(
        globals.json
          ? json({ type, valid: true, payload: parsed })
          : `valid ${type} payload: ${JSON.stringify(parsed)}\n`,
      );
      return 0;
    }
    const client = await stack.typedClient(registry);
    const result = await client.enqueue(type, payload, options);
    if (globals.json) {
      out(json(result));
    } else {
      out(
        keyValues([
          ['jobId', result.jobId],
          ['type', result.type],
          ['lane', result.lane],
          ['status', result.status],
          ['messageId', result.messageId],
          ['schedule', result.scheduleName],
          [
            'existing',
            result.existing
              ? `${result.existing.status ?? '?'} (attempts ${result.existing.attempts})`
              : undefined,
          ],
        ]),
      );
    }
    return 0;
  },
};

export function readPayload(raw: string | undefined, cwd: string): unknown {
  let text = raw ?? '{}';
  let source = '--payload';
  if (text.startsWith('@')) {
    const file = path.resolve(cwd, text.slice(1));
    source = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read payload file ${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Payload from ${source} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      hint: `Quote it for your shell: --payload '{"to":"a@example.com"}'`,
    });
  }
}

function parseDelay(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--delay must be a whole number of seconds; got '${raw}'`);
  return Number(raw);
}
