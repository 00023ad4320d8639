/** `console`: the operator web console on 127.0.0.1 (see cli/console/). */
import { JOB_METRICS } from '../../lambdas/shared/contract';
import { CONSOLE_HOST, DEFAULT_CONSOLE_PORT, type RunningConsole, startConsole } from '../console/server';
import { CliError, EXIT } from '../errors';
import { flagError, wholeNumber } from '../flags';
import type { CommandSpec } from './types';

export const consoleCommand: CommandSpec = {
  name: 'console',
  args: [],
  summary: 'Serve the web console (lanes, jobs, DLQs, schedules) on 127.0.0.1 until Ctrl-C',
  description: [
    'Prints its URL and opens nothing. The URL carries a token made for this run: every request',
    'needs it, so keep the URL to yourself. It listens on 127.0.0.1 only. Retry, delete, redrive,',
    'purge and cancel each ask for confirmation first; --read-only removes them. Needs the',
    'permissions of the commands it stands for (grantOperate covers them all).',
  ].join('\n'),
  options: {
    port: {
      type: 'string',
      valueName: 'port',
      description: `Port on ${CONSOLE_HOST}, 0 for any free one (default ${DEFAULT_CONSOLE_PORT}, or a free one if that is taken)`,
    },
    'read-only': {
      type: 'boolean',
      description: 'Show everything, change nothing (no retry, delete, redrive, purge, cancel)',
    },
    refresh: {
      type: 'string',
      valueName: 'seconds',
      description: 'Seconds between live refreshes of the overview, 2 to 300 (default 5)',
    },
    'metrics-namespace': {
      type: 'string',
      valueName: 'ns',
      description: `CloudWatch namespace of the job metrics, for the charts (default ${JOB_METRICS.defaultNamespace})`,
    },
  },
  examples: [
    'sqs-jobs console',
    'sqs-jobs console --read-only --port 8080',
    'npm run console   (in this repository)',
  ],
  async run({ values, stack, signal, out, note }) {
    const explicitPort = values.port as string | undefined;
    const port =
      explicitPort === undefined ? DEFAULT_CONSOLE_PORT : wholeNumber('--port', explicitPort, 0, 65_535);
    const refreshSeconds =
      values.refresh === undefined
        ? 5
        : wholeNumber('--refresh', values.refresh as string, 2, 300, ' of seconds');
    const namespace = (values['metrics-namespace'] as string | undefined) ?? JOB_METRICS.defaultNamespace;
    if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace)) {
      throw flagError(
        '--metrics-namespace',
        'a CloudWatch namespace (1-255 of A-Z a-z 0-9 . _ / # : -)',
        namespace,
      );
    }
    // Fail here, in the terminal, if the stack cannot be found: not later on every page.
    const config = await stack.config();
    const ctx = stack.errorContext();
    const target = ctx.endpoint ? `endpoint ${ctx.endpoint}` : `AWS ${ctx.region ?? '(default region)'}`;
    const settings = {
      stack,
      readOnly: Boolean(values['read-only']),
      metricsNamespace: namespace,
      refreshSeconds,
      target,
    };
    let running: RunningConsole;
    try {
      running = await startConsole({ ...settings, port });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && explicitPort === undefined) {
        note(`port ${port} is taken; using a free one\n`);
        running = await startConsole({ ...settings, port: 0 });
      } else if (code === 'EADDRINUSE' || code === 'EACCES') {
        throw new CliError(`Cannot listen on ${CONSOLE_HOST}:${port} (${code})`, EXIT.failure, {
          cause: error,
          hint: 'Choose another --port, or --port 0 for any free one.',
        });
      } else {
        throw error;
      }
    }
    out(
      [
        `sqs-jobs console for stack ${stack.options.stack} (${target}; lanes ${Object.keys(config.lanes).join(', ')})${settings.readOnly ? ', read-only' : ''}`,
        `open: ${running.url}`,
        'Ctrl-C stops it.',
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await running.close();
    note('console stopped\n');
    return 0;
  },
};
