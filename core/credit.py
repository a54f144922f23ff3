"""The credit check (前款不结，后货不送): the figures, the plugins decide, and the sale held to it.

Adapters call :func:`credit_check` for the question (``GET /customers/{id}/credit-check``);
the rule itself is the ``huikuan_credit_decision`` hook (the default:
``huikuan.plugins.credit``). With ``[credit] enforce = true`` an invoice is held to the
same rule when it is recorded (:func:`checked_invoice`): decided on the account as it
stands at that write, inside the ledger's save, so two sales at once cannot both pass
on the same room under the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, cast

from huikuan.core.account import Account
from huikuan.core.commands import IssueInvoice
from huikuan.core.errors import Conflict
from huikuan.core.handlers import handle
from huikuan.core.plugin import CreditDecision, CreditPosition, Grade, Settings
from huikuan.core.policy import PluginError, PolicyHost


class CreditFigures(Protocol):
    """Whatever knows a customer's credit position: the views."""

    def credit_position(self, customer_id: str) -> CreditPosition: ...


def decide(host: PolicyHost, position: CreditPosition, amount: Decimal) -> CreditDecision:
    """The plugins' answer: may ``amount`` more be sold on credit?"""
    found = host.first("huikuan_credit_decision", position=position, amount=amount)
    if found is None:  # the default plugin is always registered and always answers
        raise PluginError("no plugin answers huikuan_credit_decision")
    decision: CreditDecision = found[0]
    return decision


def credit_check(views: CreditFigures, host: PolicyHost, customer_id: str,
                 amount: Decimal) -> dict[str, Any]:
    """May we ship ``amount`` more to the customer? ``allowed``, the ``reasons`` why not,
    and the figures they rest on: ``exposure``, ``credit_limit``, ``currency``."""
    position = views.credit_position(customer_id)
    decision = decide(host, position, amount)
    return {"allowed": decision.allowed, "reasons": list(decision.reasons),
            "exposure": position.exposure, "credit_limit": position.credit_limit,
            "currency": position.currency}


# ---- the sale held to the check


class CreditRefused(Conflict):
    """The credit check refuses the sale (``[credit] enforce``): nothing was recorded."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("the credit check refuses this invoice: " + "; ".join(reasons),
                         field="amount")
        self.reasons = tuple(reasons)


def enforced(settings: Settings) -> bool:
    """``[credit] enforce``: is an invoice refused when the credit check says no?"""
    value = settings.section("credit").get("enforce", False)
    if not isinstance(value, bool):
        raise PluginError("plugins.toml: [credit] enforce is true or false")
    return value


def position_of(account: Account) -> CreditPosition:
    """The credit position from the account itself, as the views would give it once
    they have folded every event: what a write must decide on."""
    return CreditPosition(
        customer_id=account.customer_id, currency=account.currency,
        exposure=account.balance, credit_limit=account.credit_limit,
        supply_hold=account.supply_hold, risk_grade=account.risk["grade"],
        # The account records only the vocabulary's grades (Account.register checks).
        credit_grade=cast("Grade | None", account.credit_grade))


def checked_invoice(host: PolicyHost, command: IssueInvoice, *,
                    override_reason: str | None = None,
                    overridden_by: str | None = None) -> Callable[[Account], bool]:
    """The change that records ``command`` held to the credit check, for
    ``Ledger.change``: a repeat of an invoice recorded before is a repeat whatever the
    check would say now; a refused sale raises :class:`CreditRefused` unless
    ``override_reason`` is given (the caller has checked who may give one), and then
    the override is recorded beside the invoice, with the refusal's reasons."""

    def change(account: Account) -> bool:
        position = position_of(account)  # before the invoice, as credit-check asks
        if not handle(account, command):
            return False
        if not enforced(host.settings):
            return True
        decision = decide(host, position, account.invoices[command.invoice_id].amount)
        if decision.allowed:
            return True
        if override_reason is None:
            raise CreditRefused(decision.reasons)
        account.override_credit(invoice_id=command.invoice_id, reasons=list(decision.reasons),
                                override_reason=override_reason,
                                overridden_by=overridden_by)
        return True

    return change
