/** Help texts, generated from the command specs so flags and docs cannot drift apart. */
import { DEFAULT_STACK_NAME } from '../lambdas/shared/defaults';
import type { CommandSpec, OptionSpec } from './commands/types';

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  stack: {
    type: 'string',
    short: 's',
    valueName: 'name',
    description: `CloudFormation stack with the JobQueue (env SQS_JOBS_STACK, default ${DEFAULT_STACK_NAME})`,
  },
  region: {
    type: 'string',
    valueName: 'region',
    description: 'AWS region (default: AWS_REGION / your profile; the recorded one for the local stack)',
  },
  profile: { type: 'string', valueName: 'name', description: 'AWS profile (default: AWS_PROFILE)' },
  'endpoint-url': {
    type: 'string',
    valueName: 'url',
    description: 'AWS endpoint, e.g. LocalStack http://127.0.0.1:4566 (default: AWS_ENDPOINT_URL)',
  },
  local: {
    type: 'boolean',
    description:
      'The local stack npm start deployed (.local/local-stack.json), else LocalStack at LOCALSTACK_ENDPOINT or http://127.0.0.1:4566',
  },
  json: { type: 'boolean', description: 'Machine-readable JSON on stdout (errors as JSON on stderr)' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

/** The order locateStack (./locate) follows, for the main help. */
export const FINDING_HELP = [
  'Finding the stack (first that applies):',
  '  1. AWS as configured, unless --local is given: --region / --profile / --endpoint-url, or',
  '     AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws files',
  '  2. --local: the stack npm start recorded in .local/local-stack.json (searched from the current',
  '     directory up to your home, then in this package; or SQS_JOBS_LOCAL_STATE), else LocalStack at',
  '     LOCALSTACK_ENDPOINT or http://127.0.0.1:4566, region us-east-1, test credentials',
  '  3. nothing of 1 configured and a recorded local stack exists: that stack (said on stderr)',
  `  Stack name: --stack, else SQS_JOBS_STACK, else the recorded one, else ${DEFAULT_STACK_NAME}`,
].join('\n');

export const EXIT_CODE_HELP = [
  'Exit codes:',
  '  0  ok',
  '  1  failure (the command ran and failed, e.g. a move task already running)',
  '  2  usage (unknown command or flag, a flag value outside its allowed values, missing argument, purge without --yes)',
  '  3  not found (stack, config output, lane, job id)',
  '  4  validation (payload JSON, schema, unknown job type, payload too large)',
  '  5  AWS (credentials, region, unreachable endpoint, access denied, service error)',
].join('\n');

export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => usageLine(c).length));
  return [
    'sqs-jobs: operate a JobQueue stack (jobs, lanes, DLQs, schedules) on AWS or LocalStack',
    '',
    'Usage: sqs-jobs <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines({ ...GLOBAL_OPTIONS, version: { type: 'boolean', description: 'Print the version' } }),
    '',
    FINDING_HELP,
    '',
    EXIT_CODE_HELP,
    '',
    "Run 'sqs-jobs <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  const lines = [
    `Usage: sqs-jobs ${usageLine(c)}${Object.keys(c.options).length ? ' [options]' : ''}`,
    '',
    c.summary,
  ];
  if (c.description) lines.push('', c.description);
  if (Object.keys(c.options).length) lines.push('', 'Options:', ...optionLines(c.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  if (c.examples?.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  lines.push('', EXIT_CODE_HELP, '');
  return lines.join('\n');
}

export function groupHelp(group: string, commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => usageLine(c).length));
  return [
    `Usage: sqs-jobs ${group} <subcommand> [options]`,
    '',
    ...commands.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.summary}`),
    '',
    `Run 'sqs-jobs ${group} <subcommand> --help' for details.`,
    '',
    EXIT_CODE_HELP,
    '',
  ].join('\n');
}

/** `dlq retry <lane> <jobId>`, `cancel [<jobId>]`. */
export function usageLine(c: CommandSpec): string {
  return [c.name, ...c.args, ...(c.optionalArgs ?? []).map((a) => `[${a}]`)].join(' ');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const flags = Object.entries(options).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    ';
    return [`  ${short}--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`, o.description];
  });
  const width = Math.max(20, ...flags.map(([f]) => f.length));
  return flags.map(([f, d]) => `${f.padEnd(width)}  ${d}`);
}
