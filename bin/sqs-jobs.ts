#!/usr/bin/env node
import { processIo } from '../cli/io';
/** The `sqs-jobs` operator CLI (see cli/). Compiled to dist/bin/sqs-jobs.js for package.json `bin`. */
import { main } from '../cli/main';

void main(process.argv.slice(2), { ...processIo() }).then((code) => {
  process.exitCode = code;
});
