/**
 * Where a command (or the console) talks to: one resolution shared by every front end.
 *
 * 1. AWS, as configured, unless --local is given: an explicit --region / --profile / --endpoint-url, or AWS's own settings
 *    (AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, an
 *    ~/.aws/config or ~/.aws/credentials file). The SDK's usual chain does the rest.
 * 2. `--local`: the local stack `npm start` recorded (.local/local-stack.json), else LocalStack at
 *    LOCALSTACK_ENDPOINT or http://127.0.0.1:4566; test credentials unless AWS's env gives keys.
 * 3. Nothing configured at all, and a recorded local stack exists: that stack, said on stderr.
 * 4. Otherwise the SDK's chain as in 1, which then fails; the error lists what was tried.
 *
 * The stack name is --stack, else SQS_JOBS_STACK, else the recorded one (2, 3), else the default.
 */
import * as path from 'node:path';
import { DEFAULT_STACK_NAME } from '../lambdas/shared/defaults';
import type { ErrorContext } from './classify';
import { endpointUrl, profileName, regionName, stackName } from './flags';
import {
  LOCAL_STATE_ENV,
  LOCAL_STATE_FILE,
  type LocalStackRecord,
  parseLocalStackRecord,
} from './local-state';

export const STACK_ENV = 'SQS_JOBS_STACK';
export const LOCALSTACK_DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
export const LOCALSTACK_DEFAULT_REGION = 'us-east-1';

/** The global flags as parsed (unchecked strings; `local` is the `--local` switch). */
export interface LocateFlags {
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly local?: boolean;
}

/** The file system as far as finding a stack needs it; injected so tests never read the real home. */
export interface LocateFiles {
  /** The file's text, or undefined when there is no such file. */
  readonly readText: (file: string) => string | undefined;
  readonly homeDir: string;
}

export interface LocateInput {
  readonly flags: LocateFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Searched upward for .local/local-stack.json. */
  readonly cwd: string;
  readonly files: LocateFiles;
  /** The CLI's own package root, searched after `cwd` (a repository checkout has its record there). */
  readonly packageRoot?: string;
}

/** How the target was found: AWS as configured, `--local`, or the recorded local stack by default. */
export type TargetSource = 'aws' | 'local' | 'recorded';

export interface StackCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StackTarget {
  readonly stack: string;
  /** Passed to the SDK; undefined leaves it to the SDK's chain (AWS_REGION, the profile). */
  readonly region?: string;
  readonly profile?: string;
  readonly endpoint?: string;
  /** Set for LocalStack when AWS's environment gives no keys; else the SDK's chain. */
  readonly credentials?: StackCredentials;
  readonly source: TargetSource;
  /** The local stack record used, if any. */
  readonly record?: LocalStackRecord & { readonly file: string };
  /** For messages: the values in effect (also those the SDK reads itself) and where they came from. */
  readonly shown: {
    readonly stack: Origin;
    readonly region?: Origin;
    readonly endpoint?: Origin;
  };
  /** What was looked at, in order, for error hints: `flags (none)`, `AWS environment (...)`, ... */
  readonly tried: readonly string[];
  /** One line for stderr when the recorded local stack was chosen without being asked for. */
  readonly notice?: string;
  /** Whether flags, AWS's variables or ~/.aws files configure AWS (only for source 'aws'). */
  readonly awsConfigured?: boolean;
}

export interface Origin {
  /** Empty when only the SDK knows it (a region from the profile file). */
  readonly value: string;
  /** `--region`, `AWS_REGION`, `recorded local stack state (<file>)`, ... */
  readonly from: string;
}

