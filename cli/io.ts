/** What a command may touch outside itself: injected so tests run `main` in-process. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { LocateFiles } from './locate';

export interface CliIo {
  /** Writes to standard output (text is written as given; add your own newline). */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads the files that say where the stack is (~/.aws/config, .local/local-stack.json). */
  readonly files: LocateFiles;
  /** Tables and progress bars redraw in place only on a terminal. */
  readonly isTTY: boolean;
  /** Aborted on Ctrl-C (top, redrive) or by a test. */
  readonly signal?: AbortSignal;
  readonly now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function readTextIfAny(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Missing, a directory, unreadable: all mean "not there" for finding a stack.
    return undefined;
  }
}

/** The real process: stdout/stderr, environment, working directory. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    files: { readText: readTextIfAny, homeDir: homedir() },
    isTTY: Boolean(process.stdout.isTTY),
    now: Date.now,
    sleep,
  };
}

/** `io` with defaults filled in from the process (tests pass only what they capture). */
export function withDefaults(io: Partial<CliIo> = {}): CliIo {
  return { ...processIo(), isTTY: false, ...io };
}
