from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostNodeRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with LAMBDA_RUNTIME_EXECUTOR=host-node."""

    name = "host-node"

    def load(self, *args, **kwargs):
        from sqsjobs_localstack_executor.esm_concurrency import patch
        from sqsjobs_localstack_executor.executor import HostNodeRuntimeExecutor

        # Event source mappings honour MaximumConcurrency (see esm_concurrency.py).
        patch()

        return HostNodeRuntimeExecutor
