"""Message delivery: the outbox kept in the event store, from queued to sent.

A message is queued by a decision of the daily cycle (MessageQueued, a Decision); it is
here with what then becomes of it: held, sent, failed or cancelled, and for a demand
sent, the proof that it reached the debtor (DemandDelivered), which restarts the
limitation period of its invoices.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from huikuan.core.account.events import Decision, Event, Fact
from huikuan.core.account.records import Message
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.vocabulary import DEMANDS


class Delivery(AccountState):
    """Messages the policy queued, and what became of each delivery attempt."""

    class MessageQueued(Decision):
        """A letter, e-mail, text or task was queued: the outbox lives in the event store."""

        TOPIC = "huikuan:Account.MessageQueued"
        CHANGES_INVOICES = False
        message_id: str
        kind: str
        channel: str
        recipient: str | None
        language: str
        subject: str
        body: str
        amount: Decimal
        invoice_ids: list[str]
        deadline: date | None

        def apply(self, account: AccountState) -> None:
            account.messages[self.message_id] = Message(
                message_id=self.message_id,
                kind=self.kind,
                channel=self.channel,
                queued_on=self.decided_on,
                subject=self.subject,
                recipient=self.recipient,
                body=self.body,
                invoice_ids=list(self.invoice_ids),
            )

    class MessageHeld(Event):
        """A message waits for a permitted contact time."""

        TOPIC = "huikuan:Account.MessageHeld"
        DATE_FIELD = "held_at"
        CHANGES_INVOICES = False
        message_id: str
        held_at: datetime
        until: datetime
        reason: str

        def apply(self, account: AccountState) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "held"
            message.next_attempt_at = self.until

    class MessageSent(Event):
        """A message went out, with the text that went: a demand states what is owed
        when it is sent, which may differ from what was queued."""

        TOPIC = "huikuan:Account.MessageSent"
        # v2 records the subject and body sent; v1 sent the text as queued.
        class_version = 2
        DATE_FIELD = "sent_at"
        CHANGES_INVOICES = False
        message_id: str
        sent_at: datetime
        attempt: int
        receipt: str | None
        subject: str | None = None
        body: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Nothing to add: a v1 event reads ``subject`` and ``body`` as their class
            # defaults (None: the queued text went). Adding them to its state would
            # change what the history shows of an event recorded long ago.
            pass

        def apply(self, account: AccountState) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            if self.subject is not None:
                message.subject = self.subject
            if self.body is not None:
                message.body = self.body
            message.status = "sent"
            message.sent_at = self.sent_at
            message.attempts = self.attempt
            message.next_attempt_at = None

    class MessageFailed(Event):
        """A delivery attempt failed; ``retry_at`` is None when no retry is left."""

        TOPIC = "huikuan:Account.MessageFailed"
        DATE_FIELD = "failed_at"
        CHANGES_INVOICES = False
        message_id: str
        failed_at: datetime
        attempt: int
        error: str
        retry_at: datetime | None

        def apply(self, account: AccountState) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "pending" if self.retry_at is not None else "failed"
            message.attempts = self.attempt
            message.next_attempt_at = self.retry_at

    class MessageCancelled(Event):
        """A queued message was not sent: what it demanded is no longer owed, or it
        no longer applies (the customer paid, disputed, or promised meanwhile)."""

        TOPIC = "huikuan:Account.MessageCancelled"
        DATE_FIELD = "cancelled_at"
        CHANGES_INVOICES = False
        message_id: str
        cancelled_at: datetime
        reason: str

        def apply(self, account: AccountState) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "cancelled"
            message.next_attempt_at = None

    def record_delivery_outcome(self, event_class: type[Event], **fields: Any) -> None:
        """Record what happened to a queued message (held, sent, failed)."""
        message_id = fields["message_id"]
        if message_id not in self.messages:
            raise NotFound(f"no message {message_id!r} on this account", field="message_id")
        self.trigger_event(event_class, **fields)

    # ---- proof of delivery (送达证据)

    class DemandDelivered(Fact):
        """A demand sent reached the debtor, with the proof (a courier's tracking number,
        a signed receipt): the limitation period of its invoices starts again from
        ``delivered_on`` (Civil Code art. 195), as the limitation plugin decides."""

        TOPIC = "huikuan:Account.DemandDelivered"
        KIND = "demand_delivery"
        ID_FIELD = "message_id"
        REQUEST_FIELDS = ("message_id", "delivered_on", "proof_ref", "method")
        DATE_FIELD = "delivered_on"
        message_id: str
        delivered_on: date
        proof_ref: str | None
        method: str | None

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            # Those whose deadline it may move: the invoices the demand is about.
            message = account.queued_message(self.message_id)
            return list(message.invoice_ids) if message is not None else ()

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.demand_deliveries = {
                **account.demand_deliveries,
                self.message_id: {"delivered_on": self.delivered_on,
                                  "proof_ref": self.proof_ref, "method": self.method},
            }

    def record_demand_delivery(
        self,
        *,
        message_id: str,
        delivered_on: date,
        proof_ref: str | None = None,
        method: str | None = None,
    ) -> bool:
        """Record that a demand sent reached the debtor. False if a repeat."""
        message = self.messages.get(message_id)
        if message is None:
            raise NotFound(f"no message {message_id!r} on this account", field="message_id")
        fields: dict[str, Any] = {"message_id": message_id, "delivered_on": delivered_on,
                                  "proof_ref": proof_ref, "method": method}
        if self._is_repeat(self.DemandDelivered, fields):
            return False
        if message.kind not in DEMANDS:
            msg = f"message {message_id!r} is a task ({message.kind}), not a demand to the debtor"
            raise Conflict(msg, field="message_id")
        if message.status != "sent" or message.sent_at is None:
            msg = (f"message {message_id!r} has not been sent (it is {message.status}); "
                   "proof of delivery follows the sending")
            raise Conflict(msg, field="message_id")
        sent_on = message.sent_at.astimezone(ZoneInfo(self.timezone)).date()
        if delivered_on < sent_on:
            msg = f"delivered_on {delivered_on} is before the message was sent ({sent_on})"
            raise InvalidCommand(msg, field="delivered_on")
        return self._record(self.DemandDelivered, **fields)
