#!/usr/bin/env node
/** The `sqs-jobs` operator CLI (see cli/). Compiled to dist/bin/sqs-jobs.js for package.json `bin`. */
import { processIo } from '../cli/io';
import { main } from '../cli/main';

// The SDK's notice about its future Node 22 requirement would open every command's output on
// Node 20; hide that one warning only.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning instanceof Error ? warning.message : warning).startsWith('NodeVersionSupportWarning'))
    return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

void main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
