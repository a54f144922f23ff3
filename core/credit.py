"""The credit check (前款不结，后货不送): the views give the figures, the plugins decide.

Adapters call :func:`credit_check`; the rule itself is the ``huikuan_credit_decision``
hook (the default: ``huikuan.plugins.credit``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from huikuan.core.plugin import CreditDecision, CreditPosition
from huikuan.core.policy import PluginError, PolicyHost


class CreditFigures(Protocol):
    """Whatever knows a customer's credit position: the views."""

    def credit_position(self, customer_id: str) -> CreditPosition: ...


def credit_check(views: CreditFigures, host: PolicyHost, customer_id: str,
                 amount: Decimal) -> dict[str, Any]:
    """May we ship ``amount`` more to the customer? ``allowed``, the ``reasons`` why not,
    and the figures they rest on: ``exposure``, ``credit_limit``, ``currency``."""
    position = views.credit_position(customer_id)
    found = host.first("huikuan_credit_decision", position=position, amount=amount)
    if found is None:  # the default plugin is always registered and always answers
        raise PluginError("no plugin answers huikuan_credit_decision")
    decision: CreditDecision = found[0]
    return {"allowed": decision.allowed, "reasons": list(decision.reasons),
            "exposure": position.exposure, "credit_limit": position.credit_limit,
            "currency": position.currency}
