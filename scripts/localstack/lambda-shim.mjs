// Node.js stand-in for the Lambda runtime inside LocalStack's host-node executor
// (scripts/localstack/executor). One process = one execution environment.
//
// Started by the executor with cwd = the unzipped function code and the function's
// environment (_HANDLER, AWS_LAMBDA_FUNCTION_*, AWS_ENDPOINT_URL, credentials, user vars) plus
//   LOCALSTACK_RUNTIME_ENDPOINT  http://127.0.0.1:4566/_localstack_lambda/<executor id>
//   LOCALSTACK_RUNTIME_ID        the executor id
//   LAMBDA_HOST_SHIM_PORT        port to serve POST /invoke on (127.0.0.1)
//   LAMBDA_TASK_ROOT             the code directory
//   NODE_PATH                    the project's node_modules (for @aws-sdk/* left external)
// Command-line flags (--function=..., --runtime-id=..., --gateway-port=...) are only there so
// that tests can find a function's process (e.g. `pgrep -f -- '--function=<name>'`) and
// down.sh the leftovers of its own LocalStack.
//
// Flow: load the handler (the init phase, bounded by the executor, not by the function
// timeout), POST <endpoint>/status/<id>/ready (or /status/<id>/error on an init failure, then
// exit 1), then for each POST /invoke answer 202 and later POST the result to
// <endpoint>/invocations/<request id>/response or /error.
//
// An invoke is never refused: LocalStack sends the next one as soon as it has the previous
// result, which can be before our POST of that result has resolved here. So the busy state is
// cleared before the result is posted, and an invoke that still finds one running waits in a
// queue instead of getting a 409 (which would cost the event source mapping a receive, and the
// job an attempt, without running the handler).

import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const runtimeEndpoint = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const port = Number(env.LAMBDA_HOST_SHIM_PORT);
const taskRoot = env.LAMBDA_TASK_ROOT || process.cwd();
const handlerSpec = env._HANDLER || 'index.handler';
const timeoutSec = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT || 3);

if (!runtimeEndpoint || !runtimeId || !port) {
  console.error(
    'lambda-shim: LOCALSTACK_RUNTIME_ENDPOINT, LOCALSTACK_RUNTIME_ID and LAMBDA_HOST_SHIM_PORT are required',
  );
  process.exit(2);
}
// Lambda's working directory is the task root; LocalStack sets /var/task, we use the real dir
process.env.LAMBDA_TASK_ROOT = taskRoot;
// The host's Node runs the function here, not the function's Lambda runtime: on Node 20 the AWS
// SDK's notice about its future Node 22 requirement (see scripts/node-env.sh) would open every
// function's log, so it is turned off before the handler loads, unless the function's own
// environment sets it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A result or ready status that does not reach LocalStack would cost the invocation (it would
// time out and count as the handler's failure), so network errors and 5xx are retried briefly.
const POST_ATTEMPTS = 6;

async function post(p, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${runtimeEndpoint}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      if (res.status < 500 || attempt === POST_ATTEMPTS) {
        if (res.status >= 300) console.error(`lambda-shim: POST ${p} -> HTTP ${res.status}`);
        return;
      }
    } catch (err) {
      if (attempt === POST_ATTEMPTS) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
  }
}

function errorPayload(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type || e.name || 'Error',
    errorMessage: e.message,
    stackTrace: (e.stack || '')
      .split('\n')
      .slice(1)
      .map((l) => l.trim()),
  };
}

async function loadHandler() {
  // "dir/file.fn" -> module dir/file, export fn (nested exports "a.b" allowed after the file)
  const slash = handlerSpec.lastIndexOf('/');
  const dot = handlerSpec.indexOf('.', slash + 1);
  if (dot < 0)
    throw Object.assign(new Error(`Bad handler ${handlerSpec}`), { name: 'Runtime.MalformedHandlerName' });
  const modulePart = handlerSpec.slice(0, dot);
  const exportPath = handlerSpec.slice(dot + 1).split('.');
  const base = path.resolve(taskRoot, modulePart);
  const file = ['.js', '.mjs', '.cjs', ''].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePart}' in ${taskRoot}`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let mod;
  if (file.endsWith('.mjs')) {
    mod = await import(pathToFileURL(file).href);
  } else {
    const require = createRequire(path.join(taskRoot, 'noop.js'));
    try {
      mod = require(file);
    } catch (err) {
      if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
        mod = await import(pathToFileURL(file).href);
      } else {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), {
          name: err?.code === 'MODULE_NOT_FOUND' ? 'Runtime.ImportModuleError' : err?.name,
        });
      }
    }
  }
  let fn = mod;
  for (const key of exportPath) fn = fn?.[key];
  if (typeof fn !== 'function' && mod?.default) {
    fn = mod.default;
    for (const key of exportPath) fn = fn?.[key];
  }
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${modulePart}.${exportPath.join('.')} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return fn;
}

