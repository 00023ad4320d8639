/**
 * The `sqs-jobs` operator CLI. `main(argv, io)` parses, runs one command and returns its exit
 * code; it never calls process.exit, so tests run it in-process with captured output.
 */
import { parseArgs } from 'node:util';
import { toCliError } from './classify';
import { COMMANDS, type CommandSpec } from './commands';
import { type GlobalOptions, StackContext } from './context';
import { type CliError, EXIT, UsageError } from './errors';
import { commandHelp, GLOBAL_OPTIONS, groupHelp, mainHelp, usageLine } from './help';
import { type CliIo, withDefaults } from './io';
import { locateStack } from './locate';
import { packageRoot, packageVersion } from './package-root';

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export async function main(argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io = withDefaults(ioOverrides);
  const wantsJson = argv.includes('--json');
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    return report(toCliError(error), io, wantsJson);
  }
  if (parsed.kind === 'text') {
    (parsed.exitCode === EXIT.ok ? io.stdout : io.stderr)(parsed.text);
    return parsed.exitCode;
  }
  const { command, args, values } = parsed;
  let globals: GlobalOptions;
  try {
    globals = globalOptions(values, io);
  } catch (error) {
    return report(toCliError(error), io, wantsJson);
  }
  // Not with --json: stderr then holds only the JSON error a script parses.
  if (globals.notice && !globals.json) io.stderr(`${globals.notice}\n`);
  const stack = new StackContext(globals, io);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  const onAbort = () => interrupt.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const watchesSigint =
    command.name === 'top' || command.name === 'dlq redrive' || command.name === 'console';
  if (watchesSigint) process.once('SIGINT', onSigint);
  try {
    const code = await command.run({
      args,
      values,
      globals,
      stack,
      io,
      signal: interrupt.signal,
      out: io.stdout,
      note: io.stderr,
    });
    return code ?? EXIT.ok;
  } catch (error) {
    return report(toCliError(error, stack.errorContext()), io, globals.json);
  } finally {
    if (watchesSigint) process.removeListener('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onAbort);
    stack.destroy();
  }
}

type Parsed =
  | { readonly kind: 'text'; readonly text: string; readonly exitCode: number }
  | {
      readonly kind: 'run';
      readonly command: CommandSpec;
      readonly args: string[];
      readonly values: Record<string, string | boolean | undefined>;
    };

/**
 * The target (locateStack: flags, AWS's settings, the local stack), checked before any client
 * exists: a bad value is a usage error naming where it came from, not an SDK failure after a call.
 */
function globalOptions(values: Record<string, string | boolean | undefined>, io: CliIo): GlobalOptions {
  const target = locateStack({
    flags: {
      stack: values.stack as string | undefined,
      region: values.region as string | undefined,
      profile: values.profile as string | undefined,
      endpointUrl: values['endpoint-url'] as string | undefined,
      local: Boolean(values.local),
    },
    env: io.env,
    cwd: io.cwd,
    files: io.files,
    packageRoot: packageRoot(),
  });
  return { ...target, json: Boolean(values.json) };
}

