"""Message delivery: the outbox kept in the event store, from queued to sent.

A message is queued by a decision of the daily cycle (MessageQueued, a Decision); it is
here with what then becomes of it: held, sent, failed or cancelled.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Decision, Event
from huikuan.core.account.records import Message
from huikuan.core.account.state import AccountState
from huikuan.core.errors import NotFound


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