let handler;
const initStarted = Date.now();
let initDurationMs;
try {
  handler = await loadHandler();
  initDurationMs = Date.now() - initStarted;
} catch (err) {
  console.error('lambda-shim: init failed', err);
  await post(`/status/${runtimeId}/error`, errorPayload(err, err?.name)).catch(() => {});
  process.exit(1);
}

let current = null; // { id } of the invocation running now
const waiting = []; // invokes that arrived while one was running, in order

function makeContext(inv, deadline) {
  return {
    awsRequestId: inv['invoke-id'],
    invokedFunctionArn: inv['invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    memoryLimitInMB: String(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || '128'),
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    succeed: () => {},
    fail: () => {},
  };
}

// Reports the result of invocation `id` once (later calls for it are ignored). The busy state is
// cleared first: the moment LocalStack has the result it may send the next invoke.
async function finish(id, ok, value) {
  if (!current || current.id !== id) return;
  current = null;
  const body = ok ? JSON.stringify(value === undefined ? null : value) : value;
  try {
    await post(`/invocations/${id}/${ok ? 'response' : 'error'}`, body);
  } catch (err) {
    console.error('lambda-shim: could not post the result', err);
  }
}

function startNext() {
  if (current || waiting.length === 0) return;
  const inv = waiting.shift();
  runInvocation(inv)
    .catch((err) => console.error('lambda-shim: invocation failed', err))
    .finally(startNext);
}

async function runInvocation(inv) {
  const id = inv['invoke-id'];
  // The function timeout counts from the invoke, as on AWS; init had its own bound.
  const deadline = Date.now() + timeoutSec * 1000;
  current = { id };
  process.env._X_AMZN_TRACE_ID = inv['trace-id'] || '';
  let event;
  try {
    event = inv.payload ? JSON.parse(inv.payload) : {};
  } catch {
    event = inv.payload;
  }
  const context = makeContext(inv, deadline);
  console.log(`START RequestId: ${id} Version: ${context.functionVersion}`);
  const started = Date.now();
  try {
    const result = await new Promise((resolve, reject) => {
      const callback = (err, res) => (err ? reject(err) : resolve(res));
      context.done = callback;
      context.succeed = (res) => resolve(res);
      context.fail = (err) => reject(err);
      const ret = handler(event, context, callback);
      if (ret && typeof ret.then === 'function') ret.then(resolve, reject);
      else if (handler.length < 3) resolve(ret);
    });
    await finish(id, true, result);
  } catch (err) {
    console.error(`${new Date().toISOString()}\t${id}\tERROR\t`, err);
    await finish(id, false, errorPayload(err));
  }
  console.log(`END RequestId: ${id}`);
  const init = initDurationMs === undefined ? '' : `\tInit Duration: ${initDurationMs} ms`;
  initDurationMs = undefined; // reported once, on the cold invocation, as AWS does
  console.log(`REPORT RequestId: ${id}\tDuration: ${Date.now() - started} ms${init}`);
}

// A crash inside the handler's async work: report it for the current request, then exit like
// the Node runtime does; the executor starts a fresh process for the next invocation.
for (const evt of ['uncaughtException', 'unhandledRejection']) {
  process.on(evt, async (err) => {
    console.error(`lambda-shim: ${evt}`, err);
    if (current)
      await finish(
        current.id,
        false,
        errorPayload(err, evt === 'unhandledRejection' ? 'Runtime.UnhandledPromiseRejection' : undefined),
      );
    process.exit(129);
  });
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let inv;
    try {
      inv = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('bad json');
      return;
    }
    res.writeHead(202).end();
    waiting.push(inv);
    startNext();
  });
});
server.listen(port, '127.0.0.1', () => {
  post(`/status/${runtimeId}/ready`, {}).catch((err) => {
    console.error('lambda-shim: could not report ready', err);
    process.exit(1);
  });
});
