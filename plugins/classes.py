"""Classes of receivable by days past due (货款分类).

    [classes]
    in_collection_from = 1     # 催收款
    doubtful_from = 91         # 准呆款
    bad_from = 181             # 呆款
    dead_from = 366            # 死款; a written-off invoice is dead too
"""

from __future__ import annotations

from datetime import date, timedelta

from huikuan.core.plugin import AccountView, InvoiceView, ReceivableClass, Settings, hookimpl

# The day past due from which each class starts, worst first.
DEFAULT_FROM: tuple[tuple[ReceivableClass, int], ...] = (
    ("dead", 366), ("bad", 181), ("doubtful", 91), ("in_collection", 1))


@hookimpl(trylast=True)
def huikuan_classify(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> ReceivableClass:
    if invoice.written_off > 0:
        return "dead"
    days = (as_of - invoice.due_on).days
    for name, from_day in _thresholds(settings):
        if days >= from_day:
            return name
    return "not_due"


def _thresholds(settings: Settings) -> list[tuple[ReceivableClass, int]]:
    section = settings.section("classes")
    return [(name, int(section.get(f"{name}_from", default))) for name, default in DEFAULT_FROM]


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # An open invoice changes class on the day it reaches the next threshold.
    days = [invoice.due_on + timedelta(days=from_day)
            for invoice in account.open_invoices() if invoice.written_off == 0
            for _, from_day in _thresholds(settings)]
    return min((d for d in days if d > as_of), default=None)
