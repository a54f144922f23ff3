"""The account's event base classes: every event, a fact from the world, a decision.

What an event declares about itself (its business date, the invoices it changes, how a
fact is identified) is a class attribute, so it is never stored: an event's stored
state is its instance ``__dict__``, which holds its dataclass fields only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from huikuan.core.aggregate import ChainedAggregate

if TYPE_CHECKING:
    from huikuan.core.account.state import AccountState


class Event(ChainedAggregate.Event):
    """An event of a customer's account."""

    TOPIC = "huikuan:Account.Event"
    INVOICE_FIELD: ClassVar[str | None] = None
    """The field naming the one invoice the event changes, for an event about one."""
    CHANGES_INVOICES: ClassVar[bool] = True
    """False for an event that changes no invoice (a contact, a promise, a message…)."""

    def invoices_changed(self, account: AccountState) -> Collection[str] | None:
        """The invoices whose state this event changes, asked of the account as it
        stands just before the event; None when it may be any of them.

        Projections rewrite only these invoices' rows, so the cost of an event does
        not grow with the size of its account. None, the default for an event that
        does not say, is always safe: every invoice is rewritten.
        """
        if not self.CHANGES_INVOICES:
            return ()
        if self.INVOICE_FIELD is not None:
            return (getattr(self, self.INVOICE_FIELD),)
        return None


class Fact(Event):
    """A fact from the world, identified by a client-chosen (or derived) id.

    ``KIND`` and ``ID_FIELD`` name the fact for idempotency; ``REQUEST_FIELDS``
    are what the client asked for, compared when the same id is posted again.
    """

    TOPIC = "huikuan:Account.Fact"
    BODY_REASON = True  # a fact's own reason field is the request's reason
    KIND: ClassVar[str] = ""
    ID_FIELD: ClassVar[str] = ""
    REQUEST_FIELDS: ClassVar[tuple[str, ...]] = ()

    def apply(self, account: AccountState) -> None:
        key = f"{self.KIND}:{getattr(self, self.ID_FIELD)}"
        account.requests[key] = {f: getattr(self, f) for f in self.REQUEST_FIELDS}
        account.review_needed = True


class Decision(Event):
    """A decision of the daily cycle, with who decided and on what it was based."""

    TOPIC = "huikuan:Account.Decision"
    DATE_FIELD = "decided_on"
    decided_on: date
    plugin: str
    plugin_version: str
    based_on: dict[str, Any]
