/**
 * How deploy.ts runs a cdklocal command: the whole output in the log file, a summary on the
 * console, and on failure the log's last lines and its path. A node one-liner stands in for
 * cdklocal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLogged } from '../../../../scripts/local/deploy';

let dir: string;
let logFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-log-'));
  logFile = path.join(dir, 'deploy-SqsJobsExample.log');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for cdklocal that prints `lines` (stdout, the last one without a newline) and exits with `code`. */
function fakeCdk(lines: string[], code: number): string[] {
  const script = `process.stdout.write(${JSON.stringify(lines.join('\n'))}); process.stderr.write('on stderr\\n'); process.exitCode = ${code};`;
  return ['-e', script];
}

const events = Array.from(
  { length: 50 },
  (_, i) =>
    `SqsJobsExample | ${String(i + 1).padStart(2)}/50 | 5:33:10 PM | CREATE_COMPLETE      | AWS::SQS::Queue | Jobs/Queue${i}`,
);

describe('runLogged', () => {
  it('writes every line to the log and shows the summary', async () => {
    // Prepare
    const shown: string[] = [];
    const lines = ['SqsJobsExample: deploying... [1/1]', ...events, ' ✅  SqsJobsExample'];
    // Act
    await runLogged(process.execPath, fakeCdk(lines, 0), {}, (l) => shown.push(l), logFile, dir);
    // Assess
    expect(shown).toEqual([
      'SqsJobsExample: deploying... [1/1]',
      'SqsJobsExample: 13/50 resources done',
      'SqsJobsExample: 26/50 resources done',
      'SqsJobsExample: 39/50 resources done',
      'SqsJobsExample: 50/50 resources done',
      '✅  SqsJobsExample',
    ]);
    const log = fs.readFileSync(logFile, 'utf8');
    for (const line of [...lines, 'on stderr']) expect(log).toContain(`${line}\n`);
  });

  it('keeps a character whole when the output splits it between two chunks', async () => {
    const shown: string[] = [];
    const script = `const b = Buffer.from(' ✅  SqsJobsExample\\n'); process.stdout.write(b.subarray(0, 2)); setTimeout(() => process.stdout.write(b.subarray(2)), 100);`;
    await runLogged(process.execPath, ['-e', script], {}, (l) => shown.push(l), logFile, dir);
    expect(shown).toEqual(['✅  SqsJobsExample']);
  });

  it('on failure shows the last 40 lines and names the log', async () => {
    const shown: string[] = [];
    const lines = [...events, ' ❌  SqsJobsExample failed: ToolkitError: boom'];
    await expect(
      runLogged(process.execPath, fakeCdk(lines, 1), {}, (l) => shown.push(l), logFile, dir),
    ).rejects.toThrow(/exited 1 \(full output: .*deploy-SqsJobsExample\.log\)/);
    const tailStart = shown.findIndex((l) => l.includes('the last 40 lines of'));
    expect(shown[tailStart]).toContain('deploy-SqsJobsExample.log');
    const tail = shown.slice(tailStart + 1);
    expect(tail).toHaveLength(40);
    expect(tail.join('\n')).toContain('on stderr');
    expect(tail.join('\n')).toContain('❌  SqsJobsExample failed: ToolkitError: boom');
  });
});
