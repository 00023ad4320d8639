/**
 * The record `npm start` leaves of the local stack it deployed (`.local/local-stack.json` at the
 * repository root), so the CLI and the console find that stack from a new shell. One format, one
 * writer (scripts/local/deploy.ts) and one reader (cli/locate.ts).
 */
import * as path from 'node:path';
import { UsageError } from './errors';

/** Relative to the repository root (and to every directory the CLI searches from). */
export const LOCAL_STATE_FILE = path.join('.local', 'local-stack.json');

/** Points at the record file instead of searching for it (tests use it). */
export const LOCAL_STATE_ENV = 'SQS_JOBS_LOCAL_STATE';

export interface LocalStackRecord {
  /** LocalStack's endpoint, e.g. `http://127.0.0.1:4566`. */
  readonly endpoint: string;
  readonly region: string;
  readonly stackName: string;
  /** ISO 8601 time of the deploy. */
  readonly deployedAt: string;
}

/** The file's text for a deploy finished at `deployedAt`. */
export function localStackRecordText(record: Omit<LocalStackRecord, 'deployedAt'>, deployedAt: Date): string {
  const full: LocalStackRecord = { ...record, deployedAt: deployedAt.toISOString() };
  return `${JSON.stringify(full, null, 2)}\n`;
}

/** Reads a record; anything else is a UsageError naming the file and what is wrong with it. */
export function parseLocalStackRecord(text: string, file: string): LocalStackRecord {
  const bad = (what: string) =>
    new UsageError(`The local stack state ${file} is not valid: ${what}`, {
      hint: 'Run npm start again to rewrite it, or delete the file; or set AWS_REGION / pass --region to use AWS.',
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('not a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of ['endpoint', 'region', 'stackName'] as const) {
    if (typeof record[key] !== 'string' || record[key] === '')
      throw bad(`"${key}" must be a non-empty string`);
  }
  return {
    endpoint: record.endpoint as string,
    region: record.region as string,
    stackName: record.stackName as string,
    deployedAt: typeof record.deployedAt === 'string' ? record.deployedAt : '',
  };
}
