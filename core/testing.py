"""Build the values hooks receive, to unit-test a plugin with no database.

    from datetime import date
    from huikuan.core.testing import account_view, invoice_view, settings

    import my_policy

    def test_public_bodies_get_a_call_first():
        account = account_view(tags=["government"],
                               invoices=[invoice_view(due_on=date(2026, 1, 31))])
        decision = my_policy.huikuan_escalation(account, date(2026, 2, 3),
                                                settings(my_policy={"days": 3}))
        assert decision.stage == "notice"

Each builder takes the value's fields by name and gives the rest a sensible default:
a CNY customer ``C-1`` on 30-day terms, grade A, on no step of the ladder, with
nothing recorded; an invoice ``I-1`` of 1000.00 issued on 2026-01-01 and due 30 days
later, all of it open. Amounts may be given as strings (``"1250.00"``) and sequences
as lists. The values are the ones huikuan gives a hook, so what a test shows holds in
the cycle.

To ask hooks as huikuan does (your plugin before the built-in ones, the first answer
or all of them as the hook says, with the name and version of the plugin that
decided), build a host with :func:`policy_host`: it reads no plugins.toml and opens
no store.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from huikuan.core.plugin import (
    AccountView,
    CaseView,
    ContactView,
    CreditPosition,
    FilingView,
    InstallmentView,
    InvoiceView,
    MessageDraft,
    MessageRequest,
    MessageView,
    OutgoingMessage,
    PauseView,
    PaymentView,
    PlanView,
    PromiseView,
    ReportedSignal,
    Settings,
)
from huikuan.core.policy import DEFAULT_PLUGINS, PolicyHost

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DAY = date(2026, 1, 1)
"""The date the defaults start from: invoices are issued on it."""

_Value = TypeVar("_Value", bound="DataclassInstance")


def _built(value: _Value, overrides: Mapping[str, Any], amounts: Iterable[str] = ()) -> _Value:
    """``value`` with ``overrides``: amounts made decimals, lists made tuples."""
    given = {}
    for name, field_value in overrides.items():
        if name in amounts and isinstance(field_value, str | int):
            field_value = Decimal(field_value)
        elif isinstance(field_value, list):
            field_value = tuple(field_value)
        given[name] = field_value
    return replace(value, **given)


def settings(sections: Mapping[str, Any] | None = None, *,
             env: Mapping[str, str] | None = None, **tables: Any) -> Settings:
    """plugins.toml as a plugin sees it: ``settings(escalation={"exclude_customers": ["C-9"]})``
    or ``settings({"risk": {...}})``; ``env`` is the environment (empty by default)."""
    return Settings(sections={**(sections or {}), **tables}, env=dict(env or {}))


def invoice_view(**fields: Any) -> InvoiceView:
    """An invoice: ``I-1``, 1000.00 issued on 2026-01-01, due 30 days later, all open.
    ``open_amount`` defaults to ``amount``, ``due_on`` to ``issued_on`` plus 30 days,
    ``movements`` to ``open_amount`` on ``issued_on`` (give them for an open amount that
    changes by date, e.g. ``movements=[(issued_on, amount), (paid_on, -paid)]``). A
    write-off is ``written_off`` with ``write_offs=[(written_off_on, amount)]`` and its
    movement."""
    amount = Decimal(fields.get("amount", "1000.00"))
    issued_on: date = fields.get("issued_on", DAY)
    default = InvoiceView(
        invoice_id="I-1", amount=amount, open_amount=amount, disputed_amount=Decimal("0.00"),
        issued_on=issued_on, due_on=issued_on + timedelta(days=30),
        receivable_class="not_due", interest=Decimal("0.00"), interest_accrued_to=None,
        written_off=Decimal("0.00"), delivered_on=None, acknowledged_on=None,
    )
    built = _built(default, fields, ("amount", "open_amount", "disputed_amount", "interest",
                                     "written_off", "recovered"))
    if "movements" in fields:
        return built
    # Without dated movements, open at what it shows from its issue date (as huikuan's
    # own view of an invoice nothing has moved yet).
    return replace(built, movements=((built.issued_on, built.open_amount),))


def payment_view(**fields: Any) -> PaymentView:
    """A payment ``P-1`` of 1000.00 received on 2026-01-31. ``allocations`` maps invoice
    ids to amounts; ``unapplied`` defaults to what they leave of ``amount``."""
    amount = Decimal(fields.get("amount", "1000.00"))
    allocations = {k: Decimal(v) for k, v in dict(fields.get("allocations", {})).items()}
    default = PaymentView(
        payment_id="P-1", amount=amount, received_on=DAY + timedelta(days=30),
        allocations=allocations, unapplied=amount - sum(allocations.values(), Decimal(0)),
        bounced_on=None,
    )
    return _built(default, {**fields, "allocations": allocations}, ("amount", "unapplied"))


def promise_view(**fields: Any) -> PromiseView:
    """A pending promise ``PR-1`` made on 2026-02-01 to pay 1000.00 by 2026-02-15."""
    default = PromiseView(promise_id="PR-1", amount=Decimal("1000.00"),
                          due_on=date(2026, 2, 15), made_on=date(2026, 2, 1), written=False,
                          status="pending")
    return _built(default, fields, ("amount",))


def plan_view(*installments: tuple[date, str | Decimal], **fields: Any) -> PlanView:
    """An active payment plan ``PL-1`` agreed on 2026-02-01, with ``installments`` given
    as ``(due_on, amount)`` pairs in order (numbered from 1)."""
    default = PlanView(
        plan_id="PL-1", agreed_on=date(2026, 2, 1), status="active", missed=(),
        installments=tuple(InstallmentView(number=n, due_on=due_on, amount=Decimal(amount))
                           for n, (due_on, amount) in enumerate(installments, start=1)),
    )
    return _built(default, fields)


def contact_view(**fields: Any) -> ContactView:
    """An outbound phone call that reached the customer at 10:00 UTC on 2026-02-01.
    ``occurred_on`` defaults to the date of ``occurred_at``."""
    occurred_at: datetime = fields.get("occurred_at", datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
    default = ContactView(occurred_at=occurred_at, occurred_on=occurred_at.date(),
                          channel="phone", direction="outbound", outcome="reached")
    return _built(default, fields)


def reported_signal(**fields: Any) -> ReportedSignal:
    """A danger sign a collector reported: a lawsuit, observed on 2026-02-01."""
    return _built(ReportedSignal(signal="lawsuit", observed_on=date(2026, 2, 1), note=None),
                  fields)


def message_view(**fields: Any) -> MessageView:
    """A notice by e-mail ``M-1``, queued on 2026-02-01 and not yet tried."""
    default = MessageView(message_id="M-1", kind="notice", channel="email", status="pending",
                          queued_on=date(2026, 2, 1), attempts=0)
    return _built(default, fields)


def filing_view(**fields: Any) -> FilingView:
    """A suit (``litigation``) filed on 2026-06-01 for the whole account; give
    ``invoice_ids`` for a claim on some invoices only, ``kind="arbitration"`` for an
    arbitration.

    .. versionadded:: 0.3
    """
    return _built(FilingView(kind="litigation", filed_on=date(2026, 6, 1)), fields)


def pause_view(**fields: Any) -> PauseView:
    """A dunning stop ``P-1`` of the whole account from 2026-02-01 through 2026-02-28;
    give ``invoice_ids`` to stop some invoices only, ``ended_on`` for one ended early.

    .. versionadded:: 0.3
    """
    default = PauseView(pause_id="P-1", reason="customer's audit", from_on=date(2026, 2, 1),
                        until_on=date(2026, 2, 28))
    return _built(default, fields)


def case_view(**fields: Any) -> CaseView:
    """A hand-off ``H-1`` of ``I-1`` to an agency on 2026-03-01, not yet updated; give
    ``status="returned"`` and ``returned_on`` for one back on the ladder.

    .. versionadded:: 0.3
    """
    default = CaseView(handoff_id="H-1", to="agency", handed_on=date(2026, 3, 1),
                       invoice_ids=("I-1",))
    return _built(default, fields, ("recovered",))


def account_view(**fields: Any) -> AccountView:
    """A customer's account: ``C-1``, CNY, 30-day terms, no credit limit, Asia/Shanghai,
    zh-CN, stage ``none``, risk 0 (grade A), and nothing recorded (no invoices, payments,
    promises, plans, contacts, messages, filings, stops or cases) unless given."""
    default = AccountView(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY", payment_terms_days=30,
        credit_limit=None, credit_grade=None, timezone="Asia/Shanghai", collector=None,
        tags=(), language="zh-CN", contacts=(), stage="none", stage_entered_on=None,
        supply_hold=False, risk_score=0, risk_grade="A", risk_signals=(), invoices=(),
        payments=(), promises=(), plans=(), contact_log=(), reported_signals=(),
        acknowledgments=(), messages=(),
    )
    return _built(default, fields, ("credit_limit",))


def message_request(**fields: Any) -> MessageRequest:
    """What an escalation step asks for: a notice by e-mail about no invoice in particular."""
    return _built(MessageRequest(kind="notice", channel="email"), fields)


def message_draft(**fields: Any) -> MessageDraft:
    """What a renderer is asked to write: a notice ``M-1`` by e-mail in zh-CN on 2026-02-01.
    ``amount`` defaults to the undisputed open amount of ``invoices``."""
    invoices = tuple(fields.get("invoices", ()))
    default = MessageDraft(
        message_id="M-1", kind="notice", channel="email", language="zh-CN",
        amount=sum((i.undisputed_open for i in invoices), Decimal("0.00")), currency="CNY",
        invoices=invoices, deadline=None, as_of=date(2026, 2, 1),
    )
    return _built(default, fields, ("amount",))


def outgoing_message(**fields: Any) -> OutgoingMessage:
    """A notice ``M-1`` for ``C-1`` by e-mail to ar@customer.example, first attempt."""
    default = OutgoingMessage(message_id="M-1", customer_id="C-1", kind="notice",
                              channel="email", recipient="ar@customer.example",
                              subject="付款通知", body="", attempt=1)
    return _built(default, fields)


def credit_position(**fields: Any) -> CreditPosition:
    """``C-1``'s credit: CNY, nothing owed, no limit, supply not held, risk grade A."""
    default = CreditPosition(customer_id="C-1", currency="CNY", exposure=Decimal("0.00"),
                             credit_limit=None, supply_hold=False, risk_grade="A")
    return _built(default, fields, ("exposure", "credit_limit"))


def policy_host(plugins: Mapping[str, object] | None = None, *,
                settings: Settings | None = None,
                built_in: Iterable[str] | None = None) -> PolicyHost:
    """A policy host as huikuan builds one, with ``plugins`` (name → module or object)
    registered after the built-in ones, so asked before them.

    ``built_in`` names the built-in plugins that run (by default all of them, as with
    the plugins.toml shipped); the rules that were core's before 0.2 (``demands``,
    ``recipients``, ``credit``) run always. Installed entry points are not loaded: the
    test says which plugins it means. A plugin's version is its ``__version__``.
    """
    settings = settings or Settings()
    names = list(DEFAULT_PLUGINS if built_in is None else built_in)
    sections = {**settings.sections,
                "huikuan": {**settings.section("huikuan"), "plugins": names}}
    return PolicyHost(Settings(sections=sections, env=settings.env),
                      extra_plugins=list((plugins or {}).items()), load_entry_points=False)


__all__ = [
    "DAY", "account_view", "case_view", "contact_view", "credit_position", "filing_view",
    "invoice_view",
    "message_draft",
    "message_request", "message_view", "outgoing_message", "pause_view", "payment_view",
    "plan_view",
    "policy_host", "promise_view", "reported_signal", "settings",
]
