/**
 * What of cdklocal's output the console shows during a local deploy (scripts/local/deploy.ts).
 *
 * `cdk deploy --progress events` prints a line per CloudFormation event (163 for the example
 * stack), which buries the few lines a user needs. deploy.ts writes every line to a log file and
 * passes each through a `DeployReporter`, which shows the phases, a progress line now and then,
 * warnings and errors, the stack outputs and the result. `classifyDeployLine` is the pure part:
 * it knows the shapes of the CDK CLI's lines (aws-cdk's HistoryActivityPrinter for events).
 */
import { stripVTControlCharacters } from 'node:util';

export type DeployLineKind =
  /** a step of the deploy: bootstrapping, bundling, synthesis done, deploying, change set */
  | 'phase'
  /** one CloudFormation resource event, counted for the progress line */
  | 'event'
  /** cdk's "Currently in progress: ..." note after 30 s without events */
  | 'stalled'
  | 'warning'
  | 'error'
  /** "Outputs:", which starts the block of `Stack.Output = value` lines */
  | 'outputs'
  | 'output'
  /** ✅ stack deployed, bootstrapped or destroyed */
  | 'result'
  | 'noise';

export interface DeployLine {
  readonly kind: DeployLineKind;
  /** the line without colour codes and surrounding blanks */
  readonly text: string;
  /** event lines: the stack, its resources done and total (cdk counts the stack itself too) */
  readonly stack?: string;
  readonly done?: number;
  readonly total?: number;
  /** event lines: CloudFormation's ResourceStatus, e.g. CREATE_COMPLETE */
  readonly status?: string;
}

// `<stack> | <done>[/<total>] | <time> | <STATUS> | <type> | <construct path> (<logical id>) <reason>`;
// the progress column is left out in cdk's closing "Failed resources:" list.
const EVENT = /^(\S+) \|(?:\s*(\d+)(?:\/\s*(\d+))? \|)? [^|]+ \| ([A-Z_]+)(?: \(skipped\))?\s*\| [^|]*\|/;
const CANCELLED = /cancel+ed/i;

const PHASES = [
  /Bootstrapping environment/,
  /^Bundling asset /,
  /^✨\s+Synthesis time/,
  /: deploying\.\.\./,
  /: creating CloudFormation changeset/,
  /: destroying\.\.\./,
];
const RESULTS = [/^✅/];
const ERRORS = [
  /^❌/,
  /^✘/,
  /^\S+: fail: /,
  /\[ERROR\]/,
  /^\[Error at /,
  /^Error\b/,
  /^\S*Error: /,
  /^Failed resources:/,
  /\bfailed (to|with)\b/i,
];
const WARNINGS = [/^⚠/, /^▲/, /\[WARNING\]/, /^\[Warning at /, /^Warning\b/i, /^\(node:\d+\) \S*Warning/];
// `Stack.Output = value`, after "Outputs:"
const OUTPUT = /^[A-Za-z][\w-]*\.[\w-]+ = /;

/** What a line of cdklocal's output is, for what the console shows of it. */
export function classifyDeployLine(raw: string): DeployLine {
  const text = stripVTControlCharacters(raw).trim();
  if (!text || text.includes('nodedir')) return { kind: 'noise', text };
  const event = EVENT.exec(text);
  if (event) {
    const [, stack, done, total, status] = event;
    const base = {
      text,
      stack,
      status,
      done: done === undefined ? undefined : Number(done),
      total: total === undefined ? undefined : Number(total),
    };
    if (status.endsWith('_FAILED') && !CANCELLED.test(text)) return { kind: 'error', ...base };
    if (status.includes('ROLLBACK_IN_PROGRESS')) return { kind: 'warning', ...base };
    return { kind: 'event', ...base };
  }
  if (text.includes('Currently in progress:')) return { kind: 'stalled', text };
  if (text === 'Outputs:') return { kind: 'outputs', text };
  if (OUTPUT.test(text)) return { kind: 'output', text };
  if (RESULTS.some((re) => re.test(text))) return { kind: 'result', text };
  if (PHASES.some((re) => re.test(text))) return { kind: 'phase', text };
  if (ERRORS.some((re) => re.test(text))) return { kind: 'error', text };
  if (WARNINGS.some((re) => re.test(text))) return { kind: 'warning', text };
  return { kind: 'noise', text };
}

export interface DeployReporterOptions {
  /** where the shown lines go (DeployOptions.log) */
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * A progress line at most this often while events arrive.
   * @default 10_000
   */
  readonly everyMs?: number;
  /**
   * A progress line also whenever this many more resources are done.
   * @default - a quarter of the stack's resources, at least 10
   */
  readonly everyResources?: number;
}

const MAX_OUTPUT_CHARS = 120;

/** Shows the lines worth showing of one cdklocal run and a progress line for the events. */
export class DeployReporter {
  private readonly now: () => number;
  private readonly everyMs: number;
  private lastShownAt: number;
  private lastShownDone = 0;
  private latest: DeployLine | undefined;

  constructor(private readonly options: DeployReporterOptions) {
    this.now = options.now ?? Date.now;
    this.everyMs = options.everyMs ?? 10_000;
    this.lastShownAt = this.now();
  }

  /** Takes one line of cdklocal's output; shows it, a progress line, or nothing. */
  line(raw: string): void {
    const line = classifyDeployLine(raw);
    switch (line.kind) {
      case 'event':
        this.track(line);
        if (this.progressDue(line)) this.showProgress();
        return;
      case 'output':
        this.options.log(`  ${shorten(line.text)}`);
        return;
      case 'noise':
        return;
      case 'result':
        // the count at the end, before "✅ Stack", unless the last progress line said it already
        if (this.latest && this.latest.done !== this.lastShownDone) this.showProgress();
        this.latest = undefined;
        this.options.log(line.text);
        return;
      default:
        if (line.done !== undefined) this.track(line);
        this.options.log(line.text);
    }
  }

  /** Counts restart with each stack (an app may deploy more than one). */
  private track(line: DeployLine): void {
    if (line.stack !== this.latest?.stack) {
      this.lastShownDone = 0;
      this.lastShownAt = this.now();
    }
    this.latest = line;
  }

  private progressDue(line: DeployLine): boolean {
    const done = line.done ?? 0;
    if (done === this.lastShownDone) return false;
    const step = this.options.everyResources ?? Math.max(10, Math.ceil((line.total ?? 0) / 4));
    return this.now() - this.lastShownAt >= this.everyMs || done - this.lastShownDone >= step;
  }

  private showProgress(): void {
    const line = this.latest;
    if (!line || line.done === undefined) return;
    const count = line.total === undefined ? `${line.done}` : `${line.done}/${line.total}`;
    this.options.log(`${line.stack}: ${count} resources done`);
    this.lastShownAt = this.now();
    this.lastShownDone = line.done;
  }
}

function shorten(text: string): string {
  return text.length <= MAX_OUTPUT_CHARS ? text : `${text.slice(0, MAX_OUTPUT_CHARS - 1)}…`;
}