/** Resolves the target; throws a UsageError for a bad flag, variable or record file (naming it). */
export function locateStack(input: LocateInput): StackTarget {
  const { flags, env, files } = input;
  const flag = {
    stack: checked('--stack', flags.stack, stackName),
    region: checked('--region', flags.region, regionName),
    profile: checked('--profile', flags.profile, profileName),
    endpoint: checked('--endpoint-url', flags.endpointUrl, endpointUrl),
  };
  // A variable is checked only when no flag overrides it; an empty one is unset, as for the SDK.
  const variable = (name: string, check: (source: string, raw: string) => string, overridden?: string) =>
    overridden === undefined && env[name] ? check(name, env[name] as string) : undefined;
  const vars = {
    stack: variable(STACK_ENV, stackName, flag.stack),
    endpoint: variable('AWS_ENDPOINT_URL', endpointUrl, flag.endpoint),
    region: variable('AWS_REGION', regionName, flag.region),
    defaultRegion: variable('AWS_DEFAULT_REGION', regionName, flag.region ?? (env.AWS_REGION || undefined)),
    profile: env.AWS_PROFILE || undefined,
    accessKey: Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY),
  };
  const awsFiles = awsConfigFiles(env, files);

  const flagsTried = [
    ...(flag.stack ? [`--stack ${flag.stack}`] : []),
    ...(flag.region ? [`--region ${flag.region}`] : []),
    ...(flag.profile ? [`--profile ${flag.profile}`] : []),
    ...(flag.endpoint ? [`--endpoint-url ${flag.endpoint}`] : []),
    ...(flags.local ? ['--local'] : []),
  ];
  const awsConfigured =
    Boolean(flag.region || flag.profile || flag.endpoint) ||
    Boolean(vars.endpoint || vars.region || vars.defaultRegion || vars.profile || env.AWS_ACCESS_KEY_ID) ||
    awsFiles.some((f) => f.exists);
  const tried = [
    `flags (${flagsTried.join(', ') || 'none'})`,
    `AWS environment (${awsEnvironmentText(env, awsFiles, files.homeDir)})`,
  ];
  const stackFromUser: Origin | undefined = flag.stack
    ? { value: flag.stack, from: '--stack' }
    : vars.stack
      ? { value: vars.stack, from: STACK_ENV }
      : undefined;

  const found = findRecordFile(input);
  // 1. AWS as configured (and not told --local): the SDK's chain, as before.
  if (!flags.local && awsConfigured) {
    tried.push(
      `local stack state (${found.file ? `${found.file}: not used, AWS is configured; pass --local to use it` : found.missing})`,
    );
    return awsTarget(flag, vars, awsFiles, stackFromUser, tried, awsConfigured);
  }
  if (!found.file) {
    tried.push(`local stack state (${found.missing})`);
    // 4. Nothing to go on: the SDK's chain, whose error then lists what was tried.
    if (!flags.local) return awsTarget(flag, vars, awsFiles, stackFromUser, tried, awsConfigured);
  }
  const record = found.file ? readRecord(found.file, found.text as string) : undefined;
  // Unasked (3), only a record of a LocalStack on this machine is used.
  if (record && !flags.local && !isLoopback(record.endpoint)) {
    tried.push(
      `local stack state (${record.file}: not used without --local, its endpoint ${record.endpoint} is not on this machine)`,
    );
    return awsTarget(flag, vars, awsFiles, stackFromUser, tried, awsConfigured);
  }
  if (record)
    tried.push(`local stack state (${record.file}, deployed ${record.deployedAt || 'at an unknown time'})`);
  const recorded = `recorded local stack state (${record?.file})`;

  // 2. --local, or 3. the recorded local stack by default.
  const localEndpoint = variable('LOCALSTACK_ENDPOINT', endpointUrl, flag.endpoint ?? record?.endpoint);
  const endpoint: Origin = flag.endpoint
    ? { value: flag.endpoint, from: '--endpoint-url' }
    : record
      ? { value: record.endpoint, from: recorded }
      : localEndpoint
        ? { value: localEndpoint, from: 'LOCALSTACK_ENDPOINT' }
        : { value: LOCALSTACK_DEFAULT_ENDPOINT, from: 'the LocalStack default for --local' };
  const envRegion = vars.region
    ? { value: vars.region, from: 'AWS_REGION' }
    : vars.defaultRegion
      ? { value: vars.defaultRegion, from: 'AWS_DEFAULT_REGION' }
      : undefined;
  const region: Origin = flag.region
    ? { value: flag.region, from: '--region' }
    : record
      ? { value: record.region, from: recorded }
      : (envRegion ?? { value: LOCALSTACK_DEFAULT_REGION, from: 'the LocalStack default for --local' });
  const stack: Origin =
    stackFromUser ??
    (record
      ? { value: record.stackName, from: recorded }
      : { value: DEFAULT_STACK_NAME, from: 'the default' });
  // Keys from the environment or a named profile are used as given; LocalStack takes any others.
  const ownCredentials = vars.accessKey || Boolean(flag.profile);
  const source: TargetSource = flags.local ? 'local' : 'recorded';
  return {
    stack: stack.value,
    region: region.value,
    profile: flag.profile,
    endpoint: endpoint.value,
    credentials: ownCredentials ? undefined : { accessKeyId: 'test', secretAccessKey: 'test' },
    source,
    record,
    shown: { stack, region, endpoint },
    tried,
    notice:
      source === 'recorded'
        ? `sqs-jobs: using the local stack from npm start at ${endpoint.value}; pass --local to be explicit, or set AWS_REGION to use AWS`
        : undefined,
  };
}

