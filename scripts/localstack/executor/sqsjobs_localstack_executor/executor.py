"""
A LocalStack Lambda RuntimeExecutor that runs each execution environment as a host Node.js
process (scripts/localstack/lambda-shim.mjs) instead of a Docker container.

Protocol (as LocalStack's own executors use it, see executor_endpoint.py):
  - start(): register an ExecutorEndpoint, spawn the shim with the function's environment,
    block until the shim POSTs {LOCALSTACK_RUNTIME_ENDPOINT}/status/{id}/ready (or /error).
  - invoke(): POST http://127.0.0.1:<port>/invoke {invoke-id, invoked-function-arn, payload,
    trace-id}; the shim answers 202 at once and later POSTs the result to
    .../invocations/<invoke-id>/response or /error.

Beyond Docker parity, this executor
  - enforces the function timeout (kills the process, returns a Sandbox.Timedout error); as on
    AWS the clock starts when the invoke reaches the process, never at process start,
  - gives the init phase (spawn until the handler is loaded and the shim says ready) its own
    bound, LAMBDA_HOST_INIT_TIMEOUT, and runs at most LAMBDA_HOST_MAX_PARALLEL_INITS inits at
    once: on AWS every environment has its own CPU, here a burst of cold starts would otherwise
    starve the invocations already running into their timeouts,
  - never loses an invoke to the harness: a process found dead before the invoke reaches it is
    respawned and the invoke resent, a refused or unanswered connection is retried,
  - reports a process that dies mid-invocation (e.g. killed by a test) as a Runtime.ExitError
    for that invocation, and respawns a fresh process on the next invocation.

Environment read (set by scripts/localstack/up.sh):
  LAMBDA_HOST_NODE_BIN   node binary (default: `node` on PATH)
  LAMBDA_HOST_SHIM       path of lambda-shim.mjs (default: ../lambda-shim.mjs from this package)
  LAMBDA_HOST_NODE_PATH  NODE_PATH for functions (the project's node_modules: @aws-sdk/* etc.)
  LAMBDA_HOST_INIT_TIMEOUT        seconds one init may take once started (default 30; AWS: 10,
                                  on dedicated CPU)
  LAMBDA_HOST_MAX_PARALLEL_INITS  inits running at once (default: the number of CPUs)
LocalStack's own LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT bounds a start including its wait for an init
slot; up.sh raises it in host mode.
"""

import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from pathlib import Path

import requests

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    ShutdownDuringStartup,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_LOG_LINES = 5000
# environment of the LocalStack process that a function process may see (the rest is the
# function's own environment, as in a container)
PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")
# how long invoke() keeps resending an invoke the process did not take (connection refused, a
# busy answer from an older shim), on top of respawning a dead process
SEND_RETRY_SECONDS = 30


def _init_timeout() -> float:
    return float(os.environ.get("LAMBDA_HOST_INIT_TIMEOUT") or 30)


# one semaphore for all environments of this LocalStack: inits compete for the same CPUs
_INIT_SLOTS = threading.BoundedSemaphore(
    max(1, int(os.environ.get("LAMBDA_HOST_MAX_PARALLEL_INITS") or os.cpu_count() or 2))
)


def _shim_path() -> str:
    configured = os.environ.get("LAMBDA_HOST_SHIM")
    if configured:
        return configured
    return str(Path(__file__).resolve().parents[2] / "lambda-shim.mjs")


def _node_bin() -> str | None:
    return os.environ.get("LAMBDA_HOST_NODE_BIN") or shutil.which("node")


class HostNodeRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address=HOST)
        self.process: subprocess.Popen | None = None
        self.env_vars: dict[str, str] = {}
        self.logs: deque[str] = deque(maxlen=MAX_LOG_LINES)
        self.log_seq = 0  # total number of lines ever appended
        self.invoke_lock = threading.Lock()
        self.stopped = False

    # --- process management -------------------------------------------------------------
    def _code_dir(self) -> str:
        code = self.function_version.config.code
        if code is None:
            raise LambdaRuntimeException("host-node executor supports zip-packaged functions only")
        return str(code.get_unzipped_code_location())

    def _spawn(self) -> None:
        node = _node_bin()
        if not node:
            raise LambdaRuntimeException("host-node executor: no `node` binary on PATH")
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        env.update({k: str(v) for k, v in self.env_vars.items()})
        code_dir = self._code_dir()
        env["LAMBDA_TASK_ROOT"] = code_dir
        env["LAMBDA_HOST_SHIM_PORT"] = str(port)
        node_path = os.environ.get("LAMBDA_HOST_NODE_PATH")
        if node_path:
            env["NODE_PATH"] = node_path + (
                os.pathsep + env["NODE_PATH"] if env.get("NODE_PATH") else ""
            )
        cmd = [
            node,
            _shim_path(),
            f"--function={self.function_version.id.function_name}",
            f"--runtime-id={self.id}",
            f"--gateway-port={config.GATEWAY_LISTEN[0].port}",  # lets down.sh find its own leftovers
        ]
        LOG.debug("host-node: spawning %s (port %s, cwd %s)", cmd, port, code_dir)
        process = subprocess.Popen(
            cmd,
            cwd=code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process = process
        threading.Thread(
            target=self._pump_output, args=(process,), name=f"lambda-host-out-{self.id[:8]}", daemon=True
        ).start()
        threading.Thread(
            target=self._watch, args=(process,), name=f"lambda-host-watch-{self.id[:8]}", daemon=True
        ).start()

    def _pump_output(self, process: subprocess.Popen) -> None:
        name = self.function_version.id.function_name
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.logs.append(line)
            self.log_seq += 1
            LOG.debug("[lambda %s %s] %s", name, self.id[:8], line)

    def _watch(self, process: subprocess.Popen) -> None:
        code = process.wait()
        if self.stopped or process is not self.process:
            return
        if code < 0:
            names = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault"}
            reason = f"signal: {names.get(-code, signal.Signals(-code).name)}"
        else:
            reason = f"exit status {code}"
        LOG.info(
            "host-node: process of %s (env %s) exited (%s)",
            self.function_version.id.function_name,
            self.id,
            reason,
        )
        ep = self.executor_endpoint
        startup = ep.startup_future
        if startup is not None and not startup.done():
            startup.set_exception(
                StatusErrorException(
                    f"Runtime exited during init ({reason})",
                    payload=json.dumps(
                        {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: {reason}"}
                    ).encode(),
                )
            )
        inv = ep.invocation_future
        # an invoke the process never took is resent by invoke() to a fresh process, not failed
        if inv is not None and not inv.done() and getattr(inv, "delivered", False):
            req_id = getattr(inv, "request_id", "")
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {req_id} Error: Runtime exited with error: {reason}",
            }
            inv.set_result(
                InvocationResult(req_id, json.dumps(payload).encode(), is_error=True, logs=self._tail_logs(inv))
            )

    def _tail_logs(self, inv: Future | None) -> str:
        start = getattr(inv, "log_start", None) if inv is not None else None
        lines = list(self.logs)
        if start is not None:
            n = self.log_seq - start
            lines = lines[-n:] if n > 0 else []
        return "\n".join(lines) + ("\n" if lines else "")

    def _kill(self, process: subprocess.Popen | None = None) -> None:
        process = process or self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except Exception:  # noqa
            process.kill()
        try:
            process.wait(timeout=5)
        except Exception:  # noqa
            pass

    def _init(self) -> None:
        """The init phase: spawn the process and wait until the shim has loaded the handler.

        Bounded on its own (LAMBDA_HOST_INIT_TIMEOUT, from the moment this init gets a slot) and
        never counted in an invocation's timeout, as on AWS.
        """
        name = self.function_version.id.function_name
        with _INIT_SLOTS:
            if self.stopped:
                raise LambdaRuntimeException(f"execution environment {self.id} is stopped")
            ep = self.executor_endpoint
            if ep.startup_future is None or ep.startup_future.done():
                ep.startup_future = Future()
            started = time.monotonic()
            self._spawn()
            bound = _init_timeout()
            try:
                ep.startup_future.result(timeout=bound)
            except FutureTimeoutError:
                proc = self.process
                self.process = None  # the watcher ignores processes that are no longer current
                self._kill(proc)
                raise LambdaRuntimeException(
                    f"init of {name} did not finish within {bound:.0f}s (LAMBDA_HOST_INIT_TIMEOUT)"
                )
            except CancelledError as e:
                raise ShutdownDuringStartup("execution environment shut down during init") from e
            LOG.debug("host-node: init of %s (env %s) took %.2fs", name, self.id, time.monotonic() - started)

    # --- RuntimeExecutor API ------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = dict(env_vars)
        self.executor_endpoint.start()
        self._init()

    def stop(self) -> None:
        self.stopped = True
        self._kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # noqa
            LOG.debug("host-node: error shutting down endpoint of %s: %s", self.id, e)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        return f"http://{HOST}:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def _send(self, payload: dict[str, str], inv: Future) -> None:
        """Hands the invoke to the process, respawning a dead one (its init bounded on its own)
        and resending what was not taken. Marks `inv` delivered once the shim has accepted it."""
        give_up = time.monotonic() + SEND_RETRY_SECONDS
        delay = 0.05
        while True:
            if self.stopped:
                raise LambdaRuntimeException(f"execution environment {self.id} is stopped")
            if self.process is None or self.process.poll() is not None:
                name = self.function_version.id.function_name
                LOG.info("host-node: starting a fresh process for %s (env %s)", name, self.id)
                self._init()
            url = f"http://{HOST}:{self.executor_endpoint.container_port}/invoke"
            try:
                response = requests.post(url, json=payload, proxies={"http": "", "https": ""}, timeout=(5, 10))
            except requests.exceptions.ReadTimeout:
                # the process has the request but did not answer: treat it as taken, the function
                # timeout (or the process's exit) decides the outcome; resending could run it twice
                LOG.warning("host-node: no answer to the invoke from %s; waiting for its result", url)
                inv.delivered = True  # type: ignore[attr-defined]
                return
            except requests.exceptions.ConnectionError as e:
                reason = f"connection failed ({e.__class__.__name__})"
            else:
                if response.ok:
                    inv.delivered = True  # type: ignore[attr-defined]
                    return
                reason = f"HTTP {response.status_code}"
            if time.monotonic() >= give_up:
                raise LambdaRuntimeException(f"invoke to {url} not taken within {SEND_RETRY_SECONDS}s: {reason}")
            LOG.info("host-node: invoke to %s not taken (%s); retrying", url, reason)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self.invoke_lock:
            if self.stopped:
                raise LambdaRuntimeException(f"execution environment {self.id} is stopped")
            ep = self.executor_endpoint
            req_id = payload.get("invoke-id", "")
            inv: Future = Future()
            inv.request_id = req_id  # type: ignore[attr-defined]
            inv.delivered = False  # type: ignore[attr-defined]
            inv.log_start = self.log_seq  # type: ignore[attr-defined]
            ep.invocation_future = inv
            ep.logs = None
            self._send(payload, inv)
            # the function timeout counts from here: the process has the invoke
            timeout = float(self.function_version.config.timeout or 3)
            try:
                result = inv.result(timeout=timeout + 0.5)
            except FutureTimeoutError:
                LOG.info(
                    "host-node: %s request %s timed out after %ss, killing the process",
                    self.function_version.id.function_name,
                    req_id,
                    timeout,
                )
                proc = self.process
                self.process = None  # the watcher ignores processes that are no longer current
                self._kill(proc)  # the next invoke spawns a fresh process
                body = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {req_id} Error: Task timed out after {timeout:.2f} seconds",
                }
                return InvocationResult(req_id, json.dumps(body).encode(), is_error=True, logs=self._tail_logs(inv))
            if result.logs is None:
                result.logs = self._tail_logs(inv)
            return result

    def get_logs(self) -> str:
        return "\n".join(self.logs)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        runtime = str(function_version.config.runtime or "")
        if function_version.config.code is None or not runtime.startswith("nodejs"):
            raise LambdaRuntimeException(
                f"host-node executor runs zip-packaged Node.js functions only (got runtime '{runtime}')"
            )
        function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        if not _node_bin():
            LOG.warning("host-node Lambda executor: no `node` binary found (set LAMBDA_HOST_NODE_BIN)")
            return False
        if not os.path.exists(_shim_path()):
            LOG.warning("host-node Lambda executor: shim not found at %s (set LAMBDA_HOST_SHIM)", _shim_path())
            return False
        return True
