"""
SQS FIFO: "when you receive a message with a message group ID, no more messages for the same
message group ID are returned unless you delete the message or it becomes visible" (AWS). In
LocalStack a message of a group that becomes visible again (its visibility timeout ended or was
changed) unlocks the group even while another message of that group is in flight, so a later
message can be delivered while an earlier one is still being processed. LocalStack's single poller
per mapping rarely meets that; the pollers esm_concurrency.py adds do, and then a FIFO lane
runs a group's messages out of order. This patch keeps the group locked while any other message
of it is in flight; the group is unlocked by LocalStack as before once the last one is deleted or
visible again.

Applied when LocalStack loads the host-node executor.
"""

from localstack.services.sqs.models import FifoQueue


def patch() -> None:
    if getattr(FifoQueue, "_sqsjobs_group_lock", False):
        return
    original_put = FifoQueue._put_message

    def _put_message(self, message):
        group = self.get_message_group(message.message_group_id)
        with self.mutex:  # re-entrant: LocalStack calls this with the mutex held
            if (
                message.receive_count >= 1
                and group in self.inflight_groups
                and any(
                    other is not message and other.message_group_id == message.message_group_id
                    for other in self.inflight
                )
            ):
                # back into its group, which stays locked until the in-flight one is done
                group.push(message)
                return
        original_put(self, message)

    FifoQueue._put_message = _put_message
    FifoQueue._sqsjobs_group_lock = True
