"""The credit check (前款不结，后货不送): may we ship more to this customer on credit?

No while supply is on hold, when what the customer owes plus the new amount would
exceed the credit limit, or when the customer's risk grade is E. Every reason that
applies is given.
"""

from __future__ import annotations

from decimal import Decimal

from huikuan.core.plugin import CreditDecision, CreditPosition, Settings, hookimpl


@hookimpl(trylast=True)
def huikuan_credit_decision(
    position: CreditPosition, amount: Decimal, settings: Settings
) -> CreditDecision:
    reasons = []
    if position.supply_hold:
        reasons.append("supply is on hold until the overdue debt is paid")
    limit = position.credit_limit
    if limit is not None and position.exposure + amount > limit:
        reasons.append(f"exposure {position.exposure} + {amount} exceeds the credit limit {limit}")
    if position.risk_grade == "E":
        reasons.append("risk grade E")
    return CreditDecision(allowed=not reasons, reasons=tuple(reasons))
