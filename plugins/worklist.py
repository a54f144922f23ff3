"""Tasks for people (call, visit, manager review, hand-off review) go to the worklist.

Delivery is immediate: the task is on the collector's worklist once recorded sent.
"""

from __future__ import annotations

from huikuan.core.plugin import DeliveryReceipt, OutgoingMessage, Settings, hookimpl


@hookimpl
def huikuan_send_message(message: OutgoingMessage, settings: Settings) -> DeliveryReceipt | None:
    if message.channel != "worklist":
        return None
    return DeliveryReceipt(reference=f"worklist:{message.recipient or 'unassigned'}")
