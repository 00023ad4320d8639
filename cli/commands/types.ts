/** How a command is declared: its words, arguments, flags and help, plus the function that runs it. */
import type { GlobalOptions, StackContext } from '../context';
import type { CliIo } from '../io';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Shown in help: `--lane <lane>`. */
  readonly valueName?: string;
}

export interface RunContext {
  /** Positional arguments after the command words. */
  readonly args: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly globals: GlobalOptions;
  readonly stack: StackContext;
  readonly io: CliIo;
  /** Aborted on Ctrl-C (or the io's signal). */
  readonly signal: AbortSignal;
  readonly out: (text: string) => void;
  /** Progress and notes for people: stderr, so stdout stays parseable. */
  readonly note: (text: string) => void;
}

export interface CommandSpec {
  /** Command words: `status`, `dlq retry`. */
  readonly name: string;
  /** Required positionals, for usage and arity checks: `<lane>`, `<jobId>`. */
  readonly args: readonly string[];
  /** Positionals that may follow the required ones (`cancel [<jobId>]`): the command checks them. */
  readonly optionalArgs?: readonly string[];
  readonly summary: string;
  readonly description?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples?: readonly string[];
  /** Returns the exit code (default 0); throws for failures. */
  run(ctx: RunContext): Promise<number | undefined>;
}
