/** The record of the local stack npm start deployed: written by deploy.ts, read by the CLI. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_STATE_FILE, localStackRecordText, parseLocalStackRecord } from '../../../../cli/local-state';
import { recordLocalStack } from '../../../../scripts/local/deploy';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-stack-record-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('localStackRecordText', () => {
  it('writes endpoint, region, stack name and the deploy time as JSON the reader takes back', () => {
    // Act
    const text = localStackRecordText(
      { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', stackName: 'SqsJobsExample' },
      new Date('2026-03-01T12:00:00Z'),
    );

    // Assess
    expect(JSON.parse(text)).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      stackName: 'SqsJobsExample',
      deployedAt: '2026-03-01T12:00:00.000Z',
    });
    expect(parseLocalStackRecord(text, 'f.json')).toEqual(JSON.parse(text));
  });

  it.each([
    ['not JSON', '{', /f\.json is not valid: not JSON/],
    ['an array', '[]', /f\.json is not valid: not a JSON object/],
    ['without an endpoint', '{"region":"us-east-1","stackName":"S"}', /f\.json is not valid: "endpoint"/],
  ])('refuses a record that is %s, naming the file', (_, text, pattern) => {
    expect(() => parseLocalStackRecord(text, 'f.json')).toThrow(pattern);
  });
});

describe('recordLocalStack', () => {
  it('writes .local/local-stack.json under the root, creating .local', () => {
    // Act
    const file = recordLocalStack(
      root,
      { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', stackName: 'SqsJobsExample' },
      new Date('2026-03-01T12:00:00Z'),
    );

    // Assess
    expect(file).toBe(path.join(root, LOCAL_STATE_FILE));
    expect(parseLocalStackRecord(fs.readFileSync(file, 'utf8'), file)).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      stackName: 'SqsJobsExample',
      deployedAt: '2026-03-01T12:00:00.000Z',
    });
  });
});
