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
  - enforces the function timeout (kills the process, returns a Sandbox.Timedout error),
  - reports a process that dies mid-invocation (e.g. killed by a test) as a Runtime.ExitError
    for that invocation, and respawns a fresh process on the next invocation.

Environment read (set by scripts/localstack/up.sh):
  LAMBDA_HOST_NODE_BIN   node binary (default: `node` on PATH)
  LAMBDA_HOST_SHIM       path of lambda-shim.mjs (default: ../lambda-shim.mjs from this package)
  LAMBDA_HOST_NODE_PATH  NODE_PATH for functions (the project's node_modules: @aws-sdk/* etc.)
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
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from pathlib import Path

import requests

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
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
        if inv is not None and not inv.done():
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

    def _wait_ready(self) -> None:
        self.executor_endpoint.wait_for_startup()

    # --- RuntimeExecutor API ------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = dict(env_vars)
        self.executor_endpoint.start()
        self._spawn()
        self._wait_ready()

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

    def _respawn(self) -> None:
        LOG.info("host-node: restarting the process of %s (env %s)", self.function_version.id.function_name, self.id)
        self.executor_endpoint.startup_future = Future()
        self._spawn()
        deadline = config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        try:
            self.executor_endpoint.startup_future.result(timeout=deadline)
        except FutureTimeoutError:
            self._kill()
            raise LambdaRuntimeException(f"restarted runtime did not become ready within {deadline}s")

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self.invoke_lock:
            if self.stopped:
                raise LambdaRuntimeException(f"execution environment {self.id} is stopped")
            if self.process is None or self.process.poll() is not None:
                self._respawn()
            ep = self.executor_endpoint
            req_id = payload.get("invoke-id", "")
            inv: Future = Future()
            inv.request_id = req_id  # type: ignore[attr-defined]
            inv.log_start = self.log_seq  # type: ignore[attr-defined]
            ep.invocation_future = inv
            ep.logs = None
            url = f"http://{HOST}:{ep.container_port}/invoke"
            for attempt in range(6):
                try:
                    response = requests.post(url, json=payload, proxies={"http": "", "https": ""}, timeout=10)
                    break
                except requests.exceptions.ConnectionError:
                    if attempt == 5 or (self.process and self.process.poll() is not None):
                        raise
                    time.sleep(0.1 * 2**attempt)
            if not response.ok:
                raise LambdaRuntimeException(f"invoke to {url} failed with HTTP {response.status_code}")
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
