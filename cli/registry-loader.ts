/**
 * Loads the job registry `enqueue` validates against. A .ts registry works both under tsx (the
 * module loader already compiles it) and from the compiled CLI (through tsx's require API).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { JobRegistry } from '../lambdas/registry/types';
import { CliError, EXIT, UsageError } from './errors';
import { packageRoot } from './package-root';

/** Env var naming the registry module (the `--registry` flag wins). */
export const REGISTRY_ENV = 'SQS_JOBS_REGISTRY';

/** This repository's example registry. */
export function defaultRegistryPath(): string {
  return path.join(packageRoot(), 'bin', 'jobs.ts');
}

export async function loadRegistry(file: string, cwd: string): Promise<JobRegistry> {
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) {
    throw new UsageError(`Registry module not found: ${abs}`, {
      hint: `Pass --registry <path> or set ${REGISTRY_ENV} to the module that exports your defineRegistry(...)`,
    });
  }
  const mod = await importModule(abs);
  const registry = pickRegistry(mod);
  if (!registry) {
    throw new UsageError(`${abs} exports no job registry`, {
      hint: "Export it as 'registry' (or default): export const registry = defineRegistry([...])",
    });
  }
  return registry;
}

async function importModule(abs: string): Promise<unknown> {
  try {
    // Under tsx or vitest this loads .ts directly; compiled to CommonJS it becomes require().
    return await import(abs);
  } catch (error) {
    if (!/\.[cm]?tsx?$/.test(abs) || !looksLikeNoTypeScript(error)) {
      throw new CliError(`Cannot load registry ${abs}: ${(error as Error).message}`, EXIT.failure, {
        cause: error,
      });
    }
  }
  try {
    const requireFrom = createRequire(typeof __filename === 'string' ? __filename : path.join(abs, '..'));
    const tsx = requireFrom('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
    return tsx.require(abs, typeof __filename === 'string' ? __filename : abs);
  } catch (error) {
    throw new CliError(
      `Cannot load the TypeScript registry ${abs}: ${(error as Error).message}`,
      EXIT.failure,
      {
        cause: error,
        hint: 'Install tsx (npm i -D tsx), run the CLI with `npx tsx`, or point --registry at compiled JavaScript.',
      },
    );
  }
}

function looksLikeNoTypeScript(error: unknown): boolean {
  const e = error as { code?: string; name?: string };
  return e?.code === 'ERR_UNKNOWN_FILE_EXTENSION' || e?.name === 'SyntaxError';
}

function pickRegistry(mod: unknown): JobRegistry | undefined {
  const m = (mod ?? {}) as Record<string, unknown>;
  const candidates = [m.registry, m.default, (m.default as Record<string, unknown> | undefined)?.registry];
  candidates.push(...Object.values(m));
  return candidates.find(isRegistry);
}

function isRegistry(value: unknown): value is JobRegistry {
  const r = value as Partial<JobRegistry> | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.types) &&
    typeof r.get === 'function' &&
    typeof r.has === 'function'
  );
}