/** Exported for tests: the command, its positionals and flags, or a help/usage text. */
export function parse(rawArgv: readonly string[]): Parsed {
  // First pass, lenient: find the command words among the positionals.
  const all: ParseOptions = { ...GLOBAL_OPTIONS, version: { type: 'boolean' } };
  for (const c of COMMANDS) Object.assign(all, c.options);
  const argv = joinNegativeValues(rawArgv, all);
  const loose = parseArgs({ args: [...argv], options: all, strict: false, allowPositionals: true });
  const words = loose.positionals;
  if (words.length === 0) {
    if (loose.values.version) return { kind: 'text', text: `${packageVersion()}\n`, exitCode: EXIT.ok };
    if (loose.values.help) return { kind: 'text', text: mainHelp(COMMANDS), exitCode: EXIT.ok };
    throw new UsageError('No command given', { hint: "Run 'sqs-jobs --help' for the commands." });
  }
  if (words[0] === 'help') {
    const target = words.slice(1).join(' ');
    if (!target) return { kind: 'text', text: mainHelp(COMMANDS), exitCode: EXIT.ok };
    const group = COMMANDS.filter((c) => c.name.startsWith(`${target} `));
    const command = COMMANDS.find((c) => c.name === target);
    if (command) return { kind: 'text', text: commandHelp(command), exitCode: EXIT.ok };
    if (group.length) return { kind: 'text', text: groupHelp(target, group), exitCode: EXIT.ok };
    throw unknownCommand(target);
  }
  const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
  let command: CommandSpec | undefined;
  let used = 1;
  if (group.length > 0) {
    command = words[1] === undefined ? undefined : group.find((c) => c.name === `${words[0]} ${words[1]}`);
    used = 2;
    if (!command) {
      if (loose.values.help || words[1] === undefined) {
        return {
          kind: 'text',
          text: groupHelp(words[0], group),
          exitCode: loose.values.help ? EXIT.ok : EXIT.usage,
        };
      }
      throw unknownCommand(`${words[0]} ${words[1]}`);
    }
  } else {
    command = COMMANDS.find((c) => c.name === words[0]);
    if (!command) throw unknownCommand(words[0]);
  }
  if (loose.values.help) return { kind: 'text', text: commandHelp(command), exitCode: EXIT.ok };

  // Second pass, strict: only this command's flags and the global ones.
  const own = { ...GLOBAL_OPTIONS, ...command.options } as ParseOptions;
  checkValuesPresent(argv, own, command.name);
  let strict: ReturnType<typeof parseArgs>;
  try {
    strict = parseArgs({
      args: [...argv],
      options: own,
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // Node's own text goes on about '--' for positionals; the first sentence says it all.
    const message = (error as Error).message.split(/\. To specify|\n/)[0];
    throw new UsageError(message, {
      cause: error,
      hint: `Run 'sqs-jobs ${command.name} --help' for its options.`,
    });
  }
  const args = strict.positionals.slice(used);
  if (args.length < command.args.length) {
    throw new UsageError(`'${command.name}' needs ${command.args.slice(args.length).join(' ')}`, {
      hint: `Usage: sqs-jobs ${usageLine(command)}`,
    });
  }
  const most = command.args.length + (command.optionalArgs?.length ?? 0);
  if (args.length > most) {
    throw new UsageError(`Unexpected argument '${args[most]}' for '${command.name}'`, {
      hint: `Usage: sqs-jobs ${usageLine(command)}`,
    });
  }
  return {
    kind: 'run',
    command,
    args,
    values: strict.values as Record<string, string | boolean | undefined>,
  };
}

/** The long name of a flag token (`--delay`, `-p`, not `--delay=5`), if it is a known option. */
function optionName(token: string, options: ParseOptions): string | undefined {
  if (!options) return undefined;
  if (/^--[^=]+$/.test(token)) return Object.hasOwn(options, token.slice(2)) ? token.slice(2) : undefined;
  if (/^-[^-]$/.test(token)) return Object.keys(options).find((name) => options[name].short === token[1]);
  return undefined;
}

/**
 * `--delay -5` → `--delay=-5`: parseArgs takes a value starting with a dash for another option and
 * calls it ambiguous; a negative number is meant as the value, and its own check then says why it
 * is out of range.
 */
function joinNegativeValues(argv: readonly string[], options: ParseOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') return [...out, ...argv.slice(i)];
    const name = optionName(token, options);
    const next = argv[i + 1];
    if (name && options?.[name].type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** A string flag without its value (at the end, or followed by another flag) gets a clear message. */
function checkValuesPresent(argv: readonly string[], options: ParseOptions, commandName: string): void {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return;
    const name = optionName(argv[i], options);
    if (!name || options?.[name].type !== 'string') continue;
    const next = argv[i + 1];
    const valueName = (options[name] as { valueName?: string }).valueName ?? 'value';
    if (next === undefined) {
      throw new UsageError(`--${name} needs a value <${valueName}>; got nothing`, {
        hint: `Run 'sqs-jobs ${commandName} --help' for its options.`,
      });
    }
    if (next.startsWith('-')) {
      throw new UsageError(`--${name} needs a value <${valueName}>; got the option '${next}'`, {
        hint: next.startsWith('--')
          ? `Give --${name} its value: --${name} <${valueName}>`
          : `A value that starts with a dash goes after '=': --${name}=${next}`,
      });
    }
    i++;
  }
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`Unknown command '${name}'`, { hint: "Run 'sqs-jobs --help' for the commands." });
}

function report(error: CliError, io: CliIo, asJson: boolean): number {
  if (asJson) {
    io.stderr(
      `${JSON.stringify({ error: { type: error.name, exitCode: error.exitCode, message: error.message, hint: error.hint } })}\n`,
    );
  } else {
    io.stderr(`sqs-jobs: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
  }
  return error.exitCode;
}