/** The AWS SDK client configuration for `target` (every client of one target shares it). */
export function clientConfig(target: StackTarget): {
  region?: string;
  profile?: string;
  endpoint?: string;
  credentials?: StackCredentials;
} {
  return {
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
  };
}

/** What toCliError (./classify) needs to say where the target was and how it was found. */
export function targetErrorContext(target: StackTarget, env: LocateInput['env']): ErrorContext {
  const { shown, tried, source } = target;
  return {
    stackName: target.stack,
    endpoint: shown.endpoint?.value,
    region: shown.region?.value || undefined,
    profile: target.profile ?? env.AWS_PROFILE,
    stackFrom: shown.stack.from,
    endpointFrom: shown.endpoint?.from,
    regionFrom: shown.region?.from,
    tried,
    local: source === 'aws' ? undefined : source,
    awsConfigured: target.awsConfigured,
  };
}

function checked(
  source: string,
  raw: string | undefined,
  check: (source: string, raw: string) => string,
): string | undefined {
  return raw === undefined ? undefined : check(source, raw);
}

interface AwsFile {
  readonly path: string;
  readonly variable: string;
  readonly exists: boolean;
}

/** ~/.aws/config and ~/.aws/credentials, or where AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE put them. */
function awsConfigFiles(env: LocateInput['env'], files: LocateFiles): AwsFile[] {
  return [
    ['AWS_CONFIG_FILE', 'config'],
    ['AWS_SHARED_CREDENTIALS_FILE', 'credentials'],
  ].map(([variable, name]) => {
    const file = env[variable] || path.join(files.homeDir, '.aws', name);
    return { path: file, variable, exists: files.readText(file) !== undefined };
  });
}

function awsEnvironmentText(env: LocateInput['env'], awsFiles: readonly AwsFile[], home: string): string {
  const names = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE'];
  const set = names.filter((n) => env[n]).map((n) => `${n}=${env[n]}`);
  if (env.AWS_ACCESS_KEY_ID) set.push('AWS_ACCESS_KEY_ID set');
  const unset = [...names, 'AWS_ACCESS_KEY_ID'].filter((n) => !env[n]);
  const present = awsFiles.filter((f) => f.exists).map((f) => tilde(f.path, home));
  const absent = awsFiles.filter((f) => !f.exists).map((f) => tilde(f.path, home));
  return [
    ...set,
    ...(unset.length ? [`${unset.join(', ')} unset`] : []),
    ...(present.length ? [`found ${present.join(' and ')}`] : []),
    ...(absent.length ? [`no ${absent.join(' or ')}`] : []),
  ].join('; ');
}

