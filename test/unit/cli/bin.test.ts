/** The real executable, spawned once: shebang entry, exit codes reach the shell. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

describe('bin/sqs-jobs.ts', () => {
  it('starts with a node shebang, prints help and returns usage errors as exit code 2', () => {
    // Act
    const help = spawnSync(tsx, ['bin/sqs-jobs.ts', 'dlq', 'list', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const bad = spawnSync(tsx, ['bin/sqs-jobs.ts', 'dlq', 'purge', 'default'], {
      cwd: ROOT,
      encoding: 'utf8',
    });

    // Assess
    expect(readFileSync(path.join(ROOT, 'bin', 'sqs-jobs.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: sqs-jobs dlq list <lane>/);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Refusing to purge/);
  });
});
