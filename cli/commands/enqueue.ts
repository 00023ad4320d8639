/** `enqueue <type>`: through JobClient, validated by the same registry and schema as applications. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type EnqueueOptions,
  MAX_SQS_DELAY_SECONDS,
  SCHEDULER_MAX_INPUT_BYTES,
} from '../../lambdas/client/types';
import { MAX_DELAY_SECONDS, validateEnqueueOptions } from '../../lambdas/client/validate-options';
import { parsePayload, requireJob } from '../../lambdas/registry/define-job';
import type { AnyJob } from '../../lambdas/registry/types';
import { createEnvelope, jobIdForKey, newJobId } from '../../lambdas/shared/envelope';
import { type ConfigError, PayloadTooLargeError } from '../../lambdas/shared/errors';
import { UsageError, ValidationError } from '../errors';
import { flagError, wholeNumber } from '../flags';
import { loadRegistry, REGISTRY_ENV, registryPath } from '../registry-loader';
import { json, keyValues } from '../render';
import type { CommandSpec } from './types';

export const enqueueCommand: CommandSpec = {
  name: 'enqueue',
  args: ['<type>'],
  summary: 'Enqueue a job, validated against the job registry',
  description: [
    'The payload is validated by the registry schema before anything is sent, then enqueued with the',
    'same JobClient applications use (lane, delay, idempotency key). Registry: --registry, else',
    `$${REGISTRY_ENV}, else the example registry (bin/jobs.ts here, dist/bin/jobs.js in the package).`,
    'A .ts registry is loaded through tsx (an optional peer dependency: install it to use one).',
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
      description: `Delay in whole seconds, 0 to ${MAX_DELAY_SECONDS} (365 days); over 900 uses a one-time schedule`,
    },
    key: {
      type: 'string',
      valueName: 'key',
      description: 'Idempotency key: names one operation; the same key returns the existing job in any state',
    },
    rerun: {
      type: 'boolean',
      description: 'With --key: start a new run if the keyed job already SUCCEEDED or is DEAD',
    },
    group: {
      type: 'string',
      valueName: 'id',
      description:
        'Message group (FIFO lanes: required unless the job has a tenant, which is the default group)',
    },
    tenant: {
      type: 'string',
      valueName: 'tenant',
      description:
        "The job's tenant (default: the job's tenant(payload)); on a standard lane its MessageGroupId (SQS fair queues)",
    },
    'correlation-id': {
      type: 'string',
      valueName: 'id',
      description: 'Carried into every log line of the job',
    },
    registry: {
      type: 'string',
      valueName: 'path',
      description: `Module exporting the job registry (default $${REGISTRY_ENV}, else the example registry)`,
    },
    'dry-run': { type: 'boolean', description: 'Validate and print the parsed payload; send nothing' },
  },
  examples: [
    `sqs-jobs enqueue send-email --payload '{"to":"a@example.com","subject":"hi"}'`,
    'sqs-jobs enqueue flaky-task --payload @job.json --delay 60 --key order-42',
    'sqs-jobs enqueue flaky-task --payload @job.json --key order-42 --rerun',
    'sqs-jobs enqueue generate-report -p \'{"reportId":"r1"}\' --tenant acme',
  ],
  async run({ args, values, io, stack, globals, out }) {
    const type = args[0];
    // Everything is checked before any AWS call, so a bad input gets the same exit code whether
    // or not the endpoint answers: flags (2), then payload, schema, derived key and size (4).
    const options = flagOptions(type, values, io.now());
    const payload = readPayload(values.payload as string | undefined, io.cwd);
    const registry = await loadRegistry(registryPath(values.registry as string | undefined, io.env), io.cwd);
    const job = requireJob(registry, type);
    // The functions the client itself uses.
    const parsed = parsePayload(job, payload);
    checkSize(type, job, payload, parsed, options, io.now());
    if (values['dry-run']) {
      out(
        globals.json
          ? json({ type, valid: true, payload: parsed })
          : `valid ${type} payload: ${JSON.stringify(parsed)}\n`,
      );
      return 0;
    }
    const client = await stack.typedClient(registry);
    // Only the stack knows a lane is FIFO: a missing --group is reported here, as a flag.
    const result = await client.enqueue(type, payload, options).catch((error: unknown) => {
      throw asFlagError(error, values) ?? error;
    });
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
          ...(result.windowEndsAt === undefined ? [] : [['windowEndsAt', result.windowEndsAt] as const]),
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

/** Which flag sets which option, to name the flag when the option is refused. */
const FLAG_FOR: Readonly<Record<string, string>> = {
  lane: 'lane',
  idempotencyKey: 'key',
  groupId: 'group',
  tenant: 'tenant',
  correlationId: 'correlation-id',
  delaySeconds: 'delay',
};

