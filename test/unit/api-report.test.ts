/**
 * The public API of each package entry point is recorded in api/*.api.md (API Extractor reports).
 * This test builds the declarations into a temp folder, runs API Extractor the way `api-extractor
 * run` without `--local` would, and fails when a report differs: a change to what `sqs-jobs`,
 * `sqs-jobs/runtime` or `sqs-jobs/runtime/jobs` exports has to be deliberate, and reviewed as a
 * diff of api/*.api.md (`npm run api:update` rewrites them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
} from '@microsoft/api-extractor';
import * as ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');

/** Package export, its source entry (without extension) and its API Extractor config / report name. */
const ENTRIES = [
  { exportPath: '.', source: 'lib/index', report: 'sqs-jobs' },
  { exportPath: './runtime', source: 'lambdas/index', report: 'sqs-jobs-runtime' },
  { exportPath: './runtime/jobs', source: 'lambdas/jobs', report: 'sqs-jobs-runtime-jobs' },
] as const;

const UPDATE_HINT = 'the public API changed: run npm run api:update and commit api/*.api.md';

let tmp: string;
let dtsDir: string;

/** Declarations of the three entries, with tsconfig.build.json's options, as `npm run build` emits them. */
function buildDeclarations(outDir: string): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('cannot read tsconfig.build.json');
  const program = ts.createProgram({
    rootNames: ENTRIES.map((e) => path.join(REPO, `${e.source}.ts`)),
    options: {
      ...parsed.options,
      rootDir: REPO,
      outDir,
      declaration: true,
      emitDeclarationOnly: true,
      declarationMap: false,
      sourceMap: false,
      noEmit: false,
      incremental: false,
    },
  });
  const emitted = program.emit();
  const errors = emitted.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (emitted.emitSkipped || errors.length > 0) {
    const text = ts.formatDiagnostics(errors, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => REPO,
      getNewLine: () => '\n',
    });
    throw new Error(`declarations could not be emitted:\n${text}`);
  }
}

/** Lines only in one of the two reports, marked - (committed) and + (current), for the failure message. */
function reportDiff(committed: string, current: string): string {
  const before = committed.split('\n');
  const after = current.split('\n');
  const removed = before.filter((line) => !after.includes(line)).map((line) => `- ${line}`);
  const added = after.filter((line) => !before.includes(line)).map((line) => `+ ${line}`);
  const lines = [...removed, ...added];
  return lines.length > 60
    ? [...lines.slice(0, 60), `... ${lines.length - 60} more`].join('\n')
    : lines.join('\n');
}

// Building the declarations takes 10-30 s (aws-cdk-lib's types), each report 1-5 s.
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-jobs-api-'));
  dtsDir = path.join(tmp, 'dts');
  buildDeclarations(dtsDir);
}, 300_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('public API reports (api/*.api.md)', () => {
  it.each(ENTRIES)(
    '$exportPath matches the committed API report',
    ({ source, report }) => {
      // Prepare: the committed config, pointed at the temp declarations and a temp report folder
      const configFile = path.join(REPO, 'api', `${report}.api-extractor.json`);
      const configObject = ExtractorConfig.loadFile(configFile);
      configObject.mainEntryPointFilePath = path.join(dtsDir, `${source}.d.ts`);
      const reportTempFolder = path.join(tmp, 'reports', report);
      configObject.apiReport = { ...configObject.apiReport, enabled: true, reportTempFolder };
      const config = ExtractorConfig.prepare({
        configObject,
        configObjectFullPath: configFile,
        packageJsonFullPath: path.join(REPO, 'package.json'),
      });
      const problems: string[] = [];

      // Act
      const result = Extractor.invoke(config, {
        localBuild: false,
        typescriptCompilerFolder: path.join(REPO, 'node_modules', 'typescript'),
        messageCallback: (message: ExtractorMessage) => {
          if (
            message.logLevel === ExtractorLogLevel.Error ||
            message.logLevel === ExtractorLogLevel.Warning
          ) {
            problems.push(message.formatMessageWithLocation(dtsDir));
          }
          message.handled = true;
        },
      });

      // Assess
      const committedFile = path.join(REPO, 'api', `${report}.api.md`);
      if (result.apiReportChanged) {
        const current = fs.readFileSync(path.join(reportTempFolder, `${report}.api.md`), 'utf8');
        const committed = fs.existsSync(committedFile) ? fs.readFileSync(committedFile, 'utf8') : '';
        expect.fail(`${UPDATE_HINT}\napi/${report}.api.md differs:\n${reportDiff(committed, current)}`);
      }
      expect(problems, `API Extractor reported problems for api/${report}.api.md`).toEqual([]);
      expect(result.succeeded).toBe(true);
    },
    120_000,
  );
});
