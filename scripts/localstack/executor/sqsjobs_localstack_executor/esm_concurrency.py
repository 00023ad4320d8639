"""
AWS runs up to ScalingConfig.MaximumConcurrency batches of an SQS event source mapping at once;
LocalStack runs one poller per mapping and ignores the setting. This patch starts that many poller
threads per SQS mapping (capped by LAMBDA_HOST_ESM_MAX_POLLERS, default 10), so lane weights
shape throughput on LocalStack as they do on AWS. Other event sources keep one poller.

Applied when LocalStack loads the host-node executor, before any mapping starts.
"""

import logging
import os

from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
from localstack.utils.threads import FuncThread

LOG = logging.getLogger(__name__)


def pollers_for(esm_config: dict) -> int:
    """How many poller threads a mapping gets: its MaximumConcurrency for SQS, else 1."""
    if ":sqs:" not in (esm_config.get("EventSourceArn") or ""):
        return 1
    wanted = (esm_config.get("ScalingConfig") or {}).get("MaximumConcurrency") or 1
    cap = int(os.environ.get("LAMBDA_HOST_ESM_MAX_POLLERS", "10"))
    return max(1, min(int(wanted), cap))


def patch() -> None:
    if getattr(EsmWorker, "_sqsjobs_concurrency", False):
        return
    original_start = EsmWorker.start

    def start(self):
        original_start(self)
        count = pollers_for(self.esm_config)
        for index in range(1, count):
            FuncThread(
                self.poller_loop,
                name=f"event-source-mapping-poller-{self.uuid}-{index}",
            ).start()
        if count > 1:
            LOG.info("event source mapping %s: %d pollers (MaximumConcurrency)", self.uuid, count)

    EsmWorker.start = start
    EsmWorker._sqsjobs_concurrency = True
