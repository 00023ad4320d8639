from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostNodeRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with LAMBDA_RUNTIME_EXECUTOR=host-node."""

    name = "host-node"

    def load(self, *args, **kwargs):
        from sqsjobs_localstack_executor import esm_concurrency, fifo_groups
        from sqsjobs_localstack_executor.executor import HostNodeRuntimeExecutor

        # Event source mappings honour MaximumConcurrency (see esm_concurrency.py), and with
        # several pollers FIFO groups must stay locked while a message is in flight (fifo_groups.py).
        esm_concurrency.patch()
        fifo_groups.patch()

        return HostNodeRuntimeExecutor
