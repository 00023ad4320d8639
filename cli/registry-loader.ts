/**
 * Loads the job registry `enqueue` validates against. A .ts registry works both under tsx (the
 * module loader already compiles it) and from the compiled CLI (through tsx's require API; tsx is
 * an optional peer dependency of the package, so the user's project provides it).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { JobRegistry } from '../lambdas/registry/types';
import { CliError, EXIT, UsageError } from './errors';
import { packageRoot } from './package-root';

/** Env var naming the registry module (the `--registry` flag wins). */
export const REGISTRY_ENV = 'SQS_JOBS_REGISTRY';

/**
 * The example registry: `bin/jobs.ts` when the CLI runs from source (tsx, this repository), the
 * compiled `dist/bin/jobs.js` when it runs from dist/ (the package ships only dist/, and loading
 * JavaScript needs no tsx).
 */
export function defaultRegistryPath(from: string = __filename): string {
  if (path.extname(from) === '.ts') return path.join(packageRoot(path.dirname(from)), 'bin', 'jobs.ts');
  return path.resolve(path.dirname(from), '..', 'bin', 'jobs.js');
}

/** The registry a command uses: `--registry`, else $SQS_JOBS_REGISTRY, else the example registry. */
export function registryPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return flag ?? (env[REGISTRY_ENV] || defaultRegistryPath());
}

/** What the CLI says when a .ts registry needs tsx and none is installed. */
const TSX_MISSING = 'install tsx to load a .ts registry';

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
  const tsx = loadTsx(abs);
  try {
    return tsx.require(abs, typeof __filename === 'string' ? __filename : abs);
  } catch (error) {
    throw new CliError(
      `Cannot load the TypeScript registry ${abs}: ${(error as Error).message}`,
      EXIT.failure,
      {
        cause: error,
      },
    );
  }
}

type TsxApi = { require: (id: string, from: string) => unknown };

/**
 * tsx's CommonJS API, from the registry's project first (where a user installs it), then from
 * next to the CLI (this repository, or a project where npm hoisted both).
 */
function loadTsx(registryPath: string): TsxApi {
  const bases = [registryPath];
  if (typeof __filename === 'string') bases.push(__filename);
  let lastError: unknown;
  for (const base of bases) {
    try {
      return createRequire(base)('tsx/cjs/api') as TsxApi;
    } catch (error) {
      if (!isModuleNotFound(error)) {
        throw new CliError(`Cannot load tsx for the TypeScript registry ${registryPath}`, EXIT.failure, {
          cause: error,
        });
      }
      lastError = error;
    }
  }
  throw new CliError(`Cannot load the TypeScript registry ${registryPath}: ${TSX_MISSING}`, EXIT.failure, {
    cause: lastError,
    hint: 'npm i -D tsx in your project (an optional peer dependency of sqs-jobs), run the CLI with `npx tsx`, or point --registry at compiled JavaScript.',
  });
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
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
