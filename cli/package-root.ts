/** The sqs-jobs package root: `cli/..` under tsx, `dist/cli/../..` when compiled. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readPackage(manifest).name === 'sqs-jobs') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from, '..');
    dir = parent;
  }
}

export function packageVersion(): string {
  return readPackage(path.join(packageRoot(), 'package.json')).version ?? '0.0.0';
}

function readPackage(file: string): { name?: string; version?: string } {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}