/** The options the flags give, checked by the client's own validator; a refusal names the flag. */
function flagOptions(
  type: string,
  values: Readonly<Record<string, string | boolean | undefined>>,
  now: number,
): EnqueueOptions {
  const delay = values.delay as string | undefined;
  const options: EnqueueOptions = {
    lane: values.lane as string | undefined,
    delaySeconds:
      delay === undefined ? undefined : wholeNumber('--delay', delay, 0, MAX_DELAY_SECONDS, ' of seconds'),
    idempotencyKey: values.key as string | undefined,
    ...(values.rerun ? { rerun: true } : {}),
    groupId: values.group as string | undefined,
    tenant: values.tenant as string | undefined,
    correlationId: values['correlation-id'] as string | undefined,
  };
  try {
    validateEnqueueOptions(type, options, { now });
  } catch (error) {
    throw asFlagError(error, values) ?? error;
  }
  return options;
}

/** A ConfigError about an enqueue option, restated as a usage error naming the flag that sets it. */
function asFlagError(
  error: unknown,
  values: Readonly<Record<string, string | boolean | undefined>>,
): UsageError | undefined {
  // By name and shape, not instanceof: the same check whichever copy of the runtime threw it.
  const e = error as Partial<ConfigError> | undefined;
  if (e?.name !== 'ConfigError' || typeof e.setting !== 'string' || typeof e.allowed !== 'string')
    return undefined;
  const option = /options\.(\w+)$/.exec(e.setting)?.[1];
  const flag = option === undefined ? undefined : FLAG_FOR[option];
  if (!flag) return undefined;
  const given = values[flag];
  if (given === undefined)
    return new UsageError(`--${flag} must be ${e.allowed}; got nothing`, { cause: error });
  return flagError(`--${flag}`, e.allowed, String(given));
}

/**
 * The message the client would send, sized here: an oversize payload is a validation error (4)
 * before the stack is looked up. FIFO lanes (known only from the stack) get the client's check.
 */
function checkSize(
  type: string,
  job: AnyJob,
  payload: unknown,
  parsed: unknown,
  options: EnqueueOptions,
  now: number,
): void {
  const { idempotencyKey: key, tenant } = validateEnqueueOptions(type, options, {
    now,
    deriveKey: job.idempotencyKey ? () => job.idempotencyKey?.(parsed) : undefined,
    deriveTenant: job.tenant ? () => job.tenant?.(parsed) : undefined,
  });
  const id = key === undefined ? newJobId() : jobIdForKey(type, key);
  const envelope = createEnvelope({
    id,
    type,
    payload,
    key,
    correlationId: options.correlationId,
    tenant,
    enqueuedAt: new Date(now),
  });
  const size = Buffer.byteLength(JSON.stringify(envelope));
  if (size > DEFAULT_MAX_MESSAGE_BYTES) throw new PayloadTooLargeError(size, DEFAULT_MAX_MESSAGE_BYTES);
  if ((options.delaySeconds ?? 0) > MAX_SQS_DELAY_SECONDS && size > SCHEDULER_MAX_INPUT_BYTES) {
    throw new PayloadTooLargeError(
      size,
      SCHEDULER_MAX_INPUT_BYTES,
      'a job delayed through EventBridge Scheduler',
    );
  }
}
