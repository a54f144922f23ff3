"""The customer account: one event-sourced aggregate per customer (专案档案, the case file).

The account holds the customer's terms and every receivable, payment, credit, dispute,
promise, plan and contact. Command methods check a command against the account and,
if it is acceptable, trigger one past-tense event; the event's ``apply`` is the only
place state changes, and it runs again, unchanged, whenever the account is replayed.
So ``apply`` bodies never read a clock, call a plugin or do I/O, and they never
validate: a rule that changes later must not stop old events from replaying.

Facts from the world (an invoice issued, a payment received) carry a business date
(``occurred_on``) besides the time they were recorded. Decisions of the daily cycle
(stage entered, message queued…) also record which plugin decided, its version and
what the decision was based on, so a replay never asks a plugin again.

The code is split by concern, each a class holding its events and the commands that
record them, combined here into the one aggregate: one account per customer remains
one consistency boundary. See records, events and state for what they share.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from huikuan.core.account.casefile import CaseFile
from huikuan.core.account.cases import Cases
from huikuan.core.account.charges import Charges
from huikuan.core.account.decisions import Decisions
from huikuan.core.account.delivery import Delivery
from huikuan.core.account.disputes import Disputes
from huikuan.core.account.master import MasterData
from huikuan.core.account.pauses import Pauses
from huikuan.core.account.payments import Payments
from huikuan.core.account.receivables import Receivables
from huikuan.core.account.records import GRADES, account_id
from huikuan.core.account.state import AccountState, same_request
from huikuan.core.account.statements import Statements
from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import InvalidCommand
from huikuan.core.money import money


class Account(MasterData, Receivables, Payments, Disputes, CaseFile, Pauses, Cases,
              Decisions, Charges, Statements, Delivery, ChainedAggregate):
    """A customer's account: its terms, receivables and the whole case file.

    Each concern (a base class) holds its events and commands; here are the opening of
    the account and its replay.
    """

    TOPIC = "huikuan:Account"

    class Created(ChainedAggregate.Created):
        # The library's generic "created" event; never triggered (accounts are opened
        # by Registered), named only so no two event classes share a topic.
        TOPIC = "huikuan:Account.Created"

    # ---- registration

    class Registered(ChainedAggregate.Created):
        """The customer's account was opened with its terms (客户建档)."""

        TOPIC = "huikuan:Account.Registered"
        # v2 added the postal address; v1 registrations had none.
        class_version = 2
        DATE_FIELD = "registered_on"
        customer_id: str
        name: str
        currency: str
        payment_terms_days: int
        credit_limit: Decimal | None
        credit_grade: str | None
        timezone: str
        collector: str | None
        contacts: list[dict[str, Any]]
        tax_id: str | None
        registered_on: date
        tags: list[str]
        language: str
        address: dict[str, Any] | None

        REQUEST_FIELDS: ClassVar[tuple[str, ...]] = (
            "customer_id", "name", "currency", "payment_terms_days", "credit_limit",
            "credit_grade", "timezone", "collector", "contacts", "tax_id", "tags", "language",
        )

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["address"] = None

        def apply(self, account: AccountState) -> None:
            account.customer_id = self.customer_id
            account.name = self.name
            account.currency = self.currency
            account.payment_terms_days = self.payment_terms_days
            account.credit_limit = self.credit_limit
            account.credit_grade = self.credit_grade
            account.timezone = self.timezone
            account.collector = self.collector
            account.contacts = [dict(c) for c in self.contacts]
            account.tax_id = self.tax_id
            account.registered_on = self.registered_on
            account.tags = list(self.tags)
            account.language = self.language
            if self.address is not None:
                # Only when given: an account without one keeps the class's None, as do
                # the snapshots taken before addresses existed (audit compares the two).
                account.address = dict(self.address)
            request = {f: getattr(self, f) for f in self.REQUEST_FIELDS}
            if self.address is not None:  # (kept as before addresses existed when none)
                request["address"] = dict(self.address)
            account.requests["customer:" + self.customer_id] = request

    def __init__(self) -> None:
        # Written here, not only inherited: the library makes an aggregate class a
        # dataclass, which would give it a generated __init__ in place of the state's.
        super().__init__()

    @classmethod
    def register(
        cls,
        *,
        customer_id: str,
        name: str,
        currency: str,
        registered_on: date,
        payment_terms_days: int = 30,
        credit_limit: Decimal | None = None,
        credit_grade: str | None = None,
        timezone: str = "Asia/Shanghai",
        collector: str | None = None,
        contacts: list[dict[str, Any]] | None = None,
        tax_id: str | None = None,
        tags: list[str] | None = None,
        language: str = "zh-CN",
        address: dict[str, Any] | None = None,
    ) -> Account:
        """Open the account of a new customer."""
        if credit_limit is not None:
            credit_limit = money(credit_limit, currency, field="credit_limit", allow_zero=True)
        if payment_terms_days < 0:
            raise InvalidCommand("payment terms cannot be negative", field="payment_terms_days")
        if credit_grade is not None and credit_grade not in GRADES:
            raise InvalidCommand("credit grade is one of A–E", field="credit_grade")
        try:
            ZoneInfo(timezone)
        except Exception:  # ZoneInfo raises several types for a bad key
            msg = f"{timezone!r} is not an IANA time zone"
            raise InvalidCommand(msg, field="timezone") from None
        return cls._create(
            cls.Registered,
            id=account_id(customer_id),
            customer_id=customer_id,
            name=name,
            currency=currency,
            payment_terms_days=payment_terms_days,
            credit_limit=credit_limit,
            credit_grade=credit_grade,
            timezone=timezone,
            collector=collector,
            contacts=[dict(c) for c in contacts or []],
            tax_id=tax_id,
            registered_on=registered_on,
            tags=sorted(set(tags or [])),
            language=language,
            address=dict(address) if address is not None else None,
        )

    def is_same_registration(self, request: dict[str, Any]) -> bool:
        """Does ``request`` repeat the registration already recorded?"""
        if request.get("credit_limit") is not None:
            request = {
                **request,
                "credit_limit": money(
                    request["credit_limit"], self.currency, field="credit_limit", allow_zero=True
                ),
            }
        return same_request(self.requests["customer:" + self.customer_id], request)

    # ---- history

    @classmethod
    def replay(cls, events: list[Any]) -> Account | None:
        """Fold a selection of this account's events (say, those up to a business date).

        Unlike the repository, versions may have gaps: the events left out are simply
        not applied. The registration must be among the events.
        """
        account: Account | None = None
        for event in events:
            if account is None:
                account = event.mutate(None)
            else:
                event.apply(account)
                account.version = event.originator_version
                account.modified_on = event.timestamp
                account.chain_head = event.chain_hash
        return account
