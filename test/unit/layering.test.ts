/**
 * The layering the code relies on, checked on every import (type-only ones included): the runtime
 * never imports aws-cdk-lib, the constructs never import the AWS SDK, the library never imports
 * the CLI or the tooling, scripts/ and bench/ never import tests, and lib/ and lambdas/ have no
 * import cycle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'fixtures') out.push(...sourceFiles(rel));
    } else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
  return out;
}

interface Imports {
  /** Package names (`aws-cdk-lib`, `@aws-sdk/client-sqs`). */
  readonly packages: string[];
  /** Repository-relative paths of the local modules imported. */
  readonly local: string[];
}

function importsOf(file: string): Imports {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  const packages: string[] = [];
  const local: string[] = [];
  for (const spec of specifiers) {
    if (spec.startsWith('.')) {
      const base = path.normalize(path.join(path.dirname(file), spec));
      const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) =>
        fs.existsSync(path.join(ROOT, candidate)),
      );
      local.push(found ?? base);
    } else if (!spec.startsWith('node:')) {
      packages.push(spec);
    }
  }
  return { packages, local };
}

/** Every cycle in a module graph, each as the list of modules around it. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    const at = stack.indexOf(node);
    if (at >= 0) {
      cycles.push([...stack.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...stack, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

function violations(folder: string, rule: (imports: Imports) => string[]): string[] {
  return sourceFiles(folder).flatMap((file) =>
    rule(importsOf(file)).map((what) => `${file} imports ${what}`),
  );
}

describe('layering', () => {
  it('the runtime (lambdas/) never imports aws-cdk-lib, constructs, or the library, CLI and tooling', () => {
    const bad = violations('lambdas', ({ packages, local }) => [
      ...packages.filter((p) => p === 'aws-cdk-lib' || p.startsWith('aws-cdk-lib/') || p === 'constructs'),
      ...local.filter((f) => !under('lambdas')(f)),
    ]);
    expect(bad).toEqual([]);
  });

  it('the constructs (lib/) never import the AWS SDK, the CLI or the tooling', () => {
    const bad = violations('lib', ({ packages, local }) => [
      ...packages.filter((p) => p.startsWith('@aws-sdk/')),
      ...local.filter(
        (f) => !under('lib')(f) && !under('lambdas/shared')(f) && !under('lambdas/registry')(f),
      ),
    ]);
    expect(bad).toEqual([]);
  });

  it('the CLI never imports the constructs, the tooling or the tests', () => {
    const bad = violations('cli', ({ packages, local }) => [
      ...packages.filter((p) => p === 'aws-cdk-lib' || p.startsWith('aws-cdk-lib/')),
      ...local.filter((f) => !under('cli')(f) && !under('lambdas')(f)),
    ]);
    expect(bad).toEqual([]);
  });

  it('scripts/ imports neither test/ nor bench/, and bench/ does not import test/', () => {
    const bad = [
      ...violations('scripts', ({ local }) => local.filter((f) => under('test')(f) || under('bench')(f))),
      ...violations('bench', ({ local }) => local.filter(under('test'))),
    ];
    expect(bad).toEqual([]);
  });

  it('lib/ and lambdas/ have no import cycle, type-only imports included', () => {
    const files = [...sourceFiles('lib'), ...sourceFiles('lambdas')];
    const graph = new Map(files.map((file) => [file, importsOf(file).local]));
    expect(findCycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