function tilde(file: string, home: string): string {
  return home && file.startsWith(`${home}${path.sep}`) ? `~${file.slice(home.length)}` : file;
}

function awsTarget(
  flag: { region?: string; profile?: string; endpoint?: string },
  vars: { endpoint?: string; region?: string; defaultRegion?: string; profile?: string },
  awsFiles: readonly AwsFile[],
  stackFromUser: Origin | undefined,
  tried: string[],
  configured: boolean,
): StackTarget {
  const configFile = awsFiles.find((f) => f.exists);
  const region: Origin | undefined = flag.region
    ? { value: flag.region, from: '--region' }
    : vars.region
      ? { value: vars.region, from: 'AWS_REGION' }
      : vars.defaultRegion
        ? { value: vars.defaultRegion, from: 'AWS_DEFAULT_REGION' }
        : undefined;
  const endpoint: Origin | undefined = flag.endpoint
    ? { value: flag.endpoint, from: '--endpoint-url' }
    : vars.endpoint
      ? { value: vars.endpoint, from: 'AWS_ENDPOINT_URL' }
      : undefined;
  return {
    stack: stackFromUser?.value ?? DEFAULT_STACK_NAME,
    // The SDK reads AWS_REGION itself but not AWS_DEFAULT_REGION (the AWS CLI does): pass that one on.
    region: flag.region ?? (vars.region ? undefined : vars.defaultRegion),
    profile: flag.profile,
    endpoint: flag.endpoint,
    source: 'aws',
    shown: {
      stack: stackFromUser ?? { value: DEFAULT_STACK_NAME, from: 'the default' },
      region:
        region ??
        (configFile || vars.profile || flag.profile
          ? { value: '', from: `your AWS profile (${flag.profile ?? vars.profile ?? 'default'})` }
          : undefined),
      endpoint,
    },
    tried,
    awsConfigured: configured,
  };
}

interface FoundRecord {
  readonly file?: string;
  readonly text?: string;
  /** Why there is none, for the tried list. */
  readonly missing: string;
}

/** SQS_JOBS_LOCAL_STATE, else .local/local-stack.json in cwd or above, else in the package root. */
function findRecordFile(input: LocateInput): FoundRecord {
  const named = input.env[LOCAL_STATE_ENV];
  if (named) {
    const text = input.files.readText(named);
    return text === undefined
      ? { missing: `${LOCAL_STATE_ENV}=${named} not found` }
      : { file: named, text, missing: '' };
  }
  // Up to, not into, the home directory: ~/.local is the XDG data folder, not a project's.
  const home = input.files.homeDir ? path.resolve(input.files.homeDir) : undefined;
  const dirs: string[] = [];
  for (let dir = path.resolve(input.cwd); dir !== home; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  if (input.packageRoot && !dirs.includes(path.resolve(input.packageRoot)))
    dirs.push(path.resolve(input.packageRoot));
  for (const dir of dirs) {
    const file = path.join(dir, LOCAL_STATE_FILE);
    const text = input.files.readText(file);
    if (text !== undefined) return { file, text, missing: '' };
  }
  const where = input.packageRoot
    ? `${input.cwd} and above, or ${input.packageRoot}`
    : `${input.cwd} and above`;
  return { missing: `${LOCAL_STATE_FILE} not found in ${where}` };
}

function readRecord(file: string, text: string): LocalStackRecord & { readonly file: string } {
  const record = parseLocalStackRecord(text, file);
  return {
    ...record,
    endpoint: endpointUrl(`${file} "endpoint"`, record.endpoint),
    region: regionName(`${file} "region"`, record.region),
    stackName: stackName(`${file} "stackName"`, record.stackName),
    file,
  };
}

/** Whether an endpoint URL names this machine (127.0.0.0/8, ::1, localhost, localhost.localstack.cloud). */
function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === 'localhost.localstack.cloud' ||
    host.endsWith('.localhost')
  );
}
